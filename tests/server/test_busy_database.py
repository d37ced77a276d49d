"""The event loop never waits for SQLite: while another process holds the database's write
lock (``BEGIN IMMEDIATE``), a request without a token and an authenticated List are answered
within a second (reads proceed under WAL; ``last_used`` is skipped rather than waited for),
and a write fails fast as ``unavailable`` with ``Retry-After``."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ona_pats import Client, UnavailableError
from ona_pats.server import Server

_HOLD = """
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
db.execute("ROLLBACK")
"""


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Server]:
    with Server(tmp_path / "pats.sqlite3", port=0) as srv:
        yield srv


@pytest.fixture
def write_lock(served: Server) -> Iterator[None]:
    """Another process holds the write lock of the server's database for 20 s."""
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(served.db_path), "20"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        yield
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()


def test_requests_are_answered_while_another_process_holds_the_write_lock(
    served: Server, write_lock: None
) -> None:
    """Before, a no-token request waited 9.5 s and an admin List took 10 s, then failed."""
    admin = served.admin_token
    assert admin is not None
    url = f"{served.base_url}/gitpod.v1.UserService/ListPersonalAccessTokens"
    with httpx.Client(timeout=30) as http:
        started = time.monotonic()
        anonymous = http.post(url, json={})
        anonymous_s = time.monotonic() - started
    assert anonymous.status_code == 401
    assert anonymous_s < 1.0

    with Client(token=admin, base_url=served.base_url, max_retries=0) as client:
        started = time.monotonic()
        pats = list(client.users.pats.list())
        list_s = time.monotonic() - started
        assert pats, "the admin sees at least its own token"
        assert list_s < 1.0

        started = time.monotonic()
        with pytest.raises(UnavailableError) as info:
            client.users.pats.create(user_id=served.admin_user_id, description="blocked")
        create_s = time.monotonic() - started
    assert info.value.headers.get("retry-after") == "1"
    assert create_s < 3.0
