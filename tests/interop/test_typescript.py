"""The TypeScript side on its own: it type-checks, it checks the shared vectors, and the
README's TypeScript example runs against the embedded server."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import ona_pats
from ona_pats.server import Server

from .conftest import ROOT, TSC, VECTORS, node_tool, run_tsx

README_SECTION = ROOT / "docs" / "readme" / "other-languages.md"
EXAMPLE = ROOT / "interop" / "example.ts"


def test_generated_and_interop_typescript_type_checks() -> None:
    """gen/es and interop/ compile under tsc --strict with the pinned protobuf-es and Connect."""
    result = subprocess.run(
        [node_tool(TSC), "--noEmit", "-p", "interop"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_typescript_checks_every_vector() -> None:
    count = len(json.loads((VECTORS / "manifest.json").read_text())["vectors"])

    result = run_tsx("interop/vectors.ts", VECTORS)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{count} vectors checked, 0 mismatches"


def test_typescript_reports_a_changed_byte(tmp_path: Path) -> None:
    """One changed byte in one vector makes the TypeScript checker fail and name the vector."""
    copy = shutil.copytree(VECTORS, tmp_path / "vectors")
    tampered = copy / "list-response-page.binpb"
    data = bytearray(tampered.read_bytes())
    position = data.index(b"ci token 3")
    data[position + len("ci token ")] = ord("8")  # same length, different description
    tampered.write_bytes(bytes(data))

    result = run_tsx("interop/vectors.ts", copy)

    assert result.returncode == 1
    mismatches = result.stderr.strip().splitlines()
    assert mismatches
    assert all(line.startswith("mismatch: list-response-page ") for line in mismatches)
    assert "differs from the JSON file" in result.stderr


def test_readme_example_is_the_tested_file() -> None:
    """The README section shows interop/example.ts verbatim."""
    blocks = re.findall(r"```ts\n(.*?)```", README_SECTION.read_text(), flags=re.DOTALL)
    assert EXAMPLE.read_text() in blocks


def test_readme_example_runs_against_the_embedded_server() -> None:
    """Create, every page of the list, get and delete, from TypeScript over binary protobuf."""
    with Server() as srv:
        assert srv.admin_token is not None
        env = {
            "ONA_BASE_URL": srv.base_url,
            "ONA_API_KEY": srv.admin_token,
            "ONA_USER_ID": srv.admin_user_id,
        }
        result = run_tsx(EXAMPLE.relative_to(ROOT), env=env)
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        created = next(line.split()[0] for line in lines if line.endswith("from TypeScript"))
        client = ona_pats.Client(token=srv.admin_token, base_url=srv.base_url)
        with client, pytest.raises(ona_pats.NotFoundError):
            client.users.pats.get(personal_access_token_id=created)

    assert re.fullmatch(r"created a token \(secret \d+ characters, shown once\)", lines[0])
    assert lines[-2:] == [f"got {created}, read-only: false", f"deleted {created}"]
