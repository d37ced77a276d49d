"""The proto3 JSON mapping: to_json, from_json, to_dict, from_dict, the codec.

Generic behaviour is checked on ``AllTypes``, a proto3 message built here with every scalar
type, repeated and map fields, a oneof, ``optional``, recursion and the well-known types.
"""

from __future__ import annotations

import json
import re
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import pytest
from connectrpc.code import Code
from connectrpc.errors import ConnectError
from google.protobuf import descriptor_pb2, descriptor_pool, json_format
from google.protobuf.any_pb2 import Any as AnyMessage
from google.protobuf.descriptor import Descriptor
from google.protobuf.duration_pb2 import Duration
from google.protobuf.field_mask_pb2 import FieldMask
from google.protobuf.message import Message
from google.protobuf.message_factory import GetMessageClass
from google.protobuf.struct_pb2 import NULL_VALUE, Struct, Value
from google.protobuf.timestamp_pb2 import Timestamp
from google.protobuf.wrappers_pb2 import Int64Value, StringValue
from hypothesis import given, settings
from hypothesis import strategies as st

from ona_pats import JSONMappingError, ProtoJSONCodec, from_dict, from_json, to_dict, to_json
from ona_pats._json import READERS
from ona_pats._json._read import _Slow
from ona_pats._json._wkt import TIMESTAMP_MAX_SECONDS, TIMESTAMP_MIN_SECONDS, MappingProblem
from ona_pats._json._write import Writer
from ona_pats.rpc import UserServiceClientSync, UserServiceWSGIApplication
from ona_pats.types import (
    GetPersonalAccessTokenRequest,
    GetPersonalAccessTokenResponse,
    ListPersonalAccessTokensResponse,
    PaginationResponse,
    PersonalAccessToken,
    Principal,
    Subject,
)

# -- a message with every field kind, added to the default pool under a private package ----

_F = descriptor_pb2.FieldDescriptorProto
_WKT = {
    "ts": ".google.protobuf.Timestamp",
    "dur": ".google.protobuf.Duration",
    "st": ".google.protobuf.Struct",
    "val": ".google.protobuf.Value",
    "w64": ".google.protobuf.Int64Value",
    "wstr": ".google.protobuf.StringValue",
    "mask": ".google.protobuf.FieldMask",
    "any": ".google.protobuf.Any",
}


def _field(name: str, number: int, kind: int, **extra: Any) -> descriptor_pb2.FieldDescriptorProto:
    extra.setdefault("label", _F.LABEL_OPTIONAL)
    return _F(name=name, number=number, type=kind, **extra)  # type: ignore[arg-type]


def _entry(name: str, key: int, value: int, **value_extra: Any) -> descriptor_pb2.DescriptorProto:
    entry = descriptor_pb2.DescriptorProto(
        name=name, field=[_field("key", 1, key), _field("value", 2, value, **value_extra)]
    )
    entry.options.map_entry = True
    return entry


