"""The ``Server`` context manager and ``run``: clean start and stop, nothing leaked."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ona_pats.rpc import UserServiceClientSync
from ona_pats.server import Server

from .conftest import bearer, list_request


def _open_fds() -> set[str]:
    return set(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else set()


def _serve_once(db: Path) -> None:
    with Server(db) as srv:
        token = srv.create_user_token().token
        with UserServiceClientSync(srv.base_url) as rpc:
            rpc.list_personal_access_tokens(list_request(), headers=bearer(token))


def test_start_serve_stop_leaks_no_thread_socket_or_file(tmp_path: Path) -> None:
    _serve_once(tmp_path / "warm-up.sqlite3")  # the client's runtime keeps its own pollers
    threads, fds = threading.active_count(), _open_fds()
    for _ in range(3):
        _serve_once(tmp_path / "pats.sqlite3")
    assert threading.active_count() == threads
    assert _open_fds() <= fds


def test_temporary_database_is_removed_on_stop() -> None:
    with Server() as srv:
        db = srv.db_path
        assert db.exists()
    assert not db.exists()
    assert not db.parent.exists()


def test_port_zero_picks_a_free_loopback_port() -> None:
    with Server() as one, Server() as two:
        assert one.port != two.port
        assert one.base_url == f"http://127.0.0.1:{one.port}"


def test_busy_port_fails_to_start_and_cleans_up() -> None:
    with Server() as srv:
        threads = threading.active_count()
        with pytest.raises(OSError, match=r"[Aa]ddress already in use"):
            Server(port=srv.port).start()
        assert threading.active_count() == threads


def test_stop_is_idempotent_and_properties_need_a_running_server() -> None:
    srv = Server().start()
    srv.stop()
    srv.stop()
    with pytest.raises(RuntimeError):
        _ = srv.base_url


def test_issued_token_repr_hides_the_secret() -> None:
    with Server() as srv:
        issued = srv.create_user_token()
        assert issued.token not in repr(issued)
        assert issued.id in repr(issued)
        assert srv.admin is not None
        assert srv.admin.token not in repr(srv.admin)


_RUN = """
import sys
from ona_pats.server import run
run(sys.argv[1], port=0, seed=5, token_file=sys.argv[2], log_level="warning",
    on_ready=lambda srv: print(srv.base_url, srv.store.count(), flush=True))
print("stopped", flush=True)
"""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "sigint"])
def test_run_serves_until_a_signal_then_stops_cleanly(tmp_path: Path, sig: signal.Signals) -> None:
    db, token_file = tmp_path / "pats.sqlite3", tmp_path / "admin-token"
    process = subprocess.Popen(
        [sys.executable, "-c", _RUN, str(db), str(token_file)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        base_url, count = process.stdout.readline().split()
        assert base_url.startswith("http://127.0.0.1:")
        assert count == "6"
        token = token_file.read_text().strip()
        with UserServiceClientSync(base_url) as rpc:
            page = rpc.list_personal_access_tokens(list_request(), headers=bearer(token))
        assert len(page.personal_access_tokens) == 6
        time.sleep(0.05)
        process.send_signal(sig)
        out, _ = process.communicate(timeout=20)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == 0
    assert out.strip() == "stopped"


def test_server_leaves_the_process_logging_alone() -> None:
    loggers = [logging.getLogger(name) for name in ("uvicorn", "uvicorn.error", "uvicorn.access")]
    before = [(logger.handlers[:], logger.level, logger.propagate) for logger in loggers]
    with Server():
        pass
    assert [(logger.handlers[:], logger.level, logger.propagate) for logger in loggers] == before
