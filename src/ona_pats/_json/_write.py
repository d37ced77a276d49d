"""Writing: message -> JSON-shaped Python values, through one plan per descriptor.

``_Writer`` is a ``PlanCache`` for one combination of options (``include_defaults``,
``use_proto_names``); it turns each message type, well-known types included, into a function
that returns dicts, lists, strings and numbers ready for ``json.dumps``. Values without a JSON
form raise ``MappingProblem``, which collects the path on the way out.
"""

from __future__ import annotations

import base64
import json
import math
import re
import struct
from typing import Any, cast

from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.protobuf.message import DecodeError, Message
from google.protobuf.message_factory import GetMessageClass

from . import _plans
from ._plans import ANY, CUSTOM_JSON, DELEGATED, FD, WRAPPERS, Convert, PlanCache
from ._wkt import MappingProblem, format_duration, format_timestamp

_INT64_TYPES = frozenset(
    (FD.TYPE_INT64, FD.TYPE_SINT64, FD.TYPE_SFIXED64, FD.TYPE_UINT64, FD.TYPE_FIXED64)
)
_CAMEL_HUMP = re.compile(r"_([a-z])")
_UNDERSCORE_NOT_BEFORE_LOWER = re.compile(r"_(?![a-z])")  # "a_1", "a__b": no camelCase form


def _write_double(value: float) -> float | str:
    if math.isfinite(value):
        return value
    return "NaN" if value != value else ("Infinity" if value > 0 else "-Infinity")


def _write_float(value: float) -> float | str:
    """The shortest decimal of 6 to 9 significant digits that reads back as the same float32.

    This is json_format's rule (``type_checkers.ToShortestFloat``), so both print alike.
    """
    if not math.isfinite(value):
        return _write_double(value)
    for digits in range(6, 10):
        short = float(f"{value:.{digits}g}")
        if struct.unpack("<f", struct.pack("<f", short))[0] == value:
            return short
    return value  # pragma: no cover - 9 significant digits always round-trip a float32


def _write_bytes(value: bytes) -> str:
    return base64.b64encode(value).decode("ascii")


def _write_enum(enum: EnumDescriptor) -> Convert:
    if enum.full_name == "google.protobuf.NullValue":
        return lambda _value: None
    names = {number: value.name for number, value in enum.values_by_number.items()}
    return lambda number: names.get(number, number)  # unknown numbers stay numbers (spec)


def _write_map_key(fd: FieldDescriptor) -> Convert | None:
    if fd.type == FD.TYPE_BOOL:
        return lambda key: "true" if key else "false"
    return None if fd.type == FD.TYPE_STRING else str


def _write_list(item: Convert | None) -> Convert:
    if item is None:
        return list

    def write(values: Any) -> list[Any]:
        return _plans.convert_all(item, values)

    return write


def _write_map(key: Convert | None, value: Convert | None) -> Convert:
    def write(entries: Any) -> dict[str, Any]:
        keys = entries.keys() if key is None else [key(k) for k in entries]
        if value is None:
            return dict(zip(keys, entries.values(), strict=True))
        try:
            return dict(zip(keys, map(value, entries.values()), strict=True))
        except MappingProblem as problem:
            name = next(n for n, v in zip(keys, entries.values(), strict=True) if _fails(value, v))
            raise problem.within(f"[{json.dumps(name)}]")  # noqa: B904 (re-raised)

    return write


def _fails(convert: Convert, value: Any) -> bool:
    try:
        convert(value)
    except MappingProblem:
        return True
    return False


