"""Our hand-written gitpod.v1 schema is wire-compatible with the production one.

Compared mechanically with the descriptors published in the official gitpod-sdk 1.2.0 wheel
(tests/fixtures/gitpod-sdk-1.2.0.binpb, made by scripts/extract_official_descriptors.py).
"""

from __future__ import annotations

import copy
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from google.protobuf import descriptor_pb2, message_factory
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from google.protobuf.unknown_fields import UnknownFieldSet

from ona_pats import types
from tests._official import (
    FileMap,
    built_files,
    compare,
    compare_rules,
    official_files,
    official_message_class,
    our_files,
)

if TYPE_CHECKING:
    from google._upb._message import FieldDescriptor as _UpbField

    _Field = FieldDescriptor | _UpbField

ROOT = Path(__file__).resolve().parent.parent
OUR_MESSAGES = sorted(
    m.full_name
    for file in (types.PAGINATION_FILE, types.IDENTITY_FILE, types.USER_FILE)
    for m in file.message_types_by_name.values()
)


def test_our_schema_matches_the_official_descriptors() -> None:
    assert compare(our_files(), official_files()) == []


def test_our_buf_validate_rules_are_productions_rule_for_rule() -> None:
    """Each field's (buf.validate.field) option decodes to production's, field by field."""
    assert compare_rules(built_files(), official_files()) == []


def _checkout(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "proto", tmp_path / "proto")
    shutil.copytree(ROOT / "third_party", tmp_path / "third_party")
    shutil.copy(ROOT / "buf.yaml", tmp_path / "buf.yaml")
    return tmp_path


#: (file, text, replacement, the field whose rules then differ, or None when they must not).
RULE_EDITS = [
    ("pagination.proto", "lte: 100", "lte: 101", "PaginationRequest.page_size"),
    ("pagination.proto", "gte: 0\n    lte: 100", "lte: 100\n    gte: 0", None),
    ("user.proto", "max_items: 25", "max_items: 26", "Filter.user_ids"),
    ("user.proto", "min_items: 0\n", "", "Filter.user_ids"),
    ("user.proto", "string: {uuid: true}", "string: {uuid: false}", "Filter.user_ids"),
    ("user.proto", "lte: {seconds: 7776000}", "lte: {seconds: 7776001}", ".valid_for"),
    ("user.proto", "gte: {}\n    lte", "gte: {nanos: 1}\n    lte", ".valid_for"),
    (
        "user.proto",
        "PersonalAccessToken pat = 1 [(buf.validate.field).required = true];",
        "PersonalAccessToken pat = 1;",
        "GetPersonalAccessTokenResponse.pat",
    ),
    (
        "user.proto",
        "string token = 1 [(buf.validate.field).required = true];",
        "string token = 1 [(buf.validate.field).string.min_len = 1];",
        "Response.token",
    ),
    ("identity.proto", "IGNORE_IF_ZERO_VALUE", "IGNORE_ALWAYS", "Subject.id"),
    (
        "identity.proto",
        "(buf.validate.field).string.uuid = true,\n    (buf.validate.field).ignore",
        "(buf.validate.field).ignore",
        "Subject.id",
    ),
    ("identity.proto", "enum.defined_only = true", "enum.const = 1", "Subject.principal"),
]


@pytest.mark.parametrize(("file", "old", "new", "differs"), RULE_EDITS)
def test_the_rule_comparison_catches_an_edited_rule(
    tmp_path: Path, file: str, old: str, new: str, differs: str | None
) -> None:
    """One rule changed in a copy of proto/ is reported for its field and no other; the same
    rules written in another order are not a difference."""
    root = _checkout(tmp_path)
    path = root / "proto/gitpod/v1" / file
    text = path.read_text()
    assert text.count(old) == 1
    path.write_text(text.replace(old, new))
    problems = compare_rules(built_files(root), official_files())
    if differs is None:
        assert problems == []
    else:
        assert len(problems) == 1, problems
        assert differs in problems[0].split(":")[0]


_P = "gitpod.v1.PaginationRequest"
_S = "gitpod.v1.Subject"
_F = "gitpod.v1.ListPersonalAccessTokensRequest.Filter"