def _all_types_file() -> descriptor_pb2.FileDescriptorProto:
    pkg = "ona_pats.tests.json"
    scalars = [
        ("i32", _F.TYPE_INT32), ("i64", _F.TYPE_INT64), ("u32", _F.TYPE_UINT32),
        ("u64", _F.TYPE_UINT64), ("s32", _F.TYPE_SINT32), ("s64", _F.TYPE_SINT64),
        ("fx32", _F.TYPE_FIXED32), ("fx64", _F.TYPE_FIXED64), ("sfx32", _F.TYPE_SFIXED32),
        ("sfx64", _F.TYPE_SFIXED64), ("f32", _F.TYPE_FLOAT), ("f64", _F.TYPE_DOUBLE),
        ("flag", _F.TYPE_BOOL), ("text", _F.TYPE_STRING), ("blob", _F.TYPE_BYTES),
    ]  # fmt: skip
    fields = [_field(name, n, kind) for n, (name, kind) in enumerate(scalars, start=1)]
    rep = _F.LABEL_REPEATED
    msg, enum = _F.TYPE_MESSAGE, _F.TYPE_ENUM
    fields += [
        _field("color", 16, enum, type_name=f".{pkg}.Color"),
        _field("r_i64", 17, _F.TYPE_INT64, label=rep),
        _field("colors", 18, enum, type_name=f".{pkg}.Color", label=rep),
        _field("m_str", 19, msg, type_name=f".{pkg}.AllTypes.MStrEntry", label=rep),
        _field("m_int", 20, msg, type_name=f".{pkg}.AllTypes.MIntEntry", label=rep),
        _field("m_bool", 21, msg, type_name=f".{pkg}.AllTypes.MBoolEntry", label=rep),
        _field("nested", 22, msg, type_name=f".{pkg}.Nested"),
        _field("nesteds", 23, msg, type_name=f".{pkg}.Nested", label=rep),
        _field("o_str", 24, _F.TYPE_STRING, oneof_index=0),
        _field("o_int", 25, _F.TYPE_INT32, oneof_index=0),
        _field("opt", 26, _F.TYPE_INT32, oneof_index=1, proto3_optional=True),
        _field("child", 27, msg, type_name=f".{pkg}.AllTypes"),
        _field("tss", 28, msg, type_name=".google.protobuf.Timestamp", label=rep),
        _field("renamed", 29, _F.TYPE_STRING, json_name="customName"),
    ]
    fields += [
        _field(name, 40 + i, msg, type_name=type_name)
        for i, (name, type_name) in enumerate(_WKT.items())
    ]
    all_types = descriptor_pb2.DescriptorProto(
        name="AllTypes",
        field=fields,
        nested_type=[
            _entry("MStrEntry", _F.TYPE_STRING, _F.TYPE_INT64),
            _entry("MIntEntry", _F.TYPE_INT32, msg, type_name=f".{pkg}.Nested"),
            _entry("MBoolEntry", _F.TYPE_BOOL, _F.TYPE_STRING),
        ],
        oneof_decl=[descriptor_pb2.OneofDescriptorProto(name=n) for n in ("choice", "_opt")],
    )
    color = descriptor_pb2.EnumDescriptorProto(
        name="Color",
        value=[
            descriptor_pb2.EnumValueDescriptorProto(name=n, number=i)
            for i, n in enumerate(("COLOR_UNSPECIFIED", "COLOR_RED", "COLOR_BLUE"))
        ],
    )
    nested = descriptor_pb2.DescriptorProto(name="Nested", field=[_field("a", 1, _F.TYPE_INT32)])
    deps = [f"google/protobuf/{n}.proto" for n in ("timestamp", "duration", "struct", "wrappers")]
    return descriptor_pb2.FileDescriptorProto(
        name="ona_pats/tests/json/all_types.proto",
        package=pkg,
        syntax="proto3",
        dependency=[*deps, "google/protobuf/field_mask.proto", "google/protobuf/any.proto"],
        message_type=[all_types, nested],
        enum_type=[color],
    )


def _load_all_types() -> type[Message]:
    for module in (Timestamp, Duration, Struct, Int64Value, FieldMask, AnyMessage):
        assert module.DESCRIPTOR  # the dependencies are in the default pool
    pool = descriptor_pool.Default()
    try:
        desc = pool.FindMessageTypeByName("ona_pats.tests.json.AllTypes")
    except KeyError:
        pool.AddSerializedFile(_all_types_file().SerializeToString())
        desc = pool.FindMessageTypeByName("ona_pats.tests.json.AllTypes")
    return GetMessageClass(desc)


AllTypes = _load_all_types()
Nested = GetMessageClass(
    descriptor_pool.Default().FindMessageTypeByName("ona_pats.tests.json.Nested")
)


def _all(**fields: Any) -> Any:
    return AllTypes(**fields)


# -- writing ------------------------------------------------------------------------------


def test_to_json_writes_camel_case_enum_names_and_rfc3339() -> None:
    pat = PersonalAccessToken(
        id="p1",
        user_id="u1",
        creator=Subject(id="u1", principal=Principal.PRINCIPAL_USER),
        created_at=Timestamp(seconds=1_577_470_279, nanos=117_000_000),
        read_only=True,
    )
    assert to_dict(pat) == {
        "id": "p1",
        "userId": "u1",
        "description": "",
        "creator": {"id": "u1", "principal": "PRINCIPAL_USER"},
        "createdAt": "2019-12-27T18:11:19.117Z",
        "readOnly": True,
    }


def test_to_json_keys_follow_field_number_order() -> None:
    pat = PersonalAccessToken(creator=Subject(), created_at=Timestamp(), last_used=Timestamp())
    keys = list(json.loads(to_json(pat)))
    assert keys == ["id", "userId", "description", "creator", "createdAt", "lastUsed", "readOnly"]


def test_include_defaults_false_omits_fields_at_their_default() -> None:
    pat = PersonalAccessToken(id="p1", creator=Subject())
    assert to_dict(pat, include_defaults=False) == {"id": "p1", "creator": {}}
    assert to_json(Subject(), include_defaults=False) == "{}"


def test_include_defaults_writes_empty_lists_and_maps() -> None:
    data = to_dict(_all())
    assert (data["rI64"], data["mStr"], data["i64"]) == ([], {}, "0")
    assert not {"nested", "opt", "oStr"} & set(data)


def test_use_proto_names() -> None:
    data = to_dict(PersonalAccessToken(user_id="u1", read_only=True), use_proto_names=True)
    assert (data["user_id"], data["read_only"]) == ("u1", True)
    assert from_dict(data, PersonalAccessToken).user_id == "u1"


