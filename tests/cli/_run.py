"""Run ``python -m ona_pats`` as a subprocess, with pipes or on a pseudo-terminal."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

_CLEARED = ("ONA_API_KEY", "GITPOD_API_KEY", "ONA_BASE_URL", "GITPOD_BASE_URL", "GITPOD_TOKEN")
COMMAND = (sys.executable, "-m", "ona_pats")
#: An ``answer`` for :func:`run_on_tty` meaning "press Ctrl-C at the prompt".
CTRL_C = "\x03"


@dataclass(frozen=True)
class Result:
    """What a CLI run left behind.

    Attributes:
        code: the exit status.
        out: stdout (empty when stdout was the terminal).
        err: stderr (empty when stderr was the terminal).
        tty: what the terminal showed, with ``\\r\\n`` turned into ``\\n``.
    """

    code: int
    out: str
    err: str
    tty: str = ""


def environment(base_url: str | None, token: str | None, **extra: str) -> dict[str, str]:
    """The process environment with only the given API settings."""
    env = {k: v for k, v in os.environ.items() if k not in _CLEARED}
    env["PYTHONUNBUFFERED"] = "1"
    env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1,localhost"  # the servers here are on loopback
    if base_url is not None:
        env["ONA_BASE_URL"] = base_url
    if token is not None:
        env["ONA_API_KEY"] = token
    return {**env, **extra}


def run(*args: str, env: Mapping[str, str], timeout: float = 60) -> Result:
    """Run the CLI with pipes for stdout and stderr and no stdin."""
    done = subprocess.run(
        [*COMMAND, *args],
        env=dict(env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Result(done.returncode, done.stdout, done.stderr)


def run_on_tty(
    *args: str,
    env: Mapping[str, str],
    on_tty: Collection[str] = ("stdin", "stdout", "stderr"),
    answer: str | None = None,
    timeout: float = 60,
) -> Result:
    """Run the CLI with the streams named in ``on_tty`` on a pseudo-terminal.

    When ``answer`` is given, it is typed (with Enter) once the ``[y/N]`` prompt appears;
    :data:`CTRL_C` sends SIGINT instead, as Ctrl-C at the prompt would.
    """
    master, slave = os.openpty()
    with tempfile.TemporaryDirectory() as tmp:
        out_path, err_path = Path(tmp, "out"), Path(tmp, "err")
        with out_path.open("w") as out_file, err_path.open("w") as err_file:
            proc = subprocess.Popen(
                [*COMMAND, *args],
                env=dict(env),
                stdin=slave if "stdin" in on_tty else subprocess.DEVNULL,
                stdout=slave if "stdout" in on_tty else out_file,
                stderr=slave if "stderr" in on_tty else err_file,
            )
            os.close(slave)
            try:
                shown = _drive(master, proc, answer, time.monotonic() + timeout)
            finally:
                os.close(master)
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()  # reap it, also when _drive raised
            code = proc.wait(timeout)
        return Result(code, out_path.read_text(), err_path.read_text(), shown)


def _drive(master: int, proc: subprocess.Popen[bytes], answer: str | None, deadline: float) -> str:
    """Read the terminal until the child closes it, typing ``answer`` at the prompt."""
    shown = bytearray()
    pending = answer
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.05)
        if not ready:
            if proc.poll() is not None:
                break
            continue
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: every end of the terminal's child side is closed
            break
        if not chunk:
            break
        shown += chunk
        if pending is not None and b"[y/N]" in shown:
            if pending == CTRL_C:
                proc.send_signal(signal.SIGINT)
            else:
                os.write(master, pending.encode() + b"\n")
            pending = None
    else:
        raise TimeoutError(f"the CLI did not finish: {shown.decode(errors='replace')!r}")
    return shown.decode(errors="replace").replace("\r\n", "\n")