@pytest.mark.parametrize(
    ("message", "field", "rules"),
    [
        pytest.param(_P, "page_size", {"int32": {"gt": 0}}, id="exclusive-bound"),
        pytest.param(_P, "page_size", {"int32": {"gte": 5, "lte": 1}}, id="exclusive-range"),
        pytest.param(_P, "page_size", {"int32": {"gte": 0, "const": 1}}, id="int32-const"),
        pytest.param(_P, "page_size", {"int32": {}}, id="no-bound"),
        pytest.param(_S, "id", {"string": {"min_len": "1"}}, id="string-min-len"),
        pytest.param(_S, "id", {"string": {"uuid": True}, "ignore": "IGNORE_ALWAYS"}, id="ignore"),
        pytest.param(_S, "id", {"enum": {"defined_only": True}}, id="enum-rule-on-a-string"),
        pytest.param(_S, "principal", {"enum": {"const": 1}}, id="enum-const"),
        pytest.param(_F, "user_ids", {"repeated": {"unique": True}}, id="repeated-unique"),
        pytest.param(_F, "user_ids", {"string": {"uuid": True}}, id="item-rule-on-the-list"),
        pytest.param("gitpod.v1.Nothing", "id", {"required": True}, id="unknown-message"),
    ],
)
def test_a_rule_ona_pats_does_not_enforce_is_refused(
    message: str, field: str, rules: dict[str, object]
) -> None:
    """Compiling the rules fails on any rule the checks would not enforce (at import, for the
    generated rules), instead of ignoring it; the rules as generated compile."""
    from ona_pats import _rules
    from ona_pats._gen.gitpod.v1.validate_rules import FIELD_RULES

    messages = _rules._all_messages()
    assert _rules._compile(FIELD_RULES, messages)
    edited = copy.deepcopy(FIELD_RULES)
    edited.setdefault(message, {})[field] = rules
    with pytest.raises(
        _rules.SchemaRuleError, match=field if message != "gitpod.v1.Nothing" else "Nothing"
    ):
        _rules._compile(edited, messages)


def test_every_official_pat_element_is_in_our_schema() -> None:
    """The PAT subset is complete: each official PAT message and rpc exists in ours."""
    ours = our_files()["gitpod/v1/user.proto"]
    official = official_files()["gitpod/v1/user.proto"]
    official_pat = {m.name for m in official.message_type if "PersonalAccessToken" in m.name}
    assert official_pat == {m.name for m in ours.message_type}
    rpcs = {m.name for m in official.service[0].method if "PersonalAccessToken" in m.name}
    assert rpcs == {m.name for m in ours.service[0].method}


def _message(files: FileMap, file: str, name: str) -> descriptor_pb2.DescriptorProto:
    return next(m for m in files[file].message_type if m.name == name)


def _field(files: FileMap, name: str, field: str) -> descriptor_pb2.FieldDescriptorProto:
    message = _message(files, "gitpod/v1/user.proto", name)
    return next(f for f in message.field if f.name == field)


def _renumber(files: FileMap) -> None:
    _field(files, "PersonalAccessToken", "description").number = 9


def _rename_json(files: FileMap) -> None:
    _field(files, "PersonalAccessToken", "user_id").json_name = "user_id"


def _retype(files: FileMap) -> None:
    field = _field(files, "PersonalAccessToken", "read_only")
    field.type = descriptor_pb2.FieldDescriptorProto.TYPE_INT32


def _relabel(files: FileMap) -> None:
    nested = _message(files, "gitpod/v1/user.proto", "ListPersonalAccessTokensRequest")
    nested.nested_type[0].field[0].label = descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL


def _principal(files: FileMap) -> descriptor_pb2.EnumDescriptorProto:
    return next(e for e in files["gitpod/v1/identity.proto"].enum_type if e.name == "Principal")


def _renumber_enum_value(files: FileMap) -> None:
    principal = _principal(files)
    principal.value[3].number = 9


def _unreserve(files: FileMap) -> None:
    principal = _principal(files)
    del principal.reserved_name[:]


def _idempotency(files: FileMap) -> None:
    methods = files["gitpod/v1/user.proto"].service[0].method
    method = next(m for m in methods if m.name == "GetPersonalAccessToken")
    method.options.idempotency_level = descriptor_pb2.MethodOptions.IDEMPOTENCY_UNKNOWN


