"""ona_pats loads next to any other copy of buf/validate/validate.proto, in either import order.

protobuf's default descriptor pool is global to the process and refuses a second, different
file under a name it already holds. protovalidate users' generated code registers
``buf/validate/validate.proto`` there (each at its own version). Our generated Python carries
the schema without the rule options and never imports that file (``scripts/_split_schema.py``);
the rules reach the client and the server as ``validate_rules.py``. So whichever copy is in the
pool, and whenever it got there, ours loads and validates.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "gitpod-sdk-1.2.0.binpb"
VALIDATE = "buf/validate/validate.proto"

_USE_OURS = """
import ona_pats
from ona_pats import ValidationError, types
from ona_pats import _rules
from google.protobuf import descriptor_pool
user = descriptor_pool.Default().FindFileByName("gitpod/v1/user.proto")
assert "buf/validate/validate.proto" not in [d.name for d in user.dependencies]
try:
    _rules.check(types.GetPersonalAccessTokenRequest(personal_access_token_id="nope"))
except ValidationError as exc:
    assert exc.field == "personal_access_token_id" and exc.rule == "string.uuid", exc
else:
    raise AssertionError("no violation")
pat = ona_pats.from_json('{"id": "x", "readOnly": true}', types.PersonalAccessToken)
assert pat.read_only
"""
_USE_THEIRS = """
from buf.validate import validate_pb2
assert validate_pb2.DESCRIPTOR.name == "buf/validate/validate.proto"
rules = validate_pb2.StringRules(uuid=True)
assert validate_pb2.StringRules.FromString(rules.SerializeToString()).uuid
"""


def _generate(tmp_path: Path, name: str, *source: str) -> Path:
    out = tmp_path / name
    out.mkdir()
    subprocess.run(
        [sys.executable, "-m", "grpc_tools.protoc", *source, f"--python_out={out}", VALIDATE],
        check=True,
    )
    return out


@pytest.fixture(scope="module")
def copies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Generated ``buf.validate`` packages: the vendored (current) copy and production's older
    one (``IGNORE_IF_UNPOPULATED``, ``FieldConstraints``), from the official descriptors."""
    tmp = tmp_path_factory.mktemp("validate")
    return {
        "current": _generate(tmp, "current", f"-I{ROOT / 'third_party' / 'protovalidate'}"),
        "production": _generate(tmp, "production", f"--descriptor_set_in={FIXTURE}"),
    }


def _run(code: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={"PYTHONPATH": str(path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize("copy", ["current", "production"])
@pytest.mark.parametrize("ours_first", [True, False], ids=["ona-pats-first", "theirs-first"])
def test_ona_pats_and_another_validate_proto_share_a_process(
    copies: dict[str, Path], copy: str, ours_first: bool
) -> None:
    code = _USE_OURS + _USE_THEIRS if ours_first else _USE_THEIRS + _USE_OURS
    done = _run(code, copies[copy])
    assert done.returncode == 0, done.stderr


def test_two_different_copies_of_validate_proto_cannot_share_a_process(
    copies: dict[str, Path],
) -> None:
    """The hazard the design avoids: had ona_pats registered its own validate.proto, loading
    any other version in the same process would fail."""
    older = copies["production"] / "buf" / "validate" / "validate_pb2.py"
    done = _run(
        f"""
        import importlib.util
        from buf.validate import validate_pb2
        spec = importlib.util.spec_from_file_location("older_validate_pb2", {str(older)!r})
        assert spec is not None and spec.loader is not None
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
        """,
        copies["current"],
    )
    assert done.returncode != 0
    assert "buf/validate/validate.proto" in done.stderr
