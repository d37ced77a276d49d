"""The SQLite file: durable across restarts, private (0600), and never holding a secret."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
import time
from pathlib import Path

import pytest

from ona_pats.rpc import UserServiceClientSync
from ona_pats.server import Server, Store, seed_tokens
from ona_pats.types import CreatePersonalAccessTokenRequest

from .conftest import CODECS, bearer, list_request


def _database_bytes(db: Path) -> bytes:
    """The database file and its WAL and shared-memory files, as they are on disk."""
    files = [db, Path(f"{db}-wal"), Path(f"{db}-shm"), Path(f"{db}-journal")]
    return b"".join(path.read_bytes() for path in files if path.exists())


def test_database_never_holds_a_secret(tmp_path: Path) -> None:
    """Issue 5's must-show: search the SQLite file's bytes (and its WAL) for every secret."""
    db = tmp_path / "pats.sqlite3"
    secrets: list[str] = []
    with Server(db) as srv:
        assert srv.admin_token is not None
        secrets.append(srv.admin_token)
        alice = srv.create_user_token()
        secrets.append(alice.token)
        for name, codec in CODECS.items():
            with UserServiceClientSync(srv.base_url, codec=codec) as rpc:
                for read_only in (False, True):
                    request = CreatePersonalAccessTokenRequest(
                        user_id=alice.user_id, description=name, read_only=read_only
                    )
                    response = rpc.create_personal_access_token(
                        request, headers=bearer(alice.token)
                    )
                    secrets.append(response.token)
                    rpc.list_personal_access_tokens(list_request(), headers=bearer(response.token))
        assert Path(f"{db}-wal").exists()
        while_running = _database_bytes(db)
    after_stop = _database_bytes(db)
    assert len(secrets) == 6
    for content in (while_running, after_stop):
        for secret in secrets:
            # Neither the whole secret nor the 43-character random part appears, in any encoding.
            for needle in (secret, secret[-43:]):
                assert needle.encode() not in content
                assert needle.encode("utf-16-le") not in content


def test_database_and_wal_are_created_private(tmp_path: Path) -> None:
    db = tmp_path / "pats.sqlite3"
    old_umask = os.umask(0o022)
    try:
        with Server(db) as srv:
            srv.create_user_token()
            modes = {
                path.name: stat.S_IMODE(path.stat().st_mode)
                for path in (db, Path(f"{db}-wal"), Path(f"{db}-shm"))
            }
    finally:
        os.umask(old_umask)
    assert modes == dict.fromkeys(modes, 0o600)
    assert len(modes) == 3


def test_token_file_is_written_private_once(tmp_path: Path) -> None:
    db, token_file = tmp_path / "pats.sqlite3", tmp_path / "admin-token"
    with Server(db, token_file=token_file) as srv:
        assert token_file.read_text() == f"{srv.admin_token}\n"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    token_file.write_text("kept\n")
    with Server(db, token_file=token_file) as again:
        assert again.admin_token is None
    assert token_file.read_text() == "kept\n"


def test_everything_survives_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "pats.sqlite3"
    with Server(db) as first:
        admin = first.admin_token
        alice = first.create_user_token(description="durable")
        with UserServiceClientSync(first.base_url) as rpc:
            request = CreatePersonalAccessTokenRequest(user_id=alice.user_id, description="api")
            created = rpc.create_personal_access_token(request, headers=bearer(alice.token))
        before = first.store.list(None, None, 100)
        admin_user = first.admin_user_id
    with Server(db) as second:
        assert second.admin_token is None
        assert second.admin_user_id == admin_user
        assert second.store.list(None, None, 100) == before
        with UserServiceClientSync(second.base_url) as rpc:
            for token in (admin, alice.token, created.token):
                assert token is not None
                assert rpc.list_personal_access_tokens(list_request(), headers=bearer(token))


def test_seeding_10000_tokens_is_fast(tmp_path: Path) -> None:
    with Store(tmp_path / "pats.sqlite3") as store:
        started = time.perf_counter()
        users = seed_tokens(store, 10_000)
        elapsed = time.perf_counter() - started
        assert store.count() == 10_000
        assert len(users) == 20
        listed = store.list(None, None, 10_000)
    assert elapsed < 3.0
    assert len({pat.id for pat in listed}) == 10_000
    assert all(pat.expires_at.ToNanoseconds() > pat.created_at.ToNanoseconds() for pat in listed)


def test_server_seed_option(tmp_path: Path) -> None:
    with Server(tmp_path / "pats.sqlite3", seed=120) as srv:
        assert srv.store.count() == 121  # and the admin token
        assert len(srv.seeded_user_ids) == 20


def test_a_second_store_on_the_same_file_sees_the_writes(tmp_path: Path) -> None:
    """Two processes may share the file: WAL readers see committed writes, writers queue."""
    db = tmp_path / "pats.sqlite3"
    with Store(db) as one, Store(db) as two:
        issued = one.issue("0b5f6c0e-3f57-4e55-9d34-5d2d2b6c9d1e", valid_for_ns=10**12)
        assert two.authenticate(issued.token).token_id == issued.id
        assert one.page_key == two.page_key


def test_a_file_that_is_not_a_database_fails_clearly(tmp_path: Path) -> None:
    db = tmp_path / "notes.txt"
    db.write_text("not sqlite" * 100)
    with pytest.raises(Exception, match="not a database"):
        Store(db)


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "pats.sqlite3"
    Store(db).close()
    with sqlite3.connect(db) as raw:
        raw.execute("PRAGMA user_version=99")
    raw.close()
    with pytest.raises(RuntimeError, match="schema version 99"):
        Store(db)


def test_a_failed_write_leaves_no_transaction_open(tmp_path: Path) -> None:
    with Store(tmp_path / "pats.sqlite3") as store:
        issued = store.issue("0b5f6c0e-3f57-4e55-9d34-5d2d2b6c9d1e")
        with pytest.raises(sqlite3.IntegrityError):
            store.insert_rows([_duplicate_row(issued.id)])
        assert store.count() == 1
        store.issue("0b5f6c0e-3f57-4e55-9d34-5d2d2b6c9d1e")
        assert store.count() == 2


def _duplicate_row(
    pat_id: str,
) -> tuple[str, str, str, str, int, int, None, None, int, int, str, bytes]:
    user = "0b5f6c0e-3f57-4e55-9d34-5d2d2b6c9d1e"
    return (pat_id, user, "", user, 2, 0, None, None, 0, 0, "0" * 16, b"")


def test_two_stores_on_one_file_write_concurrently(tmp_path: Path) -> None:
    """Two connections (as two processes would have) interleave writes without losing any."""
    db = tmp_path / "pats.sqlite3"
    user = "0b5f6c0e-3f57-4e55-9d34-5d2d2b6c9d1e"
    with Store(db) as one, Store(db) as two:
        caller = one.authenticate(one.issue(user).token)

        def churn(store: Store) -> None:
            for _ in range(150):
                issued = store.issue(user)
                store.authenticate(issued.token)
                store.delete(caller, store.issue(user).id)

        threads = [threading.Thread(target=churn, args=(store,)) for store in (one, two, one, two)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert one.count() == two.count() == 1 + 4 * 150