def _pagination_number(files: FileMap) -> None:
    files["gitpod/v1/pagination.proto"].message_type[0].field[1].number = 3


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        pytest.param(_renumber, "PersonalAccessToken.description: number", id="field-number"),
        pytest.param(_rename_json, "PersonalAccessToken.user_id: json_name", id="json-name"),
        pytest.param(_retype, "PersonalAccessToken.read_only: type", id="field-type"),
        pytest.param(_relabel, "Filter.user_ids: label", id="repeated-label"),
        pytest.param(_renumber_enum_value, "gitpod.v1.Principal: values", id="enum-number"),
        pytest.param(_unreserve, "gitpod.v1.Principal: reserved names", id="reserved-name"),
        pytest.param(_idempotency, "GetPersonalAccessToken: idempotency_level", id="idempotency"),
        pytest.param(_pagination_number, "PaginationRequest.token: number", id="pagination"),
    ],
)
def test_comparison_fails_when_a_copy_of_the_descriptors_is_mutated(
    mutate: Callable[[FileMap], None], expected: str
) -> None:
    """The comparison is not vacuous: each kind of wire change in a copy is reported."""
    official = official_files()
    mutated = copy.deepcopy(official)
    mutate(mutated)
    assert compare(our_files(), official) == []
    problems = compare(our_files(), mutated)
    assert any(expected in problem for problem in problems), problems


def _fill(message: Message, depth: int = 0) -> None:
    """Set every field of ``message`` to a non-default value, recursively."""
    for field in message.DESCRIPTOR.fields:
        for index in range(2 if _repeated(field) else 1):
            if field.type == FieldDescriptor.TYPE_MESSAGE:
                target = getattr(message, field.name)
                _fill(target.add() if _repeated(field) else target, depth + 1)
                continue
            value = _sample(field, index, depth)
            if _repeated(field):
                getattr(message, field.name).append(value)
            else:
                setattr(message, field.name, value)


def _repeated(field: _Field) -> bool:
    return bool(field.is_repeated)


def _sample(field: _Field, index: int, depth: int) -> object:
    if field.enum_type is not None:
        return field.enum_type.values[-1 - index].number
    if field.type == FieldDescriptor.TYPE_BOOL:
        return True
    if field.type == FieldDescriptor.TYPE_STRING:
        return f"{field.name}-{index}-{depth}"
    if field.name == "nanos":
        return 123_456_789
    return 1_700_000_000 + index + field.number


def _unknown_fields(message: Message) -> list[str]:
    """Paths of every unknown field in ``message`` and its sub-messages."""
    found = [message.DESCRIPTOR.full_name] if len(UnknownFieldSet(message)) else []
    for field, value in message.ListFields():
        if field.type != FieldDescriptor.TYPE_MESSAGE:
            continue
        for item in value if _repeated(field) else [value]:
            found += _unknown_fields(item)
    return found


@pytest.mark.parametrize("full_name", OUR_MESSAGES)
def test_official_bytes_decode_into_ours_and_back(full_name: str) -> None:
    """Bytes written by the official message decode into ours with no unknown fields, and back."""
    official_cls = official_message_class(full_name)
    official = official_cls()
    _fill(official)
    wire = official.SerializeToString(deterministic=True)

    our_cls = message_factory.GetMessageClass(types.USER_FILE.pool.FindMessageTypeByName(full_name))
    ours = our_cls.FromString(wire)
    assert _unknown_fields(ours) == []
    assert ours.SerializeToString(deterministic=True) == wire
    back = official_cls.FromString(ours.SerializeToString(deterministic=True))
    assert back == official


BUF = shutil.which("buf") or Path(sys.executable).parent / "buf"


def _buf_breaking(proto: Path) -> subprocess.CompletedProcess[str]:
    fixture = ROOT / "tests/fixtures/gitpod-sdk-1.2.0.binpb"
    return subprocess.run(
        [str(BUF), "breaking", "proto", "--against", str(fixture), "--exclude-imports"],
        cwd=proto,
        capture_output=True,
        text=True,
        check=False,
    )


def test_buf_breaking_against_the_official_schema_fails_on_a_wire_change(tmp_path: Path) -> None:
    """The CI step `buf breaking proto --against <official>` passes and fails on a renumbering."""
    shutil.copytree(ROOT / "proto", tmp_path / "proto")
    shutil.copytree(ROOT / "third_party", tmp_path / "third_party")
    shutil.copy(ROOT / "buf.yaml", tmp_path / "buf.yaml")
    assert _buf_breaking(tmp_path).returncode == 0
    user = tmp_path / "proto/gitpod/v1/user.proto"
    user.write_text(user.read_text().replace("string description = 3;", "string description = 9;"))
    result = _buf_breaking(tmp_path)
    assert result.returncode != 0
    assert 'field "3" with name "description"' in result.stdout
