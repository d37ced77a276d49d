"""The TypeScript side on its own: it type-checks, it checks the shared vectors, and the
README's TypeScript example runs against the embedded server."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import ona_pats
from ona_pats.server import Server

from .conftest import ROOT, TSC, VECTORS, node_command, node_tool, run_tsx

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


def _console_lines(section: str, first: str) -> list[str]:
    """The command lines of the README's console block that starts with ``first``."""
    for block in re.findall(r"```console\n(.*?)```", section, flags=re.DOTALL):
        if block.startswith(first):
            return [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]
    raise AssertionError(f"no console block starting with {first!r}")


def _yaml_block(section: str, name: str) -> str:
    pattern = rf"```yaml\n(# {re.escape(name)}\n.*?)```"
    blocks: list[str] = re.findall(pattern, section, flags=re.DOTALL)
    return blocks[0]


@pytest.mark.parametrize("as_documented", [True, False], ids=["documented", "without-type-module"])
def test_new_project_instructions_run_from_an_empty_directory(
    tmp_path: Path, as_documented: bool
) -> None:
    """The README's steps for a new npm project, from an empty directory: its `npm init` and
    `npm pkg set`, its buf.gen.yaml over a copy of proto/, and the example against the
    embedded server. The `npm install` lines are replaced by this repository's node_modules
    (the same packages, pinned; tests reach no registry). Without `"type": "module"` the
    example's top-level await fails, which is why the README says to set it."""
    section = README_SECTION.read_text()
    lines = _console_lines(section, "mkdir my-app")
    project = tmp_path / "my-app"
    project.mkdir()
    npm = shutil.which("npm")
    assert npm is not None, "npm is not on PATH"
    for line in lines:
        line = line.removeprefix("mkdir my-app && cd my-app && ")  # the directory is made here
        if line.startswith("npm install") or ("type=module" in line and not as_documented):
            continue
        argv = shlex.split(line)
        done = subprocess.run(
            argv, cwd=project, capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0, done.stderr
    assert ("module" in (project / "package.json").read_text()) is as_documented
    (project / "node_modules").symlink_to(ROOT / "node_modules")
    shutil.copytree(ROOT / "proto", project / "proto")
    shutil.copytree(
        ROOT / "third_party" / "protovalidate", project / "third_party" / "protovalidate"
    )
    (project / "buf.yaml").write_text(_yaml_block(section, "buf.yaml"))
    (project / "buf.gen.yaml").write_text(_yaml_block(section, "buf.gen.yaml"))
    env = {
        **os.environ,
        "PATH": f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{os.environ['PATH']}",
    }
    generated = subprocess.run(
        [shutil.which("buf", path=str(Path(sys.executable).parent)) or "buf", "generate"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert generated.returncode == 0, generated.stderr
    assert (project / "gen" / "es" / "gitpod" / "v1" / "user_pb.ts").is_file()
    assert (project / "gen" / "es" / "buf" / "validate" / "validate_pb.ts").is_file()
    (project / "interop").mkdir()
    shutil.copy(EXAMPLE, project / "interop" / "example.ts")
    with Server() as srv:
        assert srv.admin_token is not None
        env.update(
            ONA_BASE_URL=srv.base_url, ONA_API_KEY=srv.admin_token, ONA_USER_ID=srv.admin_user_id
        )
        result = subprocess.run(
            [*node_command("interop/example.ts")],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    if as_documented:
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines()[-1].startswith("deleted ")
    else:
        assert result.returncode != 0
        assert (
            'Top-level await is currently not supported with the "cjs" output format'
            in result.stderr
        )
