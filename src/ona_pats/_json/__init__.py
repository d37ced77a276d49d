"""The proto3 JSON mapping for any generated message, and the connectrpc JSON codec using it.

Spec: https://protobuf.dev/programming-guides/json/. Timestamps and Durations follow
``_wkt`` (strict RFC 3339), also inside an ``Any``. Struct, Value and ListValue (which
hold no timestamps) are delegated to ``google.protobuf.json_format``; their errors are still
reported as ``JSONMappingError``.

Decisions, where the spec leaves room:

* Keys are written in field-number order (as every protobuf runtime does). JSON objects are
  unordered (RFC 8259 section 4); the seed documents list ``id`` first and the rest
  alphabetically, which is their docs generator's order, not a wire fact.
* Fields without presence are written with their default value unless
  ``include_defaults=False``; unset message fields and unset ``optional`` fields are omitted.
* Input accepts both the camelCase JSON name and the proto field name; ``null`` means "not
  set" (except for ``google.protobuf.Value``). Duplicate keys are an error.
* With ``ignore_unknown_fields=True``, unknown keys are skipped and an unknown enum *name*
  leaves the field at its default (a repeated enum drops that element), as the spec asks; an
  unknown enum *number* is kept, as binary protobuf keeps it. Without it, both are errors.
* Strings are written with ``ensure_ascii=False``; bytes input must be UTF-8 (RFC 8259
  section 8.1), without a byte order mark.
* Proto2 extensions are neither written nor read (the gitpod.v1 schema has none).

This package's ``__init__`` holds the public functions and the codec. Inside it: ``_read``
(:class:`Reader`, with its fast path), ``_write`` (:class:`Writer`), ``_plans`` (the plan cache
and type facts both share) and ``_wkt`` (the Timestamp and Duration text, and
``MappingProblem``, the internal error that carries a path).
"""

from __future__ import annotations

import json
from typing import Any, TypeVar, cast

from google.protobuf.descriptor import Descriptor
from google.protobuf.message import Message

from ona_pats._exceptions import JSONMappingError

from ._read import Reader, loads
from ._wkt import MappingProblem
from ._write import Writer

M = TypeVar("M", bound=Message)

WRITERS = {(d, p): Writer(d, p) for d in (True, False) for p in (True, False)}
READERS = {ignore: Reader(ignore) for ignore in (True, False)}


def _public_error(problem: MappingProblem) -> JSONMappingError:
    path = "".join(reversed(problem.segments)).removeprefix(".")
    return JSONMappingError(path, problem.message, problem.value)


def _loads(text: str | bytes | bytearray | memoryview) -> Any:
    if not isinstance(text, str):
        try:
            text = str(text, "utf-8")  # any buffer, decoded in place: no bytes() copy
        except UnicodeDecodeError as exc:
            bad = bytes(exc.object[exc.start : exc.end])
            raise JSONMappingError("", f"not valid UTF-8 at byte {exc.start}", bad) from exc
    try:
        return loads(text)
    except MappingProblem as problem:
        raise _public_error(problem) from None
    except json.JSONDecodeError as exc:
        message = f"invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        raise JSONMappingError("", message) from exc
    except (ValueError, RecursionError) as exc:  # e.g. an integer beyond int_max_str_digits
        raise JSONMappingError("", f"invalid JSON: {exc}") from exc


def _message_class(message_class_or_instance: type[M] | M) -> tuple[type[M], M | None]:
    if isinstance(message_class_or_instance, Message):
        return type(message_class_or_instance), message_class_or_instance
    return message_class_or_instance, None


def from_dict(
    data: Any, message_class_or_instance: type[M] | M, *, ignore_unknown_fields: bool = False
) -> M:
    """Build a message from JSON-shaped Python data (what ``json.loads`` returns).

    ```python
    from ona_pats import from_dict
    from ona_pats.types import Subject
    from_dict({"id": "u1", "principal": "PRINCIPAL_USER"}, Subject).principal  # 2
    ```

    Args:
        data: a dict for most messages; a string for Timestamp, Duration and FieldMask; the
            unwrapped value for wrapper types.
        message_class_or_instance: the generated class, or an instance to clear and fill.
        ignore_unknown_fields: skip unknown keys and unknown enum names instead of failing.

    Returns:
        The message (the given instance, if one was passed).

    Raises:
        JSONMappingError: ``data`` does not follow the proto3 JSON mapping; ``.path`` names
            the field (``personalAccessTokens[3].createdAt``) and ``.value`` the value.
    """
    cls, instance = _message_class(message_class_or_instance)
    try:
        message = READERS[ignore_unknown_fields].read(cls, data)
    except MappingProblem as problem:
        raise _public_error(problem) from None
    except RecursionError as exc:
        raise JSONMappingError("", "document nested too deeply") from exc
    if instance is None:
        return message
    instance.Clear()
    instance.MergeFrom(message)
    return instance


