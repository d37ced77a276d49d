"""What the proto3 JSON writer and readers share: the plan cache and facts about types.

``_PlanCache`` builds one conversion plan per message descriptor, once, thread-safe and safe for
recursive messages; ``_json_write``, ``_json_read`` and ``_json_fast`` subclass it. Next to it
live the well-known type names whose JSON is not an object of their fields, and the descriptor
lookups (an Any's type URL, map entries) that both directions need.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import Any

from google.protobuf import descriptor_pool
from google.protobuf.descriptor import Descriptor, FieldDescriptor

from ._timestamps import MappingProblem

_Convert = Callable[[Any], Any]

_FD = FieldDescriptor
_UPPER = re.compile(r"[A-Z]")
_DELEGATED = frozenset(
    ("google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue")
)
_WRAPPERS = frozenset(
    f"google.protobuf.{name}Value"
    for name in ("Double", "Float", "Int64", "UInt64", "Int32", "UInt32", "Bool", "String", "Bytes")
)
_ANY = "google.protobuf.Any"
# Types whose JSON is not an object of their fields: inside an Any they go under "value".
_CUSTOM_JSON = (
    _DELEGATED
    | _WRAPPERS
    | {
        _ANY,
        "google.protobuf.Timestamp",
        "google.protobuf.Duration",
        "google.protobuf.FieldMask",
    }
)


_BUILD_LOCK = threading.RLock()


class _PlanCache:
    """One conversion plan per descriptor, built once, thread-safe, recursion-safe."""

    def __init__(self) -> None:
        # Keyed by descriptor, not name: another pool may reuse a full name.
        self._plans: dict[Descriptor, _Convert] = {}

    def message(self, desc: Descriptor) -> _Convert:
        plan = self._plans.get(desc)
        if plan is None:
            with _BUILD_LOCK:
                plan = self._plans.get(desc)
                if plan is None:
                    self._plans[desc] = self._forward(desc)  # what recursive fields call
                    plan = self._plans[desc] = self._build(desc)
        return plan

    def _forward(self, desc: Descriptor) -> _Convert:
        def forward(value: Any) -> Any:
            with _BUILD_LOCK:  # another thread may still be building the plan
                plan = self._plans[desc]
            return plan(value)

        return forward

    def _build(self, desc: Descriptor) -> _Convert:
        raise NotImplementedError


def _any_descriptor(type_url: str) -> Descriptor:
    """The message type an Any's URL names, from the default pool (as json_format does)."""
    try:
        return descriptor_pool.Default().FindMessageTypeByName(type_url.rpartition("/")[2])
    except KeyError as exc:
        raise MappingProblem("Any of a type unknown to this process", type_url) from exc


def _is_map(desc: Descriptor) -> bool:
    return bool(desc.GetOptions().map_entry)
