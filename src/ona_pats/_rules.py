"""The schema's buf.validate rules, compiled once into checks on messages.

``proto/`` carries production's field rules; ``scripts/generate`` writes them into
``_gen/gitpod/v1/validate_rules.py``. Both the client (before it sends) and the embedded server
(on every request) check messages here, and protovalidate's own reading of the same rules is
held to ours by ``tests/test_rules_agreement.py``. A violation names the field path, the rule
id and the message as protovalidate does (``filter.user_ids[3]``, ``string.uuid``, ``must be a
valid UUID``).

Only the rules the schema uses are enforced; importing this module fails on any other, so a rule
added to ``proto/`` cannot be silently ignored.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from ._exceptions import ValidationError
from ._json._wkt import parse_duration
from ._schema import identity_pb2, pagination_pb2, user_pb2, validate_rules

M = TypeVar("M", bound=Message)
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_NS = 10**9
_INTEGERS = {"int32", "int64", "uint32", "uint64", "sint32", "sint64"}
_INTEGERS |= {"fixed32", "fixed64", "sfixed32", "sfixed64"}
_WORDS = {"gte": "greater than or equal to", "lte": "less than or equal to"}


class SchemaRuleError(Exception):
    """The schema holds a buf.validate rule that this module does not enforce."""


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule: where, which rule, and protovalidate's message for it."""

    field: str
    rule: str
    message: str


#: A check of one value: ``None`` when it holds, else ``(rule id, message)``.
_Check = Callable[[Any], "tuple[str, str] | None"]


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    required: bool
    ignore_zero: bool
    checks: tuple[_Check, ...]
    items: tuple[_Check, ...]
    repeated: bool
    message: bool


def check(message: Message) -> None:
    """Raise :class:`ValidationError` for the first rule ``message`` breaks.

    Raises:
        ValidationError: ``field`` is the path, ``rule`` the rule id.
    """
    found = violations(message, first=True)
    if found:
        raise ValidationError(found[0].field, found[0].message, rule=found[0].rule)


def violations(message: Message, *, first: bool = False) -> list[Violation]:
    """Every rule ``message`` breaks (only the first with ``first=True``), nested ones too."""
    out: list[Violation] = []
    _walk(message, "", out, first)
    return out


def _walk(message: Message, prefix: str, out: list[Violation], first: bool) -> None:
    for spec in _PLANS.get(message.DESCRIPTOR.full_name, ()):
        path = prefix + spec.name
        if spec.repeated:
            values = getattr(message, spec.name)
            _apply(spec.checks, values, path, out)
            if spec.required and not values:
                out.append(Violation(path, "required", "value is required"))
            for index, item in enumerate(values):
                _apply(spec.items, item, f"{path}[{index}]", out)
                if spec.message:
                    _walk(item, f"{path}[{index}].", out, first)
        elif spec.message:
            if not message.HasField(spec.name):
                if spec.required:
                    out.append(Violation(path, "required", "value is required"))
                continue
            value = getattr(message, spec.name)
            _apply(spec.checks, value, path, out)
            _walk(value, path + ".", out, first)
        else:
            value = getattr(message, spec.name)
            if spec.required and not value:
                out.append(Violation(path, "required", "value is required"))
            elif value or not spec.ignore_zero:
                _apply(spec.checks, value, path, out)
        if first and out:
            return


def _apply(checks: tuple[_Check, ...], value: Any, path: str, out: list[Violation]) -> None:
    for one in checks:
        broken = one(value)
        if broken is not None:
            out.append(Violation(path, *broken))


# --- compiling the generated rules ----------------------------------------------------------


def _uuid(value: str) -> tuple[str, str] | None:
    if not value:
        return "string.uuid_empty", "value is empty, which is not a valid UUID"
    return None if _UUID.fullmatch(value) else ("string.uuid", "must be a valid UUID")


def _range(kind: str, params: Mapping[str, object], where: str) -> _Check:
    """An inclusive range check as protovalidate words it (``int32.gte_lte``)."""
    names = [name for name in ("gte", "lte") if name in params]
    if not names or set(params) - set(names):
        raise SchemaRuleError(f"{where}: rule {kind} {dict(params)} is not enforced by ona_pats")
    bound = _duration_ns if kind == "duration" else int
    low, high = (bound(str(params[n])) if n in params else None for n in ("gte", "lte"))
    if low is not None and high is not None and low > high:
        raise SchemaRuleError(f"{where}: an exclusive range (lower bound above the upper)")
    broken = (
        f"{kind}.{'_'.join(names)}",
        "must be " + " and ".join(f"{_WORDS[name]} {params[name]}" for name in names),
    )
    to_int: Callable[[Any], int] = _message_ns if kind == "duration" else int

    def in_range(value: Any) -> tuple[str, str] | None:
        number = to_int(value)
        too_low = low is not None and number < low
        return broken if too_low or (high is not None and number > high) else None

    return in_range


def _duration_ns(text: str) -> int:
    seconds, nanos = parse_duration(text)
    return seconds * _NS + nanos


def _message_ns(value: Any) -> int:
    return int(value.seconds) * _NS + int(value.nanos)


