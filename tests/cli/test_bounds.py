"""The CLI's waits are bounded: Ctrl-C ends a call in flight at once, ``--timeout`` bounds a
whole listing, and out-of-range durations and timeouts are usage errors (exit 2, one line)."""

from __future__ import annotations

import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest

from tests._fake import serve_list_pages

from . import _run

PAT_ID = "f53d2330-3795-4c5d-a1f3-453121af9c60"


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A loopback listener that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.05)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        for conn in held:
            conn.close()
        listener.close()


def test_ctrl_c_ends_a_call_in_flight_within_a_second(silent_server: str) -> None:
    """Before, the process sat in the transport's native call until the timeout (58 s with
    the defaults) before it saw the signal."""
    env = _run.environment(silent_server, "cli-test-token")
    proc = subprocess.Popen(
        [*_run.COMMAND, "get", PAT_ID],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(1.5)  # started, connected, waiting for the answer
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=10)
        elapsed = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130
    assert "interrupted" in err
    assert elapsed < 1.0


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["list", "--expiring-within", "99999999999d"], id="expiring-within"),
        pytest.param(
            ["create", "--user-id", PAT_ID, "--valid-for", "99999999999w"], id="valid-for"
        ),
        pytest.param(["--timeout", "99999999999d", "list"], id="timeout-duration"),
        pytest.param(["--timeout", "inf", "list"], id="timeout-inf"),
        pytest.param(["--timeout", "nan", "list"], id="timeout-nan"),
        pytest.param(["--timeout", "1e300", "list"], id="timeout-huge"),
    ],
)
def test_out_of_range_values_are_usage_errors(args: list[str]) -> None:
    """Before, these crashed with OverflowError and a traceback."""
    result = _run.run(*args, env=_run.environment("http://127.0.0.1:9", "cli-test-token"))
    assert result.code == 2
    assert "Traceback" not in result.err
    assert len(result.err.strip().splitlines()) == 1
    assert "error:" in result.err


def test_timeout_bounds_a_whole_listing() -> None:
    """``--timeout`` bounds what the user waits for: here a listing whose pages are quick but
    endless (a server giving one item and a new token per page, 0.2 s each)."""
    with serve_list_pages(delay=0.2) as url:
        started = time.monotonic()
        result = _run.run(
            "--timeout", "1", "list", "--all", env=_run.environment(url, "cli-test-token")
        )
        elapsed = time.monotonic() - started
    assert result.code != 0
    assert "deadline_exceeded" in result.err or "total_timeout" in result.err
    assert elapsed < 8


def test_endless_empty_pages_end_the_listing() -> None:
    """Before, ``ona-pats --timeout 3 list --all`` against such a server never ended."""
    with serve_list_pages(delay=0.0, empty=True) as url:
        result = _run.run(
            "--timeout", "30", "list", "--all", env=_run.environment(url, "cli-test-token")
        )
    assert result.code != 0
    assert "pages without items" in result.err
