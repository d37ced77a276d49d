"""Our reading of the schema's buf.validate rules agrees with protovalidate's.

protovalidate (the official Python implementation, pinned in tests/protovalidate/requirements.txt)
runs in its own virtual environment, ``.venv-protovalidate``, made by ``scripts/_venv.sh``; it
never shares a process with ona_pats. It validates messages built from ``buf build proto``
(the schema with its rules, as production's) and the generated ``buf/validate/validate_pb2.py``
of the vendored validate.proto (protovalidate 1.x ships no generated code of its own). Each case
is proto3 JSON, read by both sides; the violations (field path, rule id, message) must be equal.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import json_format, message_factory
from google.protobuf.descriptor_pool import Default

from ona_pats import _rules

ROOT = Path(__file__).resolve().parent.parent
BUF = shutil.which("buf") or str(Path(sys.executable).parent / "buf")
PROTOVALIDATE_PYTHON = ROOT / ".venv-protovalidate" / "bin" / "python"
CHILD = ROOT / "tests" / "protovalidate" / "_official.py"

UUID = "8a5c1f0e-3b7d-4e2a-9c6f-1d2e3f4a5b6c"
GET = "gitpod.v1.GetPersonalAccessTokenRequest"
DELETE = "gitpod.v1.DeletePersonalAccessTokenRequest"
CREATE = "gitpod.v1.CreatePersonalAccessTokenRequest"
LIST = "gitpod.v1.ListPersonalAccessTokensRequest"
GOT = "gitpod.v1.GetPersonalAccessTokenResponse"
CREATED = "gitpod.v1.CreatePersonalAccessTokenResponse"
LISTED = "gitpod.v1.ListPersonalAccessTokensResponse"


def _pat(**fields: Any) -> dict[str, Any]:
    return {"id": UUID, "userId": UUID, **fields}


#: (message type, proto3 JSON): valid and invalid requests and responses, with the inputs on
#: which two readings of a rule could differ (case, braces, no dashes, a trailing newline,
#: non-ASCII digits, the bounds and one past them, nanoseconds past a duration bound).
CASES: list[tuple[str, dict[str, Any]]] = [
    (GET, {"personalAccessTokenId": UUID}),
    (GET, {"personalAccessTokenId": UUID.upper()}),
    (GET, {}),
    (GET, {"personalAccessTokenId": "nope"}),
    (GET, {"personalAccessTokenId": "{" + UUID + "}"}),
    (GET, {"personalAccessTokenId": UUID.replace("-", "")}),
    (GET, {"personalAccessTokenId": UUID + "\n"}),
    (GET, {"personalAccessTokenId": " " + UUID}),
    (GET, {"personalAccessTokenId": "\uff18a5c1f0e-3b7d-4e2a-9c6f-1d2e3f4a5b6c"}),  # a fullwidth 8
    (GET, {"personalAccessTokenId": "urn:uuid:" + UUID}),
    (GET, {"personalAccessTokenId": "00000000-0000-0000-0000-000000000000"}),
    (DELETE, {"personalAccessTokenId": UUID}),
    (DELETE, {"personalAccessTokenId": UUID[:-1]}),
    (CREATE, {"userId": UUID}),
    (CREATE, {"userId": UUID, "validFor": "0s"}),
    (CREATE, {"userId": UUID, "validFor": "7776000s"}),
    (CREATE, {"userId": UUID, "validFor": "7776000.000001s"}),
    (CREATE, {"userId": UUID, "validFor": "7776000.000000001s"}),
    (CREATE, {"userId": UUID, "validFor": "-0.000000001s"}),
    (CREATE, {"userId": UUID, "validFor": "-86400s"}),
    (CREATE, {"userId": "u1", "validFor": "99999999s", "description": "x", "readOnly": True}),
    (CREATE, {}),
    (LIST, {}),
    (LIST, {"pagination": {"pageSize": 0, "token": "anything"}}),
    (LIST, {"pagination": {"pageSize": 100}}),
    (LIST, {"pagination": {"pageSize": 101}}),
    (LIST, {"pagination": {"pageSize": -1}}),
    (LIST, {"pagination": {"pageSize": 2147483647}}),
    (LIST, {"filter": {}}),
    (LIST, {"filter": {"userIds": [UUID] * 25}}),
    (LIST, {"filter": {"userIds": [UUID] * 26}}),
    (LIST, {"filter": {"userIds": [UUID, "bad", "", UUID.upper()]}}),
    (LIST, {"pagination": {"pageSize": 500}, "filter": {"userIds": ["bad"] * 27}}),
    (GOT, {"pat": _pat()}),
    (GOT, {}),
    (GOT, {"pat": {}}),
    (GOT, {"pat": _pat(creator={"id": "", "principal": "PRINCIPAL_USER"})}),
    (GOT, {"pat": _pat(creator={"id": "bad", "principal": 99})}),
    (GOT, {"pat": _pat(creator={"principal": 7})}),
    (CREATED, {"token": "secret"}),
    (CREATED, {}),
    (LISTED, {"personalAccessTokens": [_pat(), _pat(id="x"), _pat(userId="")]}),
    (LISTED, {"pagination": {"nextToken": "t"}}),
]


#: Where protovalidate-py 1.2.0 reads a rule differently from protovalidate-go (production's
#: server) and -es: its CEL durations are Python timedeltas, whole microseconds, so a lifetime one
#: nanosecond past 90 days passes there; a nanosecond-exact reading rejects it, and so do we.
KNOWN_DIFFERENCES = {(CREATE, "7776000.000000001s")}


def _official_violations(tmp_path: Path) -> list[list[tuple[str, str, str]]]:
    if not PROTOVALIDATE_PYTHON.exists():
        pytest.fail(
            f"{PROTOVALIDATE_PYTHON} is missing: scripts/test (or any scripts/ command) makes it"
        )
    image = tmp_path / "schema.binpb"
    subprocess.run([BUF, "build", "proto", "-o", str(image)], cwd=ROOT, check=True)
    generated = tmp_path / "gen"
    generated.mkdir()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"-I{ROOT / 'third_party' / 'protovalidate'}",
            f"--python_out={generated}",
            "buf/validate/validate.proto",
        ],
        check=True,
    )
    cases = tmp_path / "cases.json"
    cases.write_text(json.dumps([{"type": name, "json": body} for name, body in CASES]))
    done = subprocess.run(
        [str(PROTOVALIDATE_PYTHON), str(CHILD), str(image), str(cases)],
        env={"PYTHONPATH": str(generated), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    return [[tuple(v) for v in json.loads(line)] for line in done.stdout.splitlines()]


def _ours(name: str, body: dict[str, Any]) -> list[tuple[str, str, str]]:
    cls = message_factory.GetMessageClass(Default().FindMessageTypeByName(name))
    message = json_format.ParseDict(body, cls())
    return [(v.field, v.rule, v.message) for v in _rules.violations(message)]


def test_every_case_gets_protovalidates_violations(tmp_path: Path) -> None:
    official = _official_violations(tmp_path)
    assert len(official) == len(CASES)
    differences = []
    for (name, body), theirs in zip(CASES, official, strict=True):
        ours = _ours(name, body)
        # protovalidate-py 1.2.0 prints a Duration bound's nanoseconds only ("0s" for the
        # 7776000s of valid_for); the field and the rule must still agree, and our message
        # names the real bound, as protovalidate-go and -es do.
        theirs_cmp = [(f, r, m if not r.startswith("duration.") else "") for f, r, m in theirs]
        ours_cmp = [(f, r, m if not r.startswith("duration.") else "") for f, r, m in ours]
        if sorted(ours_cmp) != sorted(theirs_cmp):
            differences.append((name, body.get("validFor"), bool(ours), bool(theirs)))
    assert differences == [(name, valid_for, True, False) for name, valid_for in KNOWN_DIFFERENCES]
    assert sum(1 for verdict in official if verdict) >= 25  # the set holds both kinds


def test_a_duration_violation_names_the_real_bound() -> None:
    assert _ours(CREATE, {"userId": UUID, "validFor": "7776001s"}) == [
        (
            "valid_for",
            "duration.gte_lte",
            "must be greater than or equal to 0s and less than or equal to 7776000s",
        )
    ]