def test_custom_json_name_is_used() -> None:
    assert to_dict(_all(renamed="x"), include_defaults=False) == {"customName": "x"}
    assert from_json('{"customName": "y"}', AllTypes).renamed == "y"  # type: ignore[attr-defined]
    assert from_json('{"renamed": "z"}', AllTypes).renamed == "z"  # type: ignore[attr-defined]


def test_indent_pretty_prints() -> None:
    assert to_json(Subject(id="u1"), indent=2) == (
        '{\n  "id": "u1",\n  "principal": "PRINCIPAL_UNSPECIFIED"\n}'
    )


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        pytest.param({"i64": -(2**63)}, {"i64": str(-(2**63))}, id="int64-as-string"),
        pytest.param({"u64": 2**64 - 1}, {"u64": str(2**64 - 1)}, id="uint64-as-string"),
        pytest.param(
            {"sfx64": 5, "fx64": 6, "s64": -7},
            {"sfx64": "5", "fx64": "6", "s64": "-7"},
            id="64-bit-kinds",
        ),
        pytest.param(
            {"i32": -5, "u32": 2**32 - 1}, {"i32": -5, "u32": 2**32 - 1}, id="int32-as-number"
        ),
        pytest.param({"blob": b"\xfb\xff"}, {"blob": "+/8="}, id="bytes-standard-base64"),
        pytest.param({"f64": float("nan")}, {"f64": "NaN"}, id="nan"),
        pytest.param({"f64": float("-inf")}, {"f64": "-Infinity"}, id="minus-infinity"),
        pytest.param({"f32": 0.1}, {"f32": 0.1}, id="float32-shortest"),
        pytest.param({"f32": -1e-45}, {"f32": -1.4013e-45}, id="float32-subnormal-6-digits"),
        pytest.param({"f64": -0.0}, {"f64": -0.0}, id="negative-zero-is-not-default"),
        pytest.param({"color": 2}, {"color": "COLOR_BLUE"}, id="enum-name"),
        pytest.param({"color": 7}, {"color": 7}, id="unknown-enum-number-stays-a-number"),
        pytest.param({"m_bool": {True: "y"}}, {"mBool": {"true": "y"}}, id="bool-map-key"),
        pytest.param({"m_int": {-3: Nested(a=1)}}, {"mInt": {"-3": {"a": 1}}}, id="int-map-key"),
        pytest.param({"opt": 0}, {"opt": 0}, id="optional-set-to-zero"),
        pytest.param({"o_int": 0}, {"oInt": 0}, id="oneof-set-to-zero"),
        pytest.param(
            {"dur": Duration(seconds=-1, nanos=-500_000_000)}, {"dur": "-1.500s"}, id="duration"
        ),
        pytest.param({"w64": Int64Value(value=5)}, {"w64": "5"}, id="wrapper-unwrapped"),
        pytest.param({"wstr": StringValue()}, {"wstr": ""}, id="empty-wrapper-is-set"),
        pytest.param(
            {"mask": FieldMask(paths=["user_id", "a.b_c"])},
            {"mask": "userId,a.bC"},
            id="field-mask",
        ),
        pytest.param({"val": Value(null_value=NULL_VALUE)}, {"val": None}, id="value-null"),
        pytest.param(
            {"st": Struct(fields={"k": Value(bool_value=True)})}, {"st": {"k": True}}, id="struct"
        ),
        pytest.param(
            {"child": {"child": {"i32": 1}}}, {"child": {"child": {"i32": 1}}}, id="recursive"
        ),
    ],
)
def test_value_forms(fields: dict[str, Any], expected: dict[str, Any]) -> None:
    message = _all(**fields)
    text = to_json(message, include_defaults=False)
    assert json.loads(text) == expected
    assert from_json(text, AllTypes) == message
    assert json_format.Parse(text, AllTypes()) == message  # an independent reader agrees


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("a_1", id="digit-after-underscore"),
        pytest.param("a__b", id="double-underscore"),
        pytest.param("a_", id="trailing-underscore"),
        pytest.param("aB", id="uppercase"),
    ],
)
def test_field_mask_paths_without_a_camel_case_form_are_rejected(path: str) -> None:
    with pytest.raises(JSONMappingError) as info:
        to_json(_all(mask=FieldMask(paths=[path])))
    assert (info.value.path, info.value.value) == ("mask", path)


def test_float32_max_round_trips() -> None:
    """FLT_MAX prints as 3.4028235e+38, above FLT_MAX; json_format rejects it on the way back."""
    message = _all(f32=3.4028234663852886e38)
    text = to_json(message, include_defaults=False)
    assert text == '{"f32":3.4028235e+38}'
    assert from_json(text, AllTypes) == message
    with pytest.raises(json_format.ParseError):
        json_format.Parse(text, AllTypes())