class Writer(PlanCache):
    """Output plans (message -> JSON-shaped data) for one combination of options."""

    def __init__(self, include_defaults: bool, use_proto_names: bool) -> None:
        super().__init__()
        self.include_defaults = include_defaults
        self.use_proto_names = use_proto_names

    def _build(self, desc: Descriptor) -> Convert:
        name = desc.full_name
        if name == "google.protobuf.Timestamp":
            return lambda ts: format_timestamp(ts.seconds, ts.nanos)
        if name == "google.protobuf.Duration":
            return lambda d: format_duration(d.seconds, d.nanos)
        if name == "google.protobuf.FieldMask":
            return lambda mask: ",".join(_camel_path(path) for path in mask.paths)
        if name in WRAPPERS:
            inner = self._field(desc.fields_by_name["value"])
            return (lambda w: w.value) if inner is None else (lambda w: inner(w.value))
        if name in DELEGATED:
            return self._delegated
        if name == ANY:
            return self._any
        return self._fields(desc)

    def _any(self, msg: Any) -> dict[str, Any]:
        if not msg.type_url and not msg.value:
            return {}
        desc = _plans.any_descriptor(msg.type_url)
        inner = GetMessageClass(desc)()
        try:
            inner.ParseFromString(msg.value)
        except DecodeError as exc:
            raise MappingProblem(
                f"Any value is not a valid {desc.full_name}", msg.type_url
            ) from exc
        data = self.message(desc)(inner)
        if desc.full_name in CUSTOM_JSON:
            return {"@type": msg.type_url, "value": data}
        return {"@type": msg.type_url, **data}

    def _delegated(self, msg: Message) -> Any:
        try:
            return json_format.MessageToDict(
                msg,
                always_print_fields_with_no_presence=self.include_defaults,
                preserving_proto_field_name=self.use_proto_names,
            )
        except (json_format.Error, ValueError, TypeError, KeyError) as exc:
            raise MappingProblem(f"cannot write {msg.DESCRIPTOR.full_name}: {exc}", None) from exc

    def _field(self, fd: FieldDescriptor) -> Convert | None:
        if fd.is_repeated and fd.message_type is not None and _plans.is_map(fd.message_type):
            key_fd, value_fd = (
                fd.message_type.fields_by_name["key"],
                fd.message_type.fields_by_name["value"],
            )
            return _write_map(_write_map_key(key_fd), self._single(value_fd))
        if fd.is_repeated:
            return _write_list(self._single(fd))
        return self._single(fd)

    def _single(self, fd: FieldDescriptor) -> Convert | None:
        kind = fd.type
        if kind in (FD.TYPE_MESSAGE, FD.TYPE_GROUP):
            return self.message(cast(Descriptor, fd.message_type))
        if kind == FD.TYPE_ENUM:
            return _write_enum(cast(EnumDescriptor, fd.enum_type))
        if kind in _INT64_TYPES:
            return str
        if kind == FD.TYPE_DOUBLE:
            return _write_double
        if kind == FD.TYPE_FLOAT:
            return _write_float
        if kind == FD.TYPE_BYTES:
            return _write_bytes
        return None  # string, bool and 32-bit integers are already JSON values

    def _fields(self, desc: Descriptor) -> Convert:
        plan = tuple(
            (
                fd.name,
                fd.name if self.use_proto_names else fd.json_name,
                self._field(fd),
                self._when(fd),
            )
            for fd in sorted(desc.fields, key=lambda fd: fd.number)
        )
        return _write_fields(plan)

    def _when(self, fd: FieldDescriptor) -> int:
        if fd.has_presence:
            return _IF_SET
        if self.include_defaults:
            return _ALWAYS
        floating = fd.type in (FD.TYPE_DOUBLE, FD.TYPE_FLOAT) and not fd.is_repeated
        return _IF_NOT_ZERO_FLOAT if floating else _IF_NOT_EMPTY


# When a field is written: always; if HasField(); if truthy (proto3 defaults are all falsy);
# if not +0.0 (-0.0 is falsy but not the default: binary protobuf keeps it too).
_ALWAYS, _IF_SET, _IF_NOT_EMPTY, _IF_NOT_ZERO_FLOAT = range(4)


def _write_fields(plan: tuple[tuple[str, str, Convert | None, int], ...]) -> Convert:
    def write(msg: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, key, conv, when in plan:
            if when == _IF_SET:
                if not msg.HasField(name):
                    continue
                value = getattr(msg, name)
            else:
                value = getattr(msg, name)
                if when and not value and (when == _IF_NOT_EMPTY or math.copysign(1, value) > 0):
                    continue
            try:
                out[key] = value if conv is None else conv(value)
            except MappingProblem as problem:
                raise problem.within(f".{key}")  # noqa: B904 (re-raised)
        return out

    return write


def _camel_path(path: str) -> str:
    if _plans.UPPER.search(path) or _UNDERSCORE_NOT_BEFORE_LOWER.search(path):
        raise MappingProblem("FieldMask path cannot be written in camelCase", path)
    return _CAMEL_HUMP.sub(lambda m: m.group(1).upper(), path)
