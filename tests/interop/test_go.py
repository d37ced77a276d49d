"""Go, the seed's second language, as a tested consumer of the schema.

Go code is generated from ``proto/`` by buf with the local ``protoc-gen-go`` (Debian's; see
``buf.gen.go.yaml``) into a temporary GOPATH next to ``interop/go/main.go``, built offline
against Debian's ``google.golang.org/protobuf`` source (GOPATH mode: no module proxy is
reachable), then run: it re-encodes every shared vector byte for byte and JSON-equal with
protojson, and, as a Connect client on ``net/http``, creates, lists every page, gets and deletes
tokens against the embedded server with both codecs and maps the error bodies to their codes.

``scripts/test`` installs the toolchain (``golang-go protoc-gen-go golang-google-protobuf-dev``)
when it runs as root, as CI does; elsewhere these tests are skipped with that command.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ona_pats.server import Server

ROOT = Path(__file__).resolve().parents[2]
GOCODE = Path("/usr/share/gocode")
#: buf from the project's virtual environment (buf-bin), also when PATH lacks .venv/bin.
BUF = shutil.which("buf") or str(Path(sys.executable).parent / "buf")
INSTALL = "apt-get install -y golang-go protoc-gen-go golang-google-protobuf-dev"


def _toolchain_or_skip() -> None:
    missing = [tool for tool in ("go", "protoc-gen-go") if shutil.which(tool) is None]
    if not (GOCODE / "src" / "google.golang.org" / "protobuf").is_dir():
        missing.append("golang-google-protobuf-dev")
    if missing:
        pytest.skip(f"GO CONSUMER NOT CHECKED: {', '.join(missing)} missing; run: {INSTALL}")


@pytest.fixture(scope="module")
def interop_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``interop/go`` built with code generated from ``proto/`` just now."""
    _toolchain_or_skip()
    gopath = tmp_path_factory.mktemp("gopath")
    package = gopath / "src" / "onapats.test" / "interop"
    package.mkdir(parents=True)
    shutil.copy(ROOT / "interop" / "go" / "main.go", package / "main.go")
    subprocess.run(
        [BUF, "generate", "--template", "buf.gen.go.yaml", "--output", str(package)],
        cwd=ROOT,
        check=True,
    )
    binary = gopath / "interop"
    env = {
        **os.environ,
        "GO111MODULE": "off",
        "GOPATH": f"{gopath}{os.pathsep}{GOCODE}",
        "GOCACHE": str(gopath / "cache"),
        "GOFLAGS": "",
    }
    subprocess.run(["go", "build", "-o", str(binary), "."], cwd=package, env=env, check=True)
    return binary


def test_go_reencodes_every_shared_vector(interop_binary: Path) -> None:
    done = subprocess.run(
        [str(interop_binary), "vectors", str(ROOT / "testdata" / "vectors")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    manifest = json.loads((ROOT / "testdata" / "vectors" / "manifest.json").read_text())
    assert summary == {"vectors": len(manifest["vectors"]), "mismatches": 0}


def test_go_reports_a_changed_byte(interop_binary: Path, tmp_path: Path) -> None:
    """The control: a vector with one byte changed is a mismatch."""
    vectors = tmp_path / "vectors"
    shutil.copytree(ROOT / "testdata" / "vectors", vectors)
    manifest = json.loads((vectors / "manifest.json").read_text())
    target = vectors / manifest["vectors"][1]["binary"]
    data = bytearray(target.read_bytes())
    data[-1] ^= 0x01
    target.write_bytes(bytes(data))
    done = subprocess.run(
        [str(interop_binary), "vectors", str(vectors)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "mismatch: " + manifest["vectors"][1]["name"] in done.stderr


@pytest.fixture(scope="module")
def go_server() -> Iterator[Server]:
    with Server(port=0) as srv:
        yield srv


def test_go_connect_client_against_the_embedded_server(
    interop_binary: Path, go_server: Server
) -> None:
    user = go_server.create_user_token(description="go consumer")
    other = go_server.create_user_token(str(uuid.uuid4()), description="someone else")
    env = {**os.environ, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
    done = subprocess.run(
        [str(interop_binary), "client", go_server.base_url, user.token, other.user_id],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    reports = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["codec"] for r in reports] == ["proto", "json"]
    for report in reports:
        assert len(report["created"]) == 2
        assert set(report["created"]) <= set(report["listed"])
        assert len(report["listed"]) == len(set(report["listed"]))
        assert report["pages"] >= 3  # every page, two tokens each
        assert report["got"] == report["created"][0]
        assert report["errors"] == {
            "not_found": "not_found",
            "invalid_argument": "invalid_argument",
            "permission_denied": "permission_denied",
            "unauthenticated": "unauthenticated",
        }
    assert user.token not in done.stdout + done.stderr