def test_any_round_trips_through_json_format() -> None:
    packed = AnyMessage()
    packed.Pack(Subject(id="u1", principal=Principal.PRINCIPAL_RUNNER))
    data = to_dict(_all(any=packed), include_defaults=False)
    assert data["any"]["@type"] == "type.googleapis.com/gitpod.v1.Subject"
    assert from_dict(data, AllTypes) == _all(any=packed)


def test_any_holding_a_timestamp_uses_the_value_key_and_strict_rfc3339() -> None:
    packed = AnyMessage()
    packed.Pack(Timestamp(seconds=1))
    data = to_dict(_all(any=packed), include_defaults=False)
    url = "type.googleapis.com/google.protobuf.Timestamp"
    assert data == {"any": {"@type": url, "value": "1970-01-01T00:00:01Z"}}
    assert from_dict(data, AllTypes) == _all(any=packed)
    with pytest.raises(JSONMappingError) as info:
        from_dict({"any": {"@type": url, "value": "1970-1-01T00:00:01Z"}}, AllTypes)
    assert info.value.path == "any"


@pytest.mark.parametrize(
    ("document", "path"),
    [
        pytest.param({"any": {"@type": "example.com/no.such.Type"}}, "any", id="unknown-type"),
        pytest.param({"any": {"id": "x"}}, "any", id="missing-type"),
        pytest.param(
            {"any": {"@type": "type.googleapis.com/gitpod.v1.Subject", "bogus": 1}},
            "any.bogus",
            id="unknown-field-inside",
        ),
        pytest.param({"any": []}, "any", id="not-an-object"),
    ],
)
def test_any_errors(document: dict[str, Any], path: str) -> None:
    with pytest.raises(JSONMappingError) as info:
        from_dict(document, AllTypes)
    assert info.value.path == path


def test_empty_any_is_an_empty_object() -> None:
    assert to_dict(_all(any=AnyMessage()), include_defaults=False) == {"any": {}}
    assert from_dict({"any": {}}, AllTypes) == _all(any=AnyMessage())


# -- reading ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "fields"),
    [
        pytest.param({"i64": 5}, {"i64": 5}, id="int64-from-number"),
        pytest.param({"i64": "-9223372036854775808"}, {"i64": -(2**63)}, id="int64-min-string"),
        pytest.param({"i32": "1e3"}, {"i32": 1000}, id="exponent-string"),
        pytest.param({"i32": 2.0}, {"i32": 2}, id="integral-float"),
        pytest.param({"u64": "18446744073709551615"}, {"u64": 2**64 - 1}, id="uint64-max"),
        pytest.param({"f64": "Infinity"}, {"f64": float("inf")}, id="infinity-string"),
        pytest.param({"f64": "1.5"}, {"f64": 1.5}, id="double-string"),
        pytest.param({"f64": 3}, {"f64": 3.0}, id="double-from-integer"),
        pytest.param({"blob": "-_8"}, {"blob": b"\xfb\xff"}, id="bytes-urlsafe-unpadded"),
        pytest.param({"blob": "+/8="}, {"blob": b"\xfb\xff"}, id="bytes-standard-padded"),
        pytest.param({"color": 1}, {"color": 1}, id="enum-number"),
        pytest.param({"color": 99}, {"color": 99}, id="open-enum-unknown-number"),
        pytest.param({"i32": None, "nested": None, "rI64": None}, {}, id="null-is-unset"),
        pytest.param({"val": None}, {"val": Value(null_value=NULL_VALUE)}, id="null-value"),
        pytest.param({"mBool": {"false": "n"}}, {"m_bool": {False: "n"}}, id="bool-map-key"),
        pytest.param({"mInt": {"7": {}}}, {"m_int": {7: Nested()}}, id="int-map-key"),
        pytest.param({"o_str": ""}, {"o_str": ""}, id="oneof-proto-name"),
        pytest.param(
            {"ts": "2017-01-15T01:30:15.01+00:00"},
            {"ts": Timestamp(seconds=1_484_443_815, nanos=10_000_000)},
            id="timestamp-offset",
        ),
        pytest.param(
            {"tss": ["1970-01-01T00:00:00Z"]}, {"tss": [Timestamp()]}, id="repeated-timestamp"
        ),
        pytest.param({"mask": ""}, {"mask": FieldMask()}, id="empty-field-mask"),
        pytest.param({"wstr": "x"}, {"wstr": StringValue(value="x")}, id="wrapper"),
    ],
)
def test_from_json_accepts(document: dict[str, Any], fields: dict[str, Any]) -> None:
    assert from_json(json.dumps(document), AllTypes) == _all(**fields)


