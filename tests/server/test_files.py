"""The server trusts no file another local user could have planted or can read: the database
(and its -wal/-shm) and the token file are created exclusively with mode 0600, and an existing
one is refused when another user owns it or group/others can write it (the token file: read)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from ona_pats.server import Server, Store, UnsafeFileError, write_token_file
from tests.cli import _run


def _other_owner(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every existing file look as if another user owned it."""
    real = os.geteuid()
    monkeypatch.setattr(os, "geteuid", lambda: real + 4242)


def _planted_database(path: Path) -> None:
    """A database another user prepared, with a key and rows of their choosing."""
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE planted (x)")
    db.commit()
    db.close()


def test_database_open_to_others_is_refused(tmp_path: Path) -> None:
    """Before, a planted mode-666 database was used, with the planter's admin token."""
    path = tmp_path / "pats.sqlite3"
    _planted_database(path)
    path.chmod(0o666)
    with pytest.raises(UnsafeFileError, match="mode 0666"):
        Store(path)


def test_database_of_another_user_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "pats.sqlite3"
    _planted_database(path)
    path.chmod(0o600)
    _other_owner(monkeypatch)
    with pytest.raises(UnsafeFileError, match="another user"):
        Store(path)


@pytest.mark.parametrize("suffix", ["-wal", "-shm"])
def test_planted_wal_or_shm_is_refused(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / "pats.sqlite3"
    side = Path(f"{path}{suffix}")
    side.write_bytes(b"")
    side.chmod(0o666)
    with pytest.raises(UnsafeFileError, match=suffix):
        Store(path)


def test_symlinked_database_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.sqlite3"
    _planted_database(target)
    target.chmod(0o600)
    (tmp_path / "pats.sqlite3").symlink_to(target)
    with pytest.raises(UnsafeFileError, match="symbolic link"):
        Store(tmp_path / "pats.sqlite3")


def test_own_private_database_is_reused(tmp_path: Path) -> None:
    path = tmp_path / "pats.sqlite3"
    with Server(path) as first:
        assert first.admin_token is not None
    assert (path.stat().st_mode & 0o777) == 0o600
    with Server(path) as second:
        assert second.admin_token is None  # the same database, its admin already made


def test_token_file_is_created_private_and_refused_when_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = tmp_path / "admin.token"
    write_token_file(fresh, "secret-value-1")
    assert (fresh.stat().st_mode & 0o777) == 0o600
    assert fresh.read_text() == "secret-value-1\n"
    write_token_file(fresh, "secret-value-2")  # this user's private file: replaced
    assert fresh.read_text() == "secret-value-2\n"

    readable = tmp_path / "readable.token"
    readable.write_text("")
    readable.chmod(0o644)
    with pytest.raises(UnsafeFileError, match="read or written"):
        write_token_file(readable, "secret-value-3")
    assert readable.read_text() == ""

    _other_owner(monkeypatch)
    with pytest.raises(UnsafeFileError, match="another user"):
        write_token_file(fresh, "secret-value-4")
    assert fresh.read_text() == "secret-value-2\n"


def test_serve_refuses_a_planted_database_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "pats.sqlite3"
    _planted_database(path)
    path.chmod(0o666)
    result = _run.run(
        "serve", "--port", "0", "--db", str(path), env=_run.environment(None, None), timeout=30
    )
    assert result.code != 0
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    assert "refusing to use" in lines[0]
    assert "Traceback" not in result.err
