"""Reading: JSON text or JSON-shaped Python values -> a message, errors with paths.

:class:`Reader` is the one reader. It first tries its fast plans (``_FastPlans``), which read
the common shapes with one ``dict.get`` per field and give up (``_Slow``) on anything they do
not decide: nulls, proto-name keys, duplicate keys, unknown keys not being ignored, enum numbers
or unknown enum names. Its precise plans (``_PrecisePlans``) then decide: each checks every value
against its field (type, range, enum name, RFC 3339 timestamp, base64...) and returns keyword
arguments for the message class, or raises ``MappingProblem`` whose segments name the field
(``personalAccessTokens[3].createdAt``). Duplicate JSON keys are marked while parsing
(:func:`loads`) and reported by the precise plans, where the path is known. Well-known types and
messages with a oneof of two or more fields use the precise plans throughout.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar, cast

from google.protobuf import json_format
from google.protobuf.any_pb2 import Any as AnyMessage
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from google.protobuf.struct_pb2 import NULL_VALUE, Value

from . import _plans
from ._plans import ANY, CUSTOM_JSON, DELEGATED, FD, WRAPPERS, Convert, PlanCache
from ._wkt import MappingProblem, parse_duration, parse_timestamp

M = TypeVar("M", bound=Message)
_SKIP = object()  # an unknown enum name being ignored: leave the field unset

_INT_RANGES = {
    FD.TYPE_INT32: (-(2**31), 2**31 - 1),
    FD.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FD.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    FD.TYPE_UINT32: (0, 2**32 - 1),
    FD.TYPE_FIXED32: (0, 2**32 - 1),
    FD.TYPE_INT64: (-(2**63), 2**63 - 1),
    FD.TYPE_SINT64: (-(2**63), 2**63 - 1),
    FD.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    FD.TYPE_UINT64: (0, 2**64 - 1),
    FD.TYPE_FIXED64: (0, 2**64 - 1),
}
# The smallest magnitude that rounds to infinity as a float32: FLT_MAX plus half an ulp. FLT_MAX
# itself prints as 3.4028235e+38, which is above FLT_MAX but must read back.
_FLOAT32_OVERFLOW = 2.0**128 - 2.0**103
_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_JSON_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)")
_SPECIAL_FLOATS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_URLSAFE_TO_STD = str.maketrans("-_", "+/")


class _DuplicateKeys(dict[str, Any]):
    """A JSON object that repeated a key. Every reader accepts only exact ``dict`` objects, so
    this one fails where it stands, with its path, at no cost to valid documents."""

    duplicate: str = ""


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) == len(pairs):
        return obj
    marked = _DuplicateKeys(pairs)
    seen: set[str] = set()
    for key, _value in pairs:
        if key in seen:
            marked.duplicate = key
            break
        seen.add(key)
    return marked


def _reject_duplicates(value: Any) -> None:
    """For content handed to json_format, which would keep the last of two keys silently."""
    if isinstance(value, _DuplicateKeys):
        raise _kind_error("", value)
    if isinstance(value, dict):
        items: Any = ((f".{key}", item) for key, item in value.items())
    elif isinstance(value, list):
        items = ((f"[{index}]", item) for index, item in enumerate(value))
    else:
        return
    for segment, item in items:
        try:
            _reject_duplicates(item)
        except MappingProblem as problem:
            raise problem.within(segment)  # noqa: B904 (re-raised)


def _kind_error(expected: str, value: Any) -> MappingProblem:
    if isinstance(value, _DuplicateKeys):
        problem = MappingProblem("key appears twice in one JSON object", value.duplicate)
        problem.segments.append(f".{value.duplicate}")
        return problem
    return MappingProblem(f"expected {expected}, got JSON {_json_type(value)}", value)


_JSON_TYPES = {type(None): "null", bool: "boolean", int: "number", float: "number", str: "string"}
_JSON_TYPES |= {list: "array", dict: "object", _DuplicateKeys: "object"}


def _json_type(value: Any) -> str:
    found = _JSON_TYPES.get(type(value))
    return found or f"value (a Python {type(value).__name__}, not JSON)"


def _read_string(value: Any) -> str:
    if type(value) is not str:
        raise _kind_error("a string", value)
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:  # a lone surrogate from a "\ud800" escape
            raise MappingProblem("string is not valid Unicode (lone surrogate)", value) from exc
    return value


def _read_bool(value: Any) -> bool:
    if type(value) is not bool:
        raise _kind_error("true or false", value)
    return value


def _decimal_to_int(text: str, low: int, high: int) -> int:
    if _JSON_INTEGER.fullmatch(text):
        return int(text)
    if not _JSON_NUMBER.fullmatch(text):
        raise MappingProblem("not a JSON number", text)
    number = Decimal(text)  # exact, and compared before any int() of a huge exponent
    if not low <= number <= high:
        raise MappingProblem(f"integer out of range {low}..{high}", text)
    if number != number.to_integral_value():
        raise MappingProblem("not an integer", text)
    return int(number)


def _read_int(low: int, high: int) -> Convert:
    def read(value: Any) -> int:
        kind = type(value)
        if kind is int:
            number: int = value
        elif kind is str:
            number = _decimal_to_int(value, low, high)
        elif kind is float and value.is_integer():
            number = int(value)
        elif kind is float:
            raise MappingProblem("not an integer", value)
        else:
            raise _kind_error("an integer (number or string)", value)
        if not low <= number <= high:
            raise MappingProblem(f"integer out of range {low}..{high}", value)
        return number

    return read


def _read_floating(single: bool) -> Convert:
    def read(value: Any) -> float:
        kind = type(value)
        if kind is str and value in _SPECIAL_FLOATS:
            return _SPECIAL_FLOATS[value]
        if (
            kind is not float
            and kind is not int
            and not (kind is str and _JSON_NUMBER.fullmatch(value))
        ):
            raise _kind_error('a number or "NaN", "Infinity", "-Infinity"', value)
        try:
            number = float(value)
        except OverflowError:  # an integer literal beyond the double range
            number = math.inf
        if not math.isfinite(number):  # json.loads reads 1e999 as inf
            raise MappingProblem("number out of range", value)
        if single and abs(number) >= _FLOAT32_OVERFLOW:
            raise MappingProblem("number out of float32 range", value)
        return float(number)

    return read


def _read_bytes(value: Any) -> bytes:
    if type(value) is not str:
        raise _kind_error("a base64 string", value)
    text = value.translate(_URLSAFE_TO_STD)  # the spec accepts standard and URL-safe base64
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise MappingProblem("not valid base64", value) from exc


def _read_enum(enum: EnumDescriptor, ignore_unknown: bool) -> Convert:
    if enum.full_name == "google.protobuf.NullValue":
        return _read_null_value
    numbers = {name: value.number for name, value in enum.values_by_name.items()}
    known = frozenset(numbers.values())
    closed = bool(enum.is_closed)

    def read(value: Any) -> Any:
        kind = type(value)
        if kind is str:
            number = numbers.get(value)
            if number is not None:
                return number
            if ignore_unknown:
                return _SKIP
            raise MappingProblem(f"unknown {enum.full_name} name", value)
        if kind is int and -(2**31) <= value < 2**31 and (not closed or value in known):
            return value  # open enums keep unknown numbers, as binary does
        raise _kind_error(f"a {enum.full_name} name", value)

    return read


def _read_null_value(value: Any) -> int:
    if value is None or value == "NULL_VALUE" or (type(value) is int and value == 0):
        return 0
    raise _kind_error("null", value)


def _read_list(item: Convert) -> Convert:
    def read(values: Any) -> list[Any]:
        if type(values) is not list:
            raise _kind_error("an array", values)
        out = _plans.convert_all(item, values)
        return [value for value in out if value is not _SKIP] if _SKIP in out else out

    return read


def _read_map(key: Convert, value: Convert) -> Convert:
    def read(entries: Any) -> dict[Any, Any]:
        if type(entries) is not dict:
            raise _kind_error("an object", entries)
        out: dict[Any, Any] = {}
        for k, v in cast("dict[str, Any]", entries).items():
            try:
                converted = value(v)
                if converted is not _SKIP:
                    out[key(k)] = converted
            except MappingProblem as problem:
                raise problem.within(f"[{json.dumps(k)}]")  # noqa: B904 (re-raised)
        return out

    return read


def _read_map_key(fd: FieldDescriptor) -> Convert:
    if fd.type == FD.TYPE_STRING:
        return _read_string
    if fd.type == FD.TYPE_BOOL:
        booleans = {"true": True, "false": False}

        def read_bool(key: str) -> bool:
            if key not in booleans:
                raise MappingProblem('map key must be "true" or "false"', key)
            return booleans[key]

        return read_bool
    low, high = _INT_RANGES[fd.type]

    def read_int(key: str) -> int:
        if not _JSON_INTEGER.fullmatch(key) or not low <= int(key) <= high:
            raise MappingProblem(f"map key must be an integer in {low}..{high}", key)
        return int(key)

    return read_int


def _read_text(parse: Callable[[str], tuple[int, int]], expected: str) -> Convert:
    """A Timestamp's or a Duration's reader: its JSON string to its constructor arguments."""

    def read(value: Any) -> dict[str, int]:
        if type(value) is not str:
            raise _kind_error(expected, value)
        seconds, nanos = parse(value)
        return {"seconds": seconds, "nanos": nanos}

    return read


_read_timestamp = _read_text(parse_timestamp, "an RFC 3339 string")
_read_duration = _read_text(parse_duration, 'a duration string such as "1.5s"')


def _read_field_mask(value: Any) -> dict[str, list[str]]:
    if type(value) is not str:
        raise _kind_error("a comma-separated string of camelCase paths", value)
    paths = value.split(",") if value else []
    if any("_" in path for path in paths):
        raise MappingProblem("FieldMask paths must be camelCase", value)
    return {"paths": [_plans.UPPER.sub(lambda m: "_" + m.group(0).lower(), path) for path in paths]}


class _PrecisePlans(PlanCache):
    """Input plans (JSON-shaped data -> constructor arguments) for one unknown-field policy."""

    def __init__(self, ignore_unknown: bool) -> None:
        super().__init__()
        self.ignore_unknown = ignore_unknown

    def _build(self, desc: Descriptor) -> Convert:
        name = desc.full_name
        if name == "google.protobuf.Timestamp":
            return _read_timestamp
        if name == "google.protobuf.Duration":
            return _read_duration
        if name == "google.protobuf.FieldMask":
            return _read_field_mask
        if name in WRAPPERS:
            inner = self._field(desc.fields_by_name["value"])
            return lambda value: {"value": inner(value)}
        if name in DELEGATED:
            return self._delegated(GetMessageClass(desc))
        if name == ANY:
            return self._any
        return self._fields(desc)

    def _any(self, document: Any) -> Message:
        if type(document) is not dict:
            raise _kind_error('an object with "@type"', document)
        value = cast("dict[str, Any]", document)
        if not value:
            return AnyMessage()
        url = value.get("@type")
        if type(url) is not str:
            raise MappingProblem('an Any needs a string "@type"', url)
        desc = _plans.any_descriptor(url)
        if desc.full_name in CUSTOM_JSON:
            unknown = set(value) - {"@type", "value"}
            if unknown and not self.ignore_unknown:
                raise MappingProblem(f"unknown keys in an Any of {desc.full_name}", sorted(unknown))
            content = value.get("value")
        else:
            content = {key: item for key, item in value.items() if key != "@type"}
        converted = self.message(desc)(content)
        inner = converted
        if not isinstance(converted, Message):
            inner = _construct(GetMessageClass(desc), converted)
        return AnyMessage(type_url=url, value=inner.SerializeToString())

    def _delegated(self, cls: type[Message]) -> Convert:
        def read(value: Any) -> Message:
            _reject_duplicates(value)
            try:
                return json_format.ParseDict(
                    value, cls(), ignore_unknown_fields=self.ignore_unknown
                )
            except (json_format.Error, ValueError, TypeError, KeyError) as exc:
                raise MappingProblem(f"invalid {cls.DESCRIPTOR.full_name}: {exc}", value) from exc

        return read

    def _field(self, fd: FieldDescriptor) -> Convert:
        if fd.is_repeated and fd.message_type is not None and _plans.is_map(fd.message_type):
            entry = fd.message_type
            return _read_map(
                _read_map_key(entry.fields_by_name["key"]),
                self._single(entry.fields_by_name["value"]),
            )
        if fd.is_repeated:
            return _read_list(self._single(fd))
        return self._single(fd)

    def _single(self, fd: FieldDescriptor) -> Convert:
        kind = fd.type
        if kind in (FD.TYPE_MESSAGE, FD.TYPE_GROUP):
            return self.message(cast(Descriptor, fd.message_type))
        if kind == FD.TYPE_ENUM:
            return _read_enum(cast(EnumDescriptor, fd.enum_type), self.ignore_unknown)
        if kind == FD.TYPE_STRING:
            return _read_string
        if kind == FD.TYPE_BOOL:
            return _read_bool
        if kind in _INT_RANGES:
            return _read_int(*_INT_RANGES[kind])
        if kind in (FD.TYPE_DOUBLE, FD.TYPE_FLOAT):
            return _read_floating(kind == FD.TYPE_FLOAT)
        return _read_bytes

    def _fields(self, desc: Descriptor) -> Convert:
        by_key: dict[str, tuple[str, Convert, str | None, Any]] = {}
        for fd in desc.fields:
            oneof = fd.containing_oneof.name if fd.containing_oneof is not None else None
            entry = (fd.name, self._field(fd), oneof, _null_means(fd))
            by_key[fd.json_name] = by_key[fd.name] = entry
        return _read_fields(desc.full_name, by_key, self.ignore_unknown)


def _null_means(fd: FieldDescriptor) -> Any:
    """What JSON ``null`` sets a field to: ``_SKIP`` (unset) except for Value and NullValue."""
    if fd.is_repeated:
        return _SKIP
    if fd.message_type is not None and fd.message_type.full_name == "google.protobuf.Value":
        return Value(null_value=NULL_VALUE)
    if fd.enum_type is not None and fd.enum_type.full_name == "google.protobuf.NullValue":
        return 0
    return _SKIP


def _read_fields(
    full_name: str, by_key: dict[str, tuple[str, Convert, str | None, Any]], ignore: bool
) -> Convert:
    def read(obj: Any) -> dict[str, Any]:
        if type(obj) is not dict:
            raise _kind_error(f"an object for {full_name}", obj)
        kwargs: dict[str, Any] = {}
        oneofs: dict[str, str] | None = None
        for key, value in cast("dict[str, Any]", obj).items():
            entry = by_key.get(key)
            if entry is None:
                if ignore:
                    continue
                problem = MappingProblem(f"unknown field of {full_name}", value)
                problem.segments.append(f".{key}")
                raise problem
            name, read_value, oneof, null = entry
            try:
                if name in kwargs or (oneof is not None and oneofs and oneof in oneofs):
                    raise MappingProblem("field set twice (JSON and proto name, or a oneof)", value)
                converted = null if value is None else read_value(value)
            except MappingProblem as problem:
                raise problem.within(f".{key}")  # noqa: B904 (re-raised)
            if converted is not _SKIP:
                kwargs[name] = converted
            if oneof is not None and value is not None:
                oneofs = oneofs or {}
                oneofs[oneof] = name
        return kwargs

    return read


def _construct(cls: type[Message], kwargs: Any) -> Message:
    try:
        return cls(**kwargs)
    except (ValueError, TypeError) as exc:  # defensive: every value was checked above
        raise MappingProblem(f"cannot build {cls.DESCRIPTOR.full_name}: {exc}", None) from exc


# --- the fast path ----------------------------------------------------------------------


class _Slow(Exception):
    """The fast plan met something it does not decide (null, a proto-name key, an unknown enum
    name...); :meth:`Reader.read` then runs the precise plan, which decides and reports."""


class _FastPlans(PlanCache):
    """Plans that give exactly the precise plans' result or raise ``_Slow``/``MappingProblem``.

    A message reads its fields by their JSON names with one ``dict.get`` each (no per-key
    bookkeeping for duplicates, oneofs or nulls): a key count that does not add up sends the
    document to the precise plan. Values other than strings and enum names use the precise
    converters, whose results are the same.
    """

    def __init__(self, precise: _PrecisePlans) -> None:
        super().__init__()
        self.precise = precise

    def _build(self, desc: Descriptor) -> Convert:
        if desc.full_name in CUSTOM_JSON or any(
            fd.containing_oneof is not None and len(fd.containing_oneof.fields) > 1
            for fd in desc.fields
        ):
            return self.precise.message(desc)
        strings, others = [], []
        for fd in desc.fields:
            if _null_means(fd) is not _SKIP:
                return self.precise.message(desc)
            if fd.type == FD.TYPE_STRING and not fd.is_repeated:
                strings.append((fd.json_name, fd.name))
            else:
                others.append((fd.json_name, fd.name, self._field(fd)))
        known = frozenset(key for fd in desc.fields for key in (fd.json_name, fd.name))
        ignore = self.precise.ignore_unknown
        return _fast_fields(tuple(strings), tuple(others), known if ignore else None)

    def _field(self, fd: FieldDescriptor) -> Convert:
        if fd.is_repeated and not (fd.message_type is not None and _plans.is_map(fd.message_type)):
            return _fast_list(self._single(fd))
        if fd.is_repeated:
            return self.precise._field(fd)
        return self._single(fd)

    def _single(self, fd: FieldDescriptor) -> Convert:
        if fd.type in (FD.TYPE_MESSAGE, FD.TYPE_GROUP):
            return self.message(cast(Descriptor, fd.message_type))
        if fd.type == FD.TYPE_ENUM:
            return _fast_enum(cast(EnumDescriptor, fd.enum_type))
        return self.precise._single(fd)


def _fast_fields(
    strings: tuple[tuple[str, str], ...],
    others: tuple[tuple[str, str, Convert], ...],
    known: frozenset[str] | None,
) -> Convert:
    def read(obj: Any) -> dict[str, Any]:
        if type(obj) is not dict:
            raise _Slow
        kwargs: dict[str, Any] = {}
        for key, name in strings:
            value = obj.get(key)
            if value is not None:
                kwargs[name] = (
                    value if type(value) is str and value.isascii() else _read_string(value)
                )
        for key, name, convert in others:
            value = obj.get(key)
            if value is not None:
                kwargs[name] = convert(value)
        if len(kwargs) != len(obj) and (known is None or not _rest_unknown(obj, kwargs, known)):
            raise _Slow  # nulls, proto names, two keys for one field, or unknown keys
        return kwargs

    return read


def _rest_unknown(obj: dict[str, Any], kwargs: dict[str, Any], known: frozenset[str]) -> bool:
    """Whether every key the fast plan did not read is unknown (to be ignored)."""
    return len(kwargs) + sum(key not in known for key in obj) == len(obj)


def _fast_list(item: Convert) -> Convert:
    def read(values: Any) -> list[Any]:
        if type(values) is not list:
            raise _Slow
        return [item(value) for value in values]

    return read


def _fast_enum(enum: EnumDescriptor) -> Convert:
    numbers = {name: value.number for name, value in enum.values_by_name.items()}

    def read(value: Any) -> int:
        number = numbers.get(value) if type(value) is str else None
        if number is None:
            raise _Slow  # numbers, unknown names (skipped or an error): the precise plan decides
        return number

    return read


# --- the reader ---------------------------------------------------------------------------


class Reader:
    """Reads JSON-shaped data into messages, for one unknown-field policy: the fast plans for
    the common shapes, the precise plans for everything else and for every error."""

    def __init__(self, ignore_unknown: bool) -> None:
        self.precise = _PrecisePlans(ignore_unknown)
        self.fast = _FastPlans(self.precise)

    def read(self, cls: type[M], data: Any) -> M:
        """``data`` (what ``json.loads`` returns) as a new ``cls``.

        Raises:
            MappingProblem: ``data`` does not follow the mapping; its segments say where.
        """
        desc = cast(Descriptor, cls.DESCRIPTOR)
        try:
            converted = self.fast.message(desc)(data)
        except (_Slow, MappingProblem):  # the precise plan decides, and says where and why
            converted = self.precise.message(desc)(data)
        message = converted if isinstance(converted, Message) else _construct(cls, converted)
        return cast(M, message)


def _reject_constant(name: str) -> Any:
    raise MappingProblem('not JSON (use the strings "NaN", "Infinity", "-Infinity")', name)


def loads(text: str) -> Any:
    """Parse JSON text, marking duplicate keys and refusing ``NaN``/``Infinity`` literals.

    Raises:
        MappingProblem: a bare ``NaN``/``Infinity``.
        json.JSONDecodeError: not JSON.
    """
    return json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_reject_constant)
