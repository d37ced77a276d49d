"""Hypothesis strategies for every message of the gitpod.v1 schema, built from the descriptors.

Fields are drawn over their whole wire range (int32 extremes, any Unicode text, unknown enum
numbers, Timestamps from 0001 to 9999 with any nanos, Durations of either sign), so no field
or type is left out when the schema grows.
"""

from __future__ import annotations

from typing import Any, cast

from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.duration_pb2 import Duration
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from google.protobuf.timestamp_pb2 import Timestamp
from hypothesis import strategies as st

from ona_pats import types

_FD = FieldDescriptor
TIMESTAMP_MIN = -62_135_596_800
TIMESTAMP_MAX = 253_402_300_799
DURATION_MAX = 315_576_000_000

#: Every message class of the schema.
MESSAGE_CLASSES: tuple[type[Message], ...] = tuple(
    cast(type[Message], getattr(types, name))
    for name in sorted(types.__all__)
    if isinstance(getattr(types, name), type) and issubclass(getattr(types, name), Message)
)

TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    TEXT,
)
JSON_VALUES: st.SearchStrategy[Any] = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)),
    max_leaves=20,
)


def timestamps() -> st.SearchStrategy[Timestamp]:
    """Any Timestamp in the documented range."""
    return st.builds(
        Timestamp,
        seconds=st.one_of(
            st.integers(TIMESTAMP_MIN, TIMESTAMP_MAX),
            st.sampled_from([TIMESTAMP_MIN, TIMESTAMP_MAX, 0, -1]),
        ),
        nanos=st.one_of(
            st.integers(0, 999_999_999), st.sampled_from([0, 1, 999_999_999, 10**6, 10**3])
        ),
    )


@st.composite
def durations(draw: st.DrawFn) -> Duration:
    """Any Duration in the documented range, seconds and nanos of one sign."""
    seconds = draw(st.integers(-DURATION_MAX, DURATION_MAX))
    nanos = draw(st.integers(0, 999_999_999))
    if seconds < 0 or (seconds == 0 and draw(st.booleans())):
        nanos = -nanos
    return Duration(seconds=seconds, nanos=nanos)


def _scalar(fd: FieldDescriptor) -> st.SearchStrategy[Any]:
    if fd.type == _FD.TYPE_STRING:
        return TEXT
    if fd.type == _FD.TYPE_BOOL:
        return st.booleans()
    if fd.type == _FD.TYPE_ENUM:
        assert fd.enum_type is not None
        known = [v.number for v in fd.enum_type.values]
        return st.one_of(st.sampled_from(known), st.integers(-(2**31), 2**31 - 1))
    if fd.type == _FD.TYPE_INT32:
        return st.integers(-(2**31), 2**31 - 1)
    if fd.type == _FD.TYPE_BYTES:
        return st.binary(max_size=40)
    raise NotImplementedError(f"add a strategy for field type {fd.type} ({fd.full_name})")


def _single(fd: FieldDescriptor) -> st.SearchStrategy[Any]:
    if fd.type != _FD.TYPE_MESSAGE:
        return _scalar(fd)
    desc = fd.message_type
    assert desc is not None
    name = desc.full_name
    if name == "google.protobuf.Timestamp":
        return timestamps()
    if name == "google.protobuf.Duration":
        return durations()
    return st.deferred(lambda: messages(desc))


@st.composite
def _message(draw: st.DrawFn, desc: Descriptor) -> Message:
    message = GetMessageClass(desc)()
    for fd in desc.fields:
        if fd.is_repeated:
            values = draw(st.lists(_single(fd), max_size=3))
            target = getattr(message, fd.name)
            for value in values:
                if fd.type == _FD.TYPE_MESSAGE:
                    target.add().CopyFrom(value)
                else:
                    target.append(value)
        elif draw(st.booleans()):
            value = draw(_single(fd))
            if fd.type == _FD.TYPE_MESSAGE:
                getattr(message, fd.name).CopyFrom(value)
            else:
                setattr(message, fd.name, value)
    return message


def messages(desc: Descriptor) -> st.SearchStrategy[Message]:
    """Messages of the type ``desc``, each field set or not, nested messages included."""
    return _message(desc)


def any_message() -> st.SearchStrategy[Message]:
    """A message of any type of the schema."""
    return st.sampled_from(MESSAGE_CLASSES).flatmap(
        lambda cls: messages(cast(Descriptor, cls.DESCRIPTOR))
    )
