"""Reading, the fast way: plans for the common shapes that hand anything else to the strict reader.

``_FastReader`` is a ``_PlanCache`` whose plans give exactly what ``_json_read._Reader``'s give,
or raise ``_Slow`` (or ``MappingProblem``) when the document holds something they do not decide:
nulls, proto-name keys, duplicate keys, unknown keys not being ignored, enum numbers or unknown
enum names. ``from_dict`` then runs the strict plan, which decides and says where and why.
Well-known types and messages with a oneof of two or more fields use the strict plan throughout.
"""

from __future__ import annotations

from typing import Any, cast

from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor

from ._json_plans import _CUSTOM_JSON, _FD, _Convert, _is_map, _PlanCache
from ._json_read import _SKIP, _null_means, _read_string, _Reader


class _Slow(Exception):
    """Internal: the fast plan met something it does not decide (null, a proto-name key, an
    unknown enum name...); ``from_dict`` then runs the precise plan, which decides and reports."""


class _FastReader(_PlanCache):
    """Plans that give exactly the precise plans' result or raise ``_Slow``/``MappingProblem``.

    A message reads its fields by their JSON names with one ``dict.get`` each (no per-key
    bookkeeping for duplicates, oneofs or nulls): a key count that does not add up sends the
    document to the precise plan. Values other than strings and enum names use the precise
    converters, whose results are the same.
    """

    def __init__(self, precise: _Reader) -> None:
        super().__init__()
        self.precise = precise

    def _build(self, desc: Descriptor) -> _Convert:
        if desc.full_name in _CUSTOM_JSON or any(
            fd.containing_oneof is not None and len(fd.containing_oneof.fields) > 1
            for fd in desc.fields
        ):
            return self.precise.message(desc)
        strings, others = [], []
        for fd in desc.fields:
            if _null_means(fd) is not _SKIP:
                return self.precise.message(desc)
            if fd.type == _FD.TYPE_STRING and not fd.is_repeated:
                strings.append((fd.json_name, fd.name))
            else:
                others.append((fd.json_name, fd.name, self._field(fd)))
        known = frozenset(key for fd in desc.fields for key in (fd.json_name, fd.name))
        ignore = self.precise.ignore_unknown
        return _fast_fields(tuple(strings), tuple(others), known if ignore else None)

    def _field(self, fd: FieldDescriptor) -> _Convert:
        if fd.is_repeated and not (fd.message_type is not None and _is_map(fd.message_type)):
            return _fast_list(self._single(fd))
        if fd.is_repeated:
            return self.precise._field(fd)
        return self._single(fd)

    def _single(self, fd: FieldDescriptor) -> _Convert:
        if fd.type in (_FD.TYPE_MESSAGE, _FD.TYPE_GROUP):
            return self.message(cast(Descriptor, fd.message_type))
        if fd.type == _FD.TYPE_ENUM:
            return _fast_enum(cast(EnumDescriptor, fd.enum_type))
        return self.precise._single(fd)


def _fast_fields(
    strings: tuple[tuple[str, str], ...],
    others: tuple[tuple[str, str, _Convert], ...],
    known: frozenset[str] | None,
) -> _Convert:
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


def _fast_list(item: _Convert) -> _Convert:
    def read(values: Any) -> list[Any]:
        if type(values) is not list:
            raise _Slow
        return [item(value) for value in values]

    return read


def _fast_enum(enum: EnumDescriptor) -> _Convert:
    numbers = {name: value.number for name, value in enum.values_by_name.items()}

    def read(value: Any) -> int:
        number = numbers.get(value) if type(value) is str else None
        if number is None:
            raise _Slow  # numbers, unknown names (skipped or an error): the precise plan decides
        return number

    return read
