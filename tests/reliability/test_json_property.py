"""Property and fuzz tests of the JSON mapping, over every message type of the schema.

``tests/test_json.py`` holds the mapping's own round-trip property; these go wider: every
message type with every field over its whole range, every writer option, agreement with
``google.protobuf.json_format`` (an independent implementation) in both directions, and
hostile input (random JSON documents, mutated valid documents, random bytes, deep nesting)
that must end in a message or a ``JSONMappingError``, never another exception.
"""

from __future__ import annotations

import json
from typing import Any, cast

import pytest
from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor
from google.protobuf.message import Message
from hypothesis import given, settings
from hypothesis import strategies as st

from ona_pats import JSONMappingError, from_dict, from_json, to_dict, to_json

from ._messages import JSON_VALUES, MESSAGE_CLASSES, any_message, messages
from ._settings import HYPOTHESIS_EXAMPLES

_EXAMPLES = settings(max_examples=HYPOTHESIS_EXAMPLES, deadline=None)
_CLASSES = st.sampled_from(MESSAGE_CLASSES)


@_EXAMPLES
@given(any_message(), st.booleans(), st.booleans())
def test_round_trip_every_message_and_option(
    message: Message, include_defaults: bool, use_proto_names: bool
) -> None:
    text = to_json(message, include_defaults=include_defaults, use_proto_names=use_proto_names)
    assert from_json(text, type(message)) == message
    data = to_dict(message, include_defaults=include_defaults, use_proto_names=use_proto_names)
    assert from_dict(data, type(message)) == message
    assert json.loads(text) == data


@_EXAMPLES
@given(any_message())
def test_json_format_reads_what_we_write(message: Message) -> None:
    parsed = json_format.Parse(to_json(message), type(message)())
    assert parsed == message


@_EXAMPLES
@given(any_message())
def test_we_read_what_json_format_writes(message: Message) -> None:
    text = json_format.MessageToJson(message, always_print_fields_with_no_presence=True)
    assert from_json(text, type(message)) == message


def _parse_or_mapping_error(text: str | bytes, cls: type[Message], ignore: bool) -> None:
    try:
        result = from_json(text, cls, ignore_unknown_fields=ignore)
    except JSONMappingError as exc:
        message = str(exc)
        assert message, "a mapping error says what is wrong"
        return
    assert isinstance(result, cls)


@_EXAMPLES
@given(_CLASSES, JSON_VALUES, st.booleans())
def test_random_json_is_a_message_or_a_mapping_error(
    cls: type[Message], document: Any, ignore: bool
) -> None:
    _parse_or_mapping_error(json.dumps(document), cls, ignore)


@st.composite
def _mutated_documents(draw: st.DrawFn) -> tuple[type[Message], str]:
    """A valid document of some message with one value replaced by a random JSON value."""
    message = draw(any_message())
    data = to_dict(message)
    holder, key = _pick_slot(draw, data)
    if holder is not None:
        holder[key] = draw(JSON_VALUES)
    return type(message), json.dumps(data)


def _pick_slot(draw: st.DrawFn, data: Any) -> tuple[Any, Any]:
    holder: Any = None
    key: Any = None
    node = data
    while isinstance(node, dict | list) and node:
        keys = list(node) if isinstance(node, dict) else list(range(len(node)))
        holder, key = node, draw(st.sampled_from(keys))
        node = node[key]
        if draw(st.booleans()):
            break
    return holder, key


@_EXAMPLES
@given(_mutated_documents(), st.booleans())
def test_mutated_documents_are_a_message_or_a_mapping_error(
    case: tuple[type[Message], str], ignore: bool
) -> None:
    cls, text = case
    _parse_or_mapping_error(text, cls, ignore)


@_EXAMPLES
@given(_CLASSES, st.binary(max_size=200))
def test_random_bytes_are_a_message_or_a_mapping_error(cls: type[Message], data: bytes) -> None:
    _parse_or_mapping_error(data, cls, ignore=True)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("[" * 100_000, id="deep-array"),
        pytest.param('{"pat":' * 50_000 + "{}" + "}" * 50_000, id="deep-object"),
        pytest.param(b'{"description": "\xff\xfe"}', id="invalid-utf8"),
        pytest.param(b'\xef\xbb\xbf{"id": "x"}', id="utf8-bom"),
        pytest.param('{"id": "a", "id": "b"}', id="duplicate-key"),
        pytest.param('{"createdAt": "2017-01-15T01:30:15+24:00"}', id="offset-24h"),
        pytest.param('{"id": NaN}', id="nan-constant"),
        pytest.param('{"readOnly": 1e999}', id="huge-number"),
        pytest.param('{"validFor": "315576000001s"}', id="duration-range"),
        pytest.param('{"principal": 1.5}', id="fractional-enum"),
        pytest.param('{"pageSize": "9999999999999999999999"}', id="int32-overflow"),
        pytest.param("\ud800", id="lone-surrogate"),
    ],
)
@pytest.mark.parametrize("cls", MESSAGE_CLASSES, ids=lambda c: c.__name__)
def test_hostile_documents_are_a_message_or_a_mapping_error(
    cls: type[Message], text: str | bytes
) -> None:
    _parse_or_mapping_error(text, cls, ignore=False)
    _parse_or_mapping_error(text, cls, ignore=True)


@settings(max_examples=len(MESSAGE_CLASSES) * 3, deadline=None)
@given(st.data())
def test_strategies_cover_every_message_type(data: st.DataObject) -> None:
    """Guards the strategies: a message or field type added to the schema is generated too."""
    names = {cast(Descriptor, cls.DESCRIPTOR).name for cls in MESSAGE_CLASSES}
    assert {"PersonalAccessToken", "Subject", "ListPersonalAccessTokensResponse"} <= names
    for cls in MESSAGE_CLASSES:
        assert isinstance(data.draw(messages(cast(Descriptor, cls.DESCRIPTOR))), cls)