@pytest.mark.parametrize(
    ("text", "path", "value"),
    [
        pytest.param('{"i32": 2147483648}', "i32", 2**31, id="int32-overflow"),
        pytest.param('{"u32": -1}', "u32", -1, id="uint32-negative"),
        pytest.param(
            '{"i64": "9223372036854775808"}',
            "i64",
            "9223372036854775808",
            id="int64-overflow-string",
        ),
        pytest.param('{"i64": "1e999999999"}', "i64", "1e999999999", id="huge-exponent"),
        pytest.param('{"i32": 1.5}', "i32", 1.5, id="fractional-int"),
        pytest.param('{"i32": " 1"}', "i32", " 1", id="int-with-space"),
        pytest.param('{"i32": "0x10"}', "i32", "0x10", id="hex-int"),
        pytest.param('{"i32": true}', "i32", True, id="bool-as-int"),
        pytest.param('{"f32": 1e39}', "f32", 1e39, id="float32-overflow"),
        pytest.param('{"f32": 3.4028236e38}', "f32", 3.4028236e38, id="float32-rounds-to-inf"),
        pytest.param('{"f64": 1e999}', "f64", float("inf"), id="double-overflow"),
        pytest.param('{"f64": "nan"}', "f64", "nan", id="lowercase-nan"),
        pytest.param('{"flag": "true"}', "flag", "true", id="bool-as-string"),
        pytest.param('{"text": 5}', "text", 5, id="number-as-string"),
        pytest.param('{"blob": "a*b"}', "blob", "a*b", id="bad-base64"),
        pytest.param('{"color": "COLOR_GREEN"}', "color", "COLOR_GREEN", id="unknown-enum-name"),
        pytest.param('{"color": 1.0}', "color", 1.0, id="enum-float"),
        pytest.param('{"rI64": [1, "x"]}', "rI64[1]", "x", id="repeated-element"),
        pytest.param('{"rI64": 1}', "rI64", 1, id="scalar-for-repeated"),
        pytest.param('{"nested": []}', "nested", [], id="array-for-message"),
        pytest.param(
            '{"nesteds": [{}, {"a": "b"}]}', "nesteds[1].a", "b", id="nested-element-field"
        ),
        pytest.param('{"mStr": {"k": "x"}}', 'mStr["k"]', "x", id="map-value"),
        pytest.param('{"mInt": {"one": {}}}', 'mInt["one"]', "one", id="int-map-key"),
        pytest.param('{"mBool": {"True": "x"}}', 'mBool["True"]', "True", id="bool-map-key"),
        pytest.param('{"oStr": "a", "oInt": 1}', "oInt", 1, id="oneof-twice"),
        pytest.param('{"text": "a", "text": "b"}', "text", "text", id="duplicate-key"),
        pytest.param(
            '{"nesteds": [{}, {"a": 1, "a": 2}]}', "nesteds[1].a", "a", id="nested-duplicate-key"
        ),
        pytest.param(
            '{"st": {"k": {"x": 1, "x": 2}}}', "st.k.x", "x", id="duplicate-key-in-struct"
        ),
        pytest.param(
            '{"customName": "a", "renamed": "b"}', "renamed", "b", id="json-and-proto-name"
        ),
        pytest.param('{"bogus": 1}', "bogus", 1, id="unknown-field"),
        pytest.param(
            '{"child": {"child": {"bogus": 1}}}', "child.child.bogus", 1, id="nested-unknown-field"
        ),
        pytest.param('{"dur": "1m"}', "dur", "1m", id="bad-duration"),
        pytest.param('{"mask": "user_id"}', "mask", "user_id", id="snake-field-mask"),
        pytest.param('{"text": "\\ud800"}', "text", "\ud800", id="lone-surrogate"),
        pytest.param(
            '{"tss": ["2017-02-30T00:00:00Z"]}',
            "tss[0]",
            "2017-02-30T00:00:00Z",
            id="timestamp-in-list",
        ),
        pytest.param('{"w64": "x"}', "w64", "x", id="wrapper-value"),
        pytest.param('{"st": 1}', "st", 1, id="struct-not-object"),
    ],
)
def test_from_json_rejects_with_path_and_value(text: str, path: str, value: Any) -> None:
    with pytest.raises(JSONMappingError) as info:
        from_json(text, AllTypes)
    assert (info.value.path, info.value.value) == (path, value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param(b'{"text": "\xff"}', "not valid UTF-8", id="invalid-utf8"),
        pytest.param(b'\xef\xbb\xbf{"text": "x"}', "invalid JSON", id="utf8-bom"),
        pytest.param('{"text": "x"', "invalid JSON", id="truncated"),
        pytest.param("", "invalid JSON", id="empty"),
        pytest.param('{"f64": NaN}', "not JSON", id="nan-literal"),
        pytest.param('{"f64": Infinity}', "not JSON", id="infinity-literal"),
        pytest.param("[" * 100_000 + "]" * 100_000, "invalid JSON", id="deep-nesting"),
        pytest.param('{"i32": ' + "1" * 5000 + "}", "invalid JSON", id="int-beyond-digit-limit"),
        pytest.param("[]", "expected an object", id="array-document"),
    ],
)
def test_from_json_rejects_documents(text: str | bytes, message: str) -> None:
    with pytest.raises(JSONMappingError, match=message):
        from_json(text, AllTypes)