def from_json(
    text: str | bytes | bytearray,
    message_class_or_instance: type[M] | M,
    *,
    ignore_unknown_fields: bool = False,
) -> M:
    """Parse proto3 JSON (strict RFC 3339 timestamps) into a message.

    ```python
    from ona_pats import from_json
    from ona_pats.types import GetPersonalAccessTokenResponse
    text = '{"pat": {"createdAt": "2019-12-27t18:11:19.117z"}}'
    from_json(text, GetPersonalAccessTokenResponse).pat.created_at.nanos  # 117000000
    ```

    Args:
        text: the JSON document, ``str`` or UTF-8 ``bytes``.
        message_class_or_instance: the generated class, or an instance to clear and fill.
        ignore_unknown_fields: skip unknown keys and unknown enum names (the field keeps its
            default) instead of failing, as a client talking to a newer server should.

    Returns:
        The message (the given instance, if one was passed).

    Raises:
        JSONMappingError: invalid UTF-8 or JSON, duplicate keys, or a value that does not fit
            its field; ``.path`` and ``.value`` say where and what.
    """
    return from_dict(
        _loads(text), message_class_or_instance, ignore_unknown_fields=ignore_unknown_fields
    )


def to_dict(
    message: Message, *, include_defaults: bool = True, use_proto_names: bool = False
) -> Any:
    """Convert a message to JSON-shaped Python data: what ``json.loads(to_json(message))`` gives.

    Args:
        message: any generated message.
        include_defaults: also write fields without presence that hold their default value
            (``""``, ``0``, ``false``, the zero enum, ``[]``, ``{}``), as the Ona docs show.
        use_proto_names: write ``read_only`` instead of ``readOnly``.

    Returns:
        A dict for most messages; a string for Timestamp, Duration and FieldMask.

    Raises:
        JSONMappingError: a value has no JSON form, e.g. a Timestamp outside 0001..9999.
    """
    write = WRITERS[include_defaults, use_proto_names].message(cast(Descriptor, message.DESCRIPTOR))
    try:
        return write(message)
    except MappingProblem as problem:
        raise _public_error(problem) from None
    except RecursionError as exc:
        raise JSONMappingError("", "message nested too deeply") from exc


def to_json(
    message: Message,
    *,
    include_defaults: bool = True,
    use_proto_names: bool = False,
    indent: int | None = None,
) -> str:
    """Serialize a message as proto3 JSON: camelCase keys, enum names, RFC 3339 UTC timestamps.

    Keys follow field-number order. Timestamps are written as UTC with ``Z`` and 0, 3, 6 or 9
    fractional digits; int64 values as strings; bytes as base64.

    ```python
    from ona_pats import to_json
    from ona_pats.types import Subject
    to_json(Subject(id="u1"))  # '{"id":"u1","principal":"PRINCIPAL_UNSPECIFIED"}'
    ```

    Args:
        message: any generated message.
        include_defaults: also write fields that hold their default value (the default, as the
            Ona docs show); ``False`` writes only what is set.
        use_proto_names: write proto field names (``read_only``) instead of JSON names.
        indent: pretty-print with this indent; ``None`` writes compact JSON.

    Returns:
        The JSON text.

    Raises:
        JSONMappingError: a value has no JSON form, e.g. a Timestamp outside 0001..9999.
    """
    data = to_dict(message, include_defaults=include_defaults, use_proto_names=use_proto_names)
    if indent is None:
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return json.dumps(data, ensure_ascii=False, indent=indent)


class ProtoJSONCodec:
    """A connectrpc codec (``application/json``) for google-protobuf messages using this mapping.

    A drop-in for ``connectrpc.compat.google_protobuf_json_codec()``: compact output, strict
    RFC 3339, and, by default, unknown fields and unknown enum names ignored so that a newer
    peer never breaks an older one. connectrpc wraps a decode failure in
    ``ConnectError(Code.INVALID_ARGUMENT, "unmarshal message: ...")`` with the
    ``JSONMappingError`` as ``__cause__``.

    ```python
    from ona_pats import ProtoJSONCodec
    from ona_pats.types import Subject
    codec = ProtoJSONCodec()
    codec.decode(codec.encode(Subject(id="u1")), Subject).id  # 'u1'
    ```

    Args:
        ignore_unknown_fields: tolerate unknown keys and enum names when decoding.
        include_defaults: write fields holding default values (off: smaller bodies, and every
            proto3 JSON reader fills the defaults back in).
    """

    def __init__(
        self, *, ignore_unknown_fields: bool = True, include_defaults: bool = False
    ) -> None:
        self._ignore_unknown_fields = ignore_unknown_fields
        self._include_defaults = include_defaults

    def name(self) -> str:
        """Return ``"json"``, the codec part of the ``application/json`` content type."""
        return "json"

    def encode(self, message: Message) -> bytes:
        """Serialize ``message`` as compact UTF-8 proto3 JSON.

        Raises:
            JSONMappingError: a value has no JSON form (a Timestamp outside 0001..9999).
        """
        return to_json(message, include_defaults=self._include_defaults).encode("utf-8")

    def decode(self, data: bytes | bytearray, message_class: type[M]) -> M:
        """Parse ``data`` into a new ``message_class``.

        Raises:
            JSONMappingError: the body is not proto3 JSON for ``message_class``.
        """
        return from_json(data, message_class, ignore_unknown_fields=self._ignore_unknown_fields)
