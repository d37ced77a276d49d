"""gen/ is exactly what scripts/generate makes from proto/, and the check notices when not."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHECK = ROOT / "scripts" / "check-generated"


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A copy of the schema, the buf configuration and the committed gen/ tree."""
    for name in ("buf.yaml", "buf.gen.yaml", "buf.gen.python.yaml"):
        shutil.copy(ROOT / name, tmp_path / name)
    for name in ("proto", "third_party", "gen", "src/ona_pats/_gen"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def _check(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CHECK), str(root)], capture_output=True, text=True, check=False)


def test_editing_a_proto_without_regenerating_fails_the_check(checkout: Path) -> None:
    proto = checkout / "proto/gitpod/v1/user.proto"
    proto.write_text(
        proto.read_text().replace("bool read_only = 8;", "bool read_only = 8;\n  string note = 9;")
    )
    result = _check(checkout)
    assert result.returncode == 1
    assert "generated code is stale" in result.stderr


def test_hand_editing_a_generated_file_fails_the_check(checkout: Path) -> None:
    stub = checkout / "src/ona_pats/_gen/gitpod/v1/user_pb2.pyi"
    stub.write_text(stub.read_text() + "\n# a hand edit\n")
    result = _check(checkout)
    assert result.returncode == 1
    assert "user_pb2.pyi" in result.stderr


def test_changing_a_rule_without_regenerating_fails_the_check(checkout: Path) -> None:
    """The rules module is generated too: a rule edited in proto/ makes it stale."""
    proto = checkout / "proto/gitpod/v1/pagination.proto"
    proto.write_text(proto.read_text().replace("lte: 100", "lte: 200"))
    result = _check(checkout)
    assert result.returncode == 1
    assert "validate_rules.py" in result.stderr


def test_the_sync_half_is_what_make_sync_generates() -> None:
    """src/ona_pats/_sync is unasync's output of src/ona_pats/_async, as committed."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_sync.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_a_hand_edit_of_the_sync_half_is_caught(tmp_path: Path) -> None:
    """Editing a generated module instead of its async source fails the check."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import make_sync  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    target = tmp_path / "_sync"
    shutil.copytree(make_sync.TARGET, target, ignore=shutil.ignore_patterns("__pycache__"))
    assert make_sync.main(check=True, target=target) == 0
    edited = target / "_resources.py"
    edited.write_text(edited.read_text().replace("def rotate(", "def rotate_(", 1))
    assert make_sync.main(check=True, target=target) == 1
