"""What the proto3 JSON writer and readers share: the plan cache and facts about types.

``PlanCache`` builds one conversion plan per message descriptor, once, thread-safe and safe for
recursive messages; the writer and both plan sets of the reader subclass it. Next to it
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

from ._wkt import MappingProblem

Convert = Callable[[Any], Any]

FD = FieldDescriptor
UPPER = re.compile(r"[A-Z]")
DELEGATED = frozenset(
    ("google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue")
)
WRAPPERS = frozenset(
    f"google.protobuf.{name}Value"
    for name in ("Double", "Float", "Int64", "UInt64", "Int32", "UInt32", "Bool", "String", "Bytes")
)
ANY = "google.protobuf.Any"
# Types whose JSON is not an object of their fields: inside an Any they go under "value".
CUSTOM_JSON = (
    DELEGATED
    | WRAPPERS
    | {
        ANY,
        "google.protobuf.Timestamp",
        "google.protobuf.Duration",
        "google.protobuf.FieldMask",
    }
)


_BUILD_LOCK = threading.RLock()


class PlanCache:
    """One conversion plan per descriptor, built once, thread-safe, recursion-safe."""

    def __init__(self) -> None:
        # Keyed by descriptor, not name: another pool may reuse a full name.
        self._plans: dict[Descriptor, Convert] = {}

    def message(self, desc: Descriptor) -> Convert:
        plan = self._plans.get(desc)
        if plan is None:
            with _BUILD_LOCK:
                plan = self._plans.get(desc)
                if plan is None:
                    self._plans[desc] = self._forward(desc)  # what recursive fields call
                    plan = self._plans[desc] = self._build(desc)
        return plan

    def _forward(self, desc: Descriptor) -> Convert:
        def forward(value: Any) -> Any:
            with _BUILD_LOCK:  # another thread may still be building the plan
                plan = self._plans[desc]
            return plan(value)

        return forward

    def _build(self, desc: Descriptor) -> Convert:
        raise NotImplementedError


def any_descriptor(type_url: str) -> Descriptor:
    """The message type an Any's URL names, from the default pool (as json_format does)."""
    try:
        return descriptor_pool.Default().FindMessageTypeByName(type_url.rpartition("/")[2])
    except KeyError as exc:
        raise MappingProblem("Any of a type unknown to this process", type_url) from exc


def is_map(desc: Descriptor) -> bool:
    return bool(desc.GetOptions().map_entry)


def convert_all(item: Convert, values: list[Any]) -> list[Any]:
    """``item`` of each value; a failure names the element (``[3]``).

    Raises:
        MappingProblem: an element does not convert.
    """
    try:
        return [item(value) for value in values]
    except MappingProblem:
        for index, value in enumerate(values):  # only on failure: find the element
            try:
                item(value)
            except MappingProblem as problem:
                raise problem.within(f"[{index}]")  # noqa: B904 (re-raised)
        raise  # pragma: no cover - the loop above re-raises
