"""Node processes for the interop tests: started on loopback, always stopped in teardown.

The TypeScript in ``interop/`` runs as ``node --import tsx`` (tsx from ``node_modules``, which
``scripts/_venv.sh`` installs with ``npm ci``): one process, no wrapper that could outlive a
kill. Each process talks JSON lines on stdin/stdout; a reader thread collects stdout so that a
read can time out, and stderr goes to a file shown when a test fails.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import threading
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar, cast

import pytest
from google.protobuf.message import Message

import ona_pats

ROOT = Path(__file__).resolve().parents[2]
TSX = ROOT / "node_modules" / ".bin" / "tsx"
TSC = ROOT / "node_modules" / ".bin" / "tsc"
VECTORS = ROOT / "testdata" / "vectors"
_READ_TIMEOUT_S = 20.0
_STOP_TIMEOUT_S = 5.0

JSONObject = dict[str, Any]
M = TypeVar("M", bound=Message)


def node_tool(path: Path) -> Path:
    """``path`` if ``npm ci`` has installed it; a clear failure otherwise (never a skip)."""
    if not path.exists():
        pytest.fail(f"{path} is missing: run `npm ci` (scripts/_venv.sh does it)")
    return path


def node_command(script: str | Path) -> list[str]:
    """The argv that runs one TypeScript file with Node and the tsx loader."""
    node_tool(TSX)
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH: the interop tests need Node.js 20 or later")
    return [node, "--import", "tsx", str(script)]


def run_tsx(
    script: str | Path, *args: str | Path, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run one TypeScript file to completion under tsx, from the repository root."""
    return subprocess.run(
        [*node_command(script), *map(str, args)],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


class NodeProcess:
    """A long-lived ``tsx interop/SCRIPT`` that answers one JSON line per line it is sent."""

    def __init__(self, script: str, *args: str, log_dir: Path) -> None:
        self._stderr_path = log_dir / f"{Path(script).stem}-{uuid.uuid4().hex[:8]}.stderr"
        self._stderr = self._stderr_path.open("w")
        self._lines: queue.Queue[str | None] = queue.Queue()
        self.argv = [*node_command(ROOT / "interop" / script), *args]
        self.process = subprocess.Popen(
            self.argv,
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            bufsize=1,
        )
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line)
        self._lines.put(None)

    def read(self) -> JSONObject:
        """The next JSON line from the process's stdout."""
        try:
            line = self._lines.get(timeout=_READ_TIMEOUT_S)
        except queue.Empty:
            pytest.fail(f"no answer from {self.argv} in time; stderr: {self.stderr()}")
        if line is None:
            pytest.fail(f"{self.argv} exited ({self.process.poll()}): {self.stderr()}")
        return cast(JSONObject, json.loads(line))

    def send(self, command: JSONObject) -> JSONObject:
        """Write one JSON line and read the answer."""
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        return self.read()

    def stderr(self) -> str:
        self._stderr.flush()
        return self._stderr_path.read_text()

    def stop(self) -> None:
        """Close stdin (the scripts exit on it), then terminate, then kill."""
        if self.process.stdin is not None and not self.process.stdin.closed:
            self.process.stdin.close()
        try:
            self.process.wait(_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.terminate()
            try:
                self.process.wait(_STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._stderr.close()


class NodeClient:
    """``interop/client.ts``: UserService calls made by Connect for Node, in one codec."""

    def __init__(self, process: NodeProcess, wire_format: str) -> None:
        self._process = process
        self.format = wire_format

    def call(self, method: str, request: Message, token: str | None) -> JSONObject:
        """Send ``request`` to ``method``; the answer has ``response`` or ``error``."""
        command = {"method": method, "request": ona_pats.to_dict(request)}
        if token is not None:
            command["token"] = token
        return self._process.send(command)

    def ok(self, method: str, request: Message, token: str | None, into: M) -> M:
        """Call, require success, and parse the response (canonical JSON) into ``into``."""
        answer = self.call(method, request, token)
        assert "response" in answer, answer
        expected = "application/proto" if self.format == "binary" else "application/json"
        assert answer["contentType"] == expected
        return ona_pats.from_dict(answer["response"], into)
