"""``ona-pats serve``: announces itself, prints the admin token once, seeds, stops on SIGINT."""

from __future__ import annotations

import json
import re
import signal
import stat
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from . import _run


@contextmanager
def _serving(*args: str) -> Iterator[tuple[str, list[str], subprocess.Popen[str]]]:
    """Start ``serve`` on a free port; yield its base URL, its stderr lines so far, the process."""
    proc = subprocess.Popen(
        [*_run.COMMAND, "serve", "--port", "0", *args],
        env=_run.environment(None, None),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    try:
        lines: list[str] = []
        while not any("press Ctrl-C" in line for line in lines):
            line = proc.stderr.readline()
            assert line, f"serve exited early: {lines}"
            lines.append(line)
        match = re.search(r"at (http://127\.0\.0\.1:\d+) ", "".join(lines))
        assert match is not None, lines
        yield match[1], lines, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        proc.wait(30)
        proc.stderr.close()
        if proc.stdout is not None:
            proc.stdout.close()


def test_serve_prints_the_admin_token_once_and_stops_cleanly(tmp_path: Path) -> None:
    db, token_file = tmp_path / "pats.sqlite3", tmp_path / "admin.token"
    with _serving("--db", str(db), "--token-file", str(token_file), "--seed", "30") as (
        base_url,
        _,
        proc,
    ):
        assert proc.stdout is not None
        printed = proc.stdout.readline().strip()
        assert printed == token_file.read_text().strip()
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        listed = _run.run("list", "--all", "--json", env=_run.environment(base_url, printed))
        assert listed.code == 0, listed.err
        assert len([json.loads(line) for line in listed.out.splitlines()]) == 31
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0
        assert proc.stdout.read() == ""
    with _serving("--db", str(db)) as (base_url, lines, proc):
        assert any("already has its admin token" in line for line in lines)
        again = _run.run("list", "--json", env=_run.environment(base_url, printed))
        assert again.code == 0, again.err  # the database, and its token, survived the restart
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0
        assert proc.stdout is not None
        assert proc.stdout.read() == ""