def _defined_only(numbers: frozenset[int]) -> _Check:
    broken = ("enum.defined_only", "value must be one of the defined enum values")
    return lambda value: None if value in numbers else broken


def _count(name: str, bound: int) -> _Check:
    if name == "min_items":
        few = ("repeated.min_items", f"must contain at least {bound} item(s)")
        return lambda values: few if len(values) < bound else None
    many = ("repeated.max_items", f"must contain no more than {bound} item(s)")
    return lambda values: many if len(values) > bound else None


def _value_checks(
    field: FieldDescriptor, rules: Mapping[str, Any], where: str
) -> tuple[_Check, ...]:
    """The checks of a field's (or a repeated field's items') type rules."""
    checks: list[_Check] = []
    for kind, params in rules.items():
        if kind in ("required", "ignore"):
            continue
        if kind == "string" and params == {"uuid": True}:
            checks.append(_uuid)
        elif kind in _INTEGERS or kind == "duration":
            checks.append(_range(kind, params, where))
        elif kind == "enum" and params == {"defined_only": True} and field.enum_type:
            checks.append(_defined_only(frozenset(field.enum_type.values_by_number)))
        else:
            raise SchemaRuleError(f"{where}: rule {kind} {params} is not enforced by ona_pats")
    return tuple(checks)


def _compile_field(field: FieldDescriptor, rules: Mapping[str, Any], where: str) -> _Field:
    ignore = rules.get("ignore", "IGNORE_UNSPECIFIED")
    if ignore not in ("IGNORE_UNSPECIFIED", "IGNORE_IF_ZERO_VALUE"):
        raise SchemaRuleError(f"{where}: ignore {ignore} is not enforced by ona_pats")
    items: tuple[_Check, ...] = ()
    if field.is_repeated:
        spec = dict(rules.get("repeated", {}))
        items = _value_checks(field, spec.pop("items", {}), f"{where}[]")
        counts = [n for n in ("min_items", "max_items") if n in spec]
        checks = tuple(_count(name, int(str(spec.pop(name)))) for name in counts)
        if spec or set(rules) - {"repeated", "required", "ignore"}:
            raise SchemaRuleError(f"{where}: rules {rules} are not enforced by ona_pats")
    else:
        checks = _value_checks(field, rules, where)
    message = field.type == FieldDescriptor.TYPE_MESSAGE
    required, ignore_zero = bool(rules.get("required")), ignore == "IGNORE_IF_ZERO_VALUE"
    return _Field(field.name, required, ignore_zero, checks, items, field.is_repeated, message)


def _compile(
    rules: Mapping[str, Mapping[str, Mapping[str, Any]]], messages: list[Descriptor]
) -> dict[str, tuple[_Field, ...]]:
    """Each message's field plans: its fields with rules, and those leading to some."""
    by_name = {message.full_name: message for message in messages}
    unknown = set(rules) - set(by_name)
    if unknown:
        raise SchemaRuleError(f"rules for messages ona_pats does not have: {sorted(unknown)}")
    holds: dict[str, bool] = {}

    def leads_to_rules(field: FieldDescriptor) -> bool:
        nested = field.message_type
        if nested is None or nested.full_name not in by_name:
            return False
        if nested.full_name not in holds:
            holds[nested.full_name] = False  # a message does not hold rules through itself
            holds[nested.full_name] = nested.full_name in rules or any(
                leads_to_rules(inner) for inner in nested.fields
            )
        return holds[nested.full_name]

    plans: dict[str, tuple[_Field, ...]] = {}
    for message in messages:
        own = rules.get(message.full_name, {})
        plan = tuple(
            _compile_field(field, own.get(field.name, {}), f"{message.full_name}.{field.name}")
            for field in message.fields
            if field.name in own or leads_to_rules(field)
        )
        if plan:
            plans[message.full_name] = plan
    return plans


def _all_messages() -> list[Descriptor]:
    found: list[Descriptor] = []
    pending = [
        message
        for module in (pagination_pb2, identity_pb2, user_pb2)
        for message in module.DESCRIPTOR.message_types_by_name.values()
    ]
    while pending:
        message = pending.pop()
        found.append(message)
        pending += message.nested_types
    return found


_PLANS = _compile(validate_rules.FIELD_RULES, _all_messages())


def rule(message: Descriptor, field: str, *path: str) -> object:
    """A rule's parameter as the schema states it, for the code that needs the number itself.

    ``rule(PaginationRequest.DESCRIPTOR, "page_size", "int32", "lte") == 100``.

    Raises:
        KeyError: the schema has no such rule.
    """
    value: object = validate_rules.FIELD_RULES[message.full_name][field]
    for key in path:
        if not isinstance(value, dict):
            raise KeyError(key)
        value = value[key]
    return value


def duration_rule(message: Descriptor, field: str, bound: str) -> timedelta:
    """A Duration field's bound (``"lte"``, ...) as a ``timedelta``."""
    seconds, nanos = parse_duration(str(rule(message, field, "duration", bound)))
    return timedelta(seconds=seconds, microseconds=nanos // 1000)