def test_deeply_nested_messages_are_a_mapping_error() -> None:
    text = '{"child":' * 5_000 + "{}" + "}" * 5_000
    with pytest.raises(JSONMappingError):
        from_json(text, AllTypes)


def test_ignore_unknown_fields_skips_keys_and_unknown_enum_names() -> None:
    text = '{"bogus": 1, "color": "COLOR_GREEN", "colors": ["COLOR_RED", "COLOR_NEW", 9], "i32": 1}'
    message = from_json(text, AllTypes, ignore_unknown_fields=True)
    assert message == _all(i32=1, colors=[1, 9])
    with pytest.raises(JSONMappingError):
        from_json(text, AllTypes)


def test_newer_server_principal_is_tolerated_when_ignoring_unknowns() -> None:
    """A Principal added after this client was built leaves the field at its default."""
    text = '{"pat": {"id": "p1", "creator": {"principal": "PRINCIPAL_AGENT"}, "newField": {}}}'
    response = from_json(text, GetPersonalAccessTokenResponse, ignore_unknown_fields=True)
    assert response.pat.id == "p1"
    assert response.pat.HasField("creator")
    assert response.pat.creator.principal == Principal.PRINCIPAL_UNSPECIFIED


def test_from_json_accepts_bytes_and_an_instance_to_fill() -> None:
    target = PersonalAccessToken(id="old", description="old")
    result = from_json(b'{"id": "new"}', target)
    assert result is target
    assert target == PersonalAccessToken(id="new")


def test_error_path_names_the_list_element() -> None:
    page = {"personalAccessTokens": [{}, {}, {}, {"createdAt": "2017-01-15T01:30:15.Z"}]}
    with pytest.raises(JSONMappingError) as info:
        from_dict(page, ListPersonalAccessTokensResponse)
    assert info.value.path == "personalAccessTokens[3].createdAt"
    assert info.value.value == "2017-01-15T01:30:15.Z"
    assert str(info.value).startswith("personalAccessTokens[3].createdAt: ")


def test_write_error_path_names_the_list_element() -> None:
    bad = PersonalAccessToken(expires_at=Timestamp(seconds=TIMESTAMP_MAX_SECONDS + 1))
    page = ListPersonalAccessTokensResponse(personal_access_tokens=[PersonalAccessToken(), bad])
    with pytest.raises(JSONMappingError) as info:
        to_json(page)
    assert info.value.path == "personalAccessTokens[1].expiresAt"


def test_from_dict_rejects_python_values_that_are_not_json() -> None:
    with pytest.raises(JSONMappingError) as info:
        from_dict({"rI64": (1, 2)}, AllTypes)
    assert info.value.path == "rI64"
    assert "Python tuple" in str(info.value)


def test_well_known_types_at_the_top_level() -> None:
    assert to_json(Timestamp(seconds=1)) == '"1970-01-01T00:00:01Z"'
    assert from_json('"1970-01-01T00:00:01Z"', Timestamp) == Timestamp(seconds=1)
    assert from_json('"-0.5s"', Duration) == Duration(nanos=-500_000_000)
    assert from_json('{"a": [1, null]}', Struct) == json_format.Parse('{"a": [1, null]}', Struct())


# -- round trips ----------------------------------------------------------------------------

_TEXT = st.text(max_size=12)
_TIMESTAMPS = st.builds(
    Timestamp,
    seconds=st.integers(TIMESTAMP_MIN_SECONDS, TIMESTAMP_MAX_SECONDS),
    nanos=st.integers(0, 999_999_999),
)
_SUBJECTS = st.builds(Subject, id=_TEXT, principal=st.integers(-(2**31), 2**31 - 1))


@st.composite
def pats(draw: st.DrawFn) -> PersonalAccessToken:
    """Any PersonalAccessToken: unset or edge timestamps, unknown Principal numbers included."""
    pat = PersonalAccessToken(
        id=draw(_TEXT), user_id=draw(_TEXT), description=draw(_TEXT), read_only=draw(st.booleans())
    )
    if draw(st.booleans()):
        pat.creator.CopyFrom(draw(_SUBJECTS))
    for name in ("created_at", "expires_at", "last_used"):
        if draw(st.booleans()):
            getattr(pat, name).CopyFrom(draw(_TIMESTAMPS))
    return pat


