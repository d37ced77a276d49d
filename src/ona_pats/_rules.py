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
_BOUNDS = ("gt", "gte", "lt", "lte")
_WORDS = {"gt": "greater than", "gte": "greater than or equal to"}
_WORDS |= {"lt": "less than", "lte": "less than or equal to"}


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


def _bounds(kind: str, params: Mapping[str, object], where: str) -> _Check | None:
    """A range check as protovalidate words it (``int32.gte_lte``), or ``None`` if unbounded."""
    given = {name: params[name] for name in _BOUNDS if name in params}
    if not given:
        return None
    if ("gt" in given and "gte" in given) or ("lt" in given and "lte" in given):
        raise SchemaRuleError(f"{where}: both an exclusive and an inclusive bound")
    if kind == "duration":
        limits = {name: _duration_ns(str(text)) for name, text in given.items()}
    else:
        limits = {name: int(str(value)) for name, value in given.items()}
    low = next((name for name in ("gt", "gte") if name in limits), None)
    high = next((name for name in ("lt", "lte") if name in limits), None)
    if low and high and limits[low] > limits[high]:
        raise SchemaRuleError(f"{where}: an exclusive range (lower bound above the upper)")
    rule = f"{kind}.{'_'.join(name for name in (low, high) if name)}"
    message = "must be " + " and ".join(
        f"{_WORDS[name]} {given[name]}" for name in (low, high) if name
    )
    lo = limits[low] if low else None
    hi = limits[high] if high else None
    strict_lo, strict_hi = low == "gt", high == "lt"
    to_int: Callable[[Any], int] = _message_ns if kind == "duration" else int

    def bounded(value: Any) -> tuple[str, str] | None:
        number = to_int(value)
        if lo is not None and (number <= lo if strict_lo else number < lo):
            return rule, message
        if hi is not None and (number >= hi if strict_hi else number > hi):
            return rule, message
        return None

    return bounded


def _duration_ns(text: str) -> int:
    seconds, nanos = parse_duration(text)
    return seconds * _NS + nanos


def _message_ns(value: Any) -> int:
    return int(value.seconds) * _NS + int(value.nanos)


def _defined_only(field: FieldDescriptor, where: str) -> _Check:
    if field.enum_type is None:
        raise SchemaRuleError(f"{where}: an enum rule on a field that is not an enum")
    numbers = frozenset(field.enum_type.values_by_number)

    def defined(value: int) -> tuple[str, str] | None:
        if value in numbers:
            return None
        return "enum.defined_only", "value must be one of the defined enum values"

    return defined


def _value_checks(
    field: FieldDescriptor, rules: Mapping[str, Any], where: str
) -> tuple[_Check, ...]:
    """The checks of a field's (or a repeated field's items') type rules."""
    checks: list[_Check] = []
    for kind, params in rules.items():
        if kind in ("required", "ignore"):
            continue
        known: set[str] = set()
        if kind == "string" and params.get("uuid"):
            checks.append(_uuid)
            known = {"uuid"}
        elif kind in _INTEGERS or kind == "duration":
            bounded = _bounds(kind, params, where)
            checks += [bounded] if bounded else []
            known = set(_BOUNDS)
        elif kind == "enum" and params.get("defined_only"):
            checks.append(_defined_only(field, where))
            known = {"defined_only"}
        if not known or set(params) - known:
            raise SchemaRuleError(f"{where}: rule {kind} {params} is not enforced by ona_pats")
    return tuple(checks)


def _compile_field(field: FieldDescriptor, rules: Mapping[str, Any], where: str) -> _Field:
    ignore = rules.get("ignore", "IGNORE_UNSPECIFIED")
    if ignore not in ("IGNORE_UNSPECIFIED", "IGNORE_IF_ZERO_VALUE"):
        raise SchemaRuleError(f"{where}: ignore {ignore} is not enforced by ona_pats")
    repeated = field.is_repeated
    items: tuple[_Check, ...] = ()
    own = dict(rules)
    if repeated:
        spec = dict(own.pop("repeated", {}))
        items = _value_checks(field, spec.pop("items", {}), f"{where}[]")
        counts = {name: spec.pop(name) for name in ("min_items", "max_items") if name in spec}
        if spec:
            raise SchemaRuleError(f"{where}: rule repeated {spec} is not enforced by ona_pats")
        own["repeated"] = counts
    return _Field(
        name=field.name,
        required=bool(rules.get("required")),
        ignore_zero=ignore == "IGNORE_IF_ZERO_VALUE",
        checks=_count_checks(own.pop("repeated")) if repeated else _value_checks(field, own, where),
        items=items,
        repeated=repeated,
        message=field.type == FieldDescriptor.TYPE_MESSAGE,
    )


def _count_checks(counts: Mapping[str, object]) -> tuple[_Check, ...]:
    checks: list[_Check] = []
    if "min_items" in counts:
        least = int(str(counts["min_items"]))
        too_few = ("repeated.min_items", f"must contain at least {least} item(s)")
        checks.append(lambda values: too_few if len(values) < least else None)
    if "max_items" in counts:
        most = int(str(counts["max_items"]))
        too_many = ("repeated.max_items", f"must contain no more than {most} item(s)")
        checks.append(lambda values: too_many if len(values) > most else None)
    return tuple(checks)


def _compile(
    rules: Mapping[str, Mapping[str, Mapping[str, Any]]], messages: list[Descriptor]
) -> dict[str, tuple[_Field, ...]]:
    """Each message's field plans; a message field without rules is walked if it leads to some."""
    by_name = {message.full_name: message for message in messages}
    unknown = set(rules) - set(by_name)
    if unknown:
        raise SchemaRuleError(f"rules for messages ona_pats does not have: {sorted(unknown)}")
    plans: dict[Descriptor, tuple[_Field, ...]] = {}
    for message in messages:
        own = rules.get(message.full_name, {})
        fields: list[_Field] = []
        for field in message.fields:
            where = f"{message.full_name}.{field.name}"
            if field.name in own:
                fields.append(_compile_field(field, own[field.name], where))
            elif field.message_type is not None and field.message_type.full_name in by_name:
                fields.append(_compile_field(field, {}, where))
        plans[message] = tuple(fields)
    # Drop walks into messages that hold no rule at any depth.
    changed = True
    while changed:
        changed = False
        for message, plan in plans.items():
            kept = tuple(spec for spec in plan if _has_rules(spec, message, plans))
            if kept != plan:
                plans[message], changed = kept, True
    return {message.full_name: plan for message, plan in plans.items() if plan}


def _has_rules(
    spec: _Field, message: Descriptor, plans: Mapping[Descriptor, tuple[_Field, ...]]
) -> bool:
    if spec.required or spec.checks or spec.items:
        return True
    nested = message.fields_by_name[spec.name].message_type
    return nested is not None and bool(plans.get(nested))


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