_PAGES = st.builds(
    lambda items, token: ListPersonalAccessTokensResponse(
        personal_access_tokens=items, pagination=PaginationResponse(next_token=token)
    ),
    st.lists(pats(), max_size=4),
    _TEXT,
)


@settings(deadline=None)
@given(st.one_of(pats(), _PAGES), st.booleans(), st.booleans())
def test_round_trip_pats_and_pages(message: Message, defaults: bool, proto_names: bool) -> None:
    text = to_json(message, include_defaults=defaults, use_proto_names=proto_names)
    assert from_json(text, type(message)) == message
    assert json.loads(text) == to_dict(
        message, include_defaults=defaults, use_proto_names=proto_names
    )
    assert json_format.Parse(text, type(message)()) == message


@settings(deadline=None)
@given(_PAGES)
def test_reads_what_json_format_writes(page: ListPersonalAccessTokensResponse) -> None:
    text = json_format.MessageToJson(page, always_print_fields_with_no_presence=True)
    assert from_json(text, ListPersonalAccessTokensResponse) == page


# -- the connectrpc codec ------------------------------------------------------------------


def test_codec_is_compact_and_named_json() -> None:
    codec = ProtoJSONCodec()
    assert codec.name() == "json"
    assert codec.encode(Subject(id="u1")) == b'{"id":"u1"}'
    assert ProtoJSONCodec(include_defaults=True).encode(Subject()) == (
        b'{"id":"","principal":"PRINCIPAL_UNSPECIFIED"}'
    )


def test_codec_tolerates_a_newer_peer_by_default() -> None:
    body = b'{"id": "u1", "principal": "PRINCIPAL_FROM_THE_FUTURE", "newField": 1}'
    assert ProtoJSONCodec().decode(body, Subject) == Subject(id="u1")
    with pytest.raises(JSONMappingError):
        ProtoJSONCodec(ignore_unknown_fields=False).decode(body, Subject)


def test_codec_is_strict_about_rfc3339() -> None:
    with pytest.raises(JSONMappingError) as info:
        ProtoJSONCodec().decode(
            b'{"pat": {"createdAt": "2017-1-15T01:30:15Z"}}', GetPersonalAccessTokenResponse
        )
    assert info.value.path == "pat.createdAt"


def _serve(app: Callable[..., Any]) -> Iterator[str]:
    class Quiet(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    server: WSGIServer = make_server("127.0.0.1", 0, app, handler_class=Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def raw_json_server() -> Iterator[tuple[str, list[bytes]]]:
    """A loopback server answering every call with 200 and the next queued JSON body."""
    bodies: list[bytes] = []

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        start_response("200 OK", [("content-type", "application/json")])
        return [bodies.pop(0)]

    for url in _serve(app):
        yield url, bodies


def test_connect_client_reads_a_newer_servers_json(
    raw_json_server: tuple[str, list[bytes]],
) -> None:
    url, bodies = raw_json_server
    bodies.append(
        b'{"pat": {"id": "p1", "creator": {"principal": "PRINCIPAL_NEW"}, "extra": true}}'
    )
    client = UserServiceClientSync(url, codec=ProtoJSONCodec(), send_compression=None)
    response = client.get_personal_access_token(GetPersonalAccessTokenRequest())
    assert response.pat.id == "p1"


def test_connect_client_wraps_a_mapping_error_in_connect_error(
    raw_json_server: tuple[str, list[bytes]],
) -> None:
    """connectrpc raises ConnectError(INVALID_ARGUMENT) with the JSONMappingError as cause."""
    url, bodies = raw_json_server
    bodies.append(b'{"pat": {"createdAt": "2017-01-15T01:30:15+24:00"}}')
    client = UserServiceClientSync(url, codec=ProtoJSONCodec(), send_compression=None)
    with pytest.raises(ConnectError) as info:
        client.get_personal_access_token(GetPersonalAccessTokenRequest())
    assert info.value.code == Code.INVALID_ARGUMENT
    cause = info.value.__cause__
    assert isinstance(cause, JSONMappingError)
    assert cause.path == "pat.createdAt"


class _EchoService:
    """Only Get answers; the JSON codec fails before the others could be reached."""

    create_personal_access_token = list_personal_access_tokens = None
    delete_personal_access_token = None

    def get_personal_access_token(
        self, request: GetPersonalAccessTokenRequest, ctx: Any
    ) -> GetPersonalAccessTokenResponse:
        return GetPersonalAccessTokenResponse(
            pat=PersonalAccessToken(id=request.personal_access_token_id)
        )


def test_connect_server_answers_invalid_argument_with_the_path() -> None:
    app = UserServiceWSGIApplication(cast(Any, _EchoService()), codecs=[ProtoJSONCodec()])
    for url in _serve(app):
        request = urllib.request.Request(  # noqa: S310 - loopback http
            f"{url}/gitpod.v1.UserService/GetPersonalAccessToken",
            data=b'{"personalAccessTokenId": 5}',
            headers={"content-type": "application/json"},
        )
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(request)  # noqa: S310 - loopback http
        error = json.loads(info.value.read())
        assert error["code"] == "invalid_argument"
        assert "personalAccessTokenId: expected a string" in error["message"]


# -- the README section --------------------------------------------------------------------

_README_SECTION = Path(__file__).parent.parent / "docs" / "readme" / "json-and-timestamps.md"


@pytest.mark.parametrize(
    "block",
    [
        pytest.param(block, id=f"block-{i}")
        for i, block in enumerate(
            re.findall(r"```python\n(.*?)```", _README_SECTION.read_text(), re.S), start=1
        )
    ],
)
def test_readme_json_section_examples_run(block: str) -> None:
    exec(compile(block, str(_README_SECTION), "exec"), {})  # noqa: S102 - our own docs


def test_plans_are_built_once_across_threads() -> None:
    """Threads racing on a fresh plan cache (recursive type included) all get a working plan."""
    writer = Writer(include_defaults=False, use_proto_names=False)
    message = _all(child=_all(child=_all(i32=1)))
    barrier = threading.Barrier(8)
    results: list[Any] = []

    def work() -> None:
        barrier.wait()
        results.append(writer.message(cast(Descriptor, AllTypes.DESCRIPTOR))(message))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [{"child": {"child": {"i32": 1}}}] * 8


# -- the fast read plan never decides differently from the precise one ----------

_PAT_KEYS: tuple[str, ...] = ("id", "userId", "user_id", "description", "creator", "createdAt")
_PAT_KEYS += ("created_at", "expiresAt", "lastUsed", "readOnly", "read_only", "principal", "bogus")
_ODD_VALUES: st.SearchStrategy[Any] = st.sampled_from(
    [
        *(None, "", "p1", "M\u00fcller", "\ud800", 0, 2, 1.5, True, [], {}, "PRINCIPAL_USER", "X"),
        *("2017-01-15T01:30:15Z", "2017-01-15T01:30:15.123456789Z", "2017-01-15t01:30:15z"),
        *("2017-01-15T01:30:15.Z", "2017-01-15T01:30:60Z", "0000-01-01T00:00:00Z"),
        *("2017-01-15T01:30:15.\uff11Z", "2017-01-15T01:30:15+01:00"),
    ]
)
_PAT_DOCUMENTS = st.recursive(
    _ODD_VALUES, lambda inner: st.dictionaries(st.sampled_from(_PAT_KEYS), inner), max_leaves=12
)


def _outcome(read: Callable[[Any], Any], document: Any) -> Any:
    try:
        return PersonalAccessToken(**read(document))
    except (_Slow, MappingProblem, TypeError):  # TypeError: a non-object for the whole message
        return "not decided"


@settings(max_examples=400, deadline=None)
@given(document=_PAT_DOCUMENTS, ignore=st.booleans())
def test_fast_plan_agrees_with_the_precise_plan(document: Any, ignore: bool) -> None:
    """Whatever the fast plan accepts, the precise plan accepts and reads the same way."""
    desc = PersonalAccessToken.DESCRIPTOR
    fast = _outcome(READERS[ignore].fast.message(desc), document)
    if fast != "not decided":
        assert fast == _outcome(READERS[ignore].precise.message(desc), document)


@pytest.mark.parametrize(
    ("text", "path"),
    [
        pytest.param('{"userId": null, "user_id": "u1"}', None, id="null-then-proto-name"),
        pytest.param('{"userId": "u1", "user_id": "u2"}', "user_id", id="both-names"),
        pytest.param('{"description": "M\u00fcller", "bogus": null}', "bogus", id="unknown-null"),
        pytest.param('{"creator": {"principal": 2}}', None, id="enum-number"),
        pytest.param('{"createdAt": "2017-01-15T01:30:15.Z"}', "createdAt", id="bad-timestamp"),
    ],
)
def test_documents_the_fast_plan_hands_to_the_precise_one(text: str, path: str | None) -> None:
    if path is None:
        expected = json_format.Parse(text, PersonalAccessToken())
        assert from_json(text, PersonalAccessToken) == expected
        return
    with pytest.raises(JSONMappingError) as info:
        from_json(text, PersonalAccessToken)
    assert info.value.path == path
