"""The SQLite store behind the embedded server, and the authorization rules it enforces.

One connection, one lock: every call is a short transaction, writes take ``BEGIN IMMEDIATE``
so a second process on the same file waits (``busy_timeout``) rather than failing, and WAL
keeps readers from blocking the writer. Who may do what is decided here, inside the
transaction that writes, not only by the service in front: a read-only or deleted token
cannot write even if a caller skips the service.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.protobuf.timestamp_pb2 import Timestamp

from ona_pats._schema import identity_pb2, user_pb2

from . import _tokens
from ._files import open_database_file
from ._pagination import Position

_SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tokens (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    description TEXT NOT NULL,
    creator_id TEXT NOT NULL,
    creator_principal INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    last_used INTEGER,
    read_only INTEGER NOT NULL,
    admin INTEGER NOT NULL DEFAULT 0,
    lookup TEXT NOT NULL UNIQUE,
    hash BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS tokens_by_time ON tokens (created_at, id);
CREATE INDEX IF NOT EXISTS tokens_by_user ON tokens (user_id, created_at, id);
"""
_COLUMNS = (
    "id, user_id, description, creator_id, creator_principal, created_at, expires_at, "
    "last_used, read_only"
)
_INSERT = (
    "INSERT INTO tokens (id, user_id, description, creator_id, creator_principal, created_at, "
    "expires_at, last_used, read_only, admin, lookup, hash) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
#: How long a write waits for another writer (another process, or a long transaction) before
#: it fails as ``unavailable`` with ``Retry-After``: fail fast rather than hold a request.
WRITE_BUSY_TIMEOUT_S = 1.0
#: ``last_used`` is written at most this often per token (nanoseconds): a token used many times
#: a second costs one write a second, not one a request.
LAST_USED_RESOLUTION_NS = 1_000_000_000
#: The ``Retry-After`` (seconds) of such a failure.
RETRY_AFTER_S = 1
_USER = identity_pb2.PRINCIPAL_USER

#: One row of the ``tokens`` table, in ``_INSERT`` order.
Row = tuple[str, str, str, str, int, int, int | None, int | None, int, int, str, bytes]


class StoreError(Exception):
    """A request the store refuses; the service maps each kind to its Connect code."""


class Unauthenticated(StoreError):
    """The bearer secret is unknown, malformed, expired or revoked."""


class PermissionDenied(StoreError):
    """The caller may not do this (read-only, or another user's tokens)."""


class NotFound(StoreError):
    """No such token, or one the caller may not see."""


class LastAdmin(StoreError):
    """The change would leave the database without an admin."""


@dataclass(frozen=True, slots=True)
class Caller:
    """Who an authenticated request acts as.

    Attributes:
        token_id: the id of the personal access token that authenticated the call.
        user_id: the user that token belongs to.
        read_only: the token may only read.
        admin: the token is the bootstrap admin token (acts on every user's tokens).
    """

    token_id: str
    user_id: str
    read_only: bool
    admin: bool


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A newly created token: its secret (shown only now) and its metadata.

    The ``repr`` never shows the secret, so an ``IssuedToken`` can be logged or asserted on.

    Attributes:
        token: the bearer secret, for ``Authorization: Bearer``.
        pat: the token's metadata as the API returns it.
    """

    token: str
    pat: user_pb2.PersonalAccessToken

    @property
    def id(self) -> str:
        """The token's id (``pat.id``)."""
        return self.pat.id

    @property
    def user_id(self) -> str:
        """The user the token belongs to (``pat.user_id``)."""
        return self.pat.user_id

    def __repr__(self) -> str:
        return f"IssuedToken(id={self.id!r}, user_id={self.user_id!r}, token='<redacted>')"


class Store:
    """Personal access tokens in a SQLite file, with their authorization rules.

    Args:
        path: the database file; created with mode 0600 when missing.
        clock: nanoseconds since the epoch (``time.time_ns``), injectable for tests.
    """

    def __init__(self, path: str | os.PathLike[str], *, clock: Callable[[], int] = time.time_ns):
        self.path = Path(path)
        self.clock = clock
        open_database_file(self.path)
        self._lock = threading.RLock()
        self._db = self._connect(WRITE_BUSY_TIMEOUT_S)
        # Reads run on a connection of their own per thread: under WAL they proceed while a
        # writer (this process's or another's) holds the write lock.
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        # last_used is recorded on a connection that never waits: when the database is busy
        # the update is skipped rather than turning a read into a write that waits.
        self._touch_lock = threading.Lock()
        try:
            self._prepare()
            self._toucher = self._connect(0.0)
        except BaseException:
            self._db.close()
            raise

    def _prepare(self) -> None:
        self._db.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL survives a crash of this process; only power loss can undo
        # the last commits.
        self._db.execute("PRAGMA synchronous=NORMAL")
        with self._write() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > _SCHEMA_VERSION:
                raise RuntimeError(
                    f"{self.path} has schema version {version}, newer than this ona-pats "
                    f"understands ({_SCHEMA_VERSION}); upgrade ona-pats"
                )
            for statement in filter(str.strip, _SCHEMA.split(";")):
                db.execute(statement)
            db.execute(f"PRAGMA user_version={_SCHEMA_VERSION}")
            self._token_key = _meta_key(db, "token_key")
            self.page_key = _meta_key(db, "page_key")

    def _connect(self, busy_timeout: float) -> sqlite3.Connection:
        return sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=busy_timeout
        )

    def _reader(self) -> sqlite3.Connection:
        reader: sqlite3.Connection | None = getattr(self._local, "db", None)
        if reader is None:
            reader = self._connect(WRITE_BUSY_TIMEOUT_S)
            reader.execute("PRAGMA query_only=ON")
            self._local.db = reader
            with self._lock:
                self._readers.append(reader)
        return reader

    def close(self) -> None:
        """Close the database connections (checkpointing the WAL into the file)."""
        with self._lock:
            for reader in self._readers:
                reader.close()
            self._readers.clear()
            with self._touch_lock:
                self._toucher.close()
            self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise

    # -- authentication -------------------------------------------------------------------

    def authenticate(self, bearer: str) -> Caller:
        """Check a bearer secret and record its use (``last_used``).

        Raises:
            Unauthenticated: for an unknown, malformed or expired token.
        """
        secret = _tokens.parse_secret(bearer)
        if secret is None:
            raise Unauthenticated("invalid bearer token")
        now = self.clock()
        row = (
            self._reader()
            .execute(
                "SELECT id, user_id, read_only, admin, expires_at, hash, last_used FROM tokens "
                "WHERE lookup = ?",
                (secret.lookup,),
            )
            .fetchone()
        )
        valid = _tokens.verify(self._token_key, secret.key, None if row is None else row[5])
        if row is None or not valid:
            raise Unauthenticated("invalid bearer token")
        if row[4] is not None and row[4] <= now:
            raise Unauthenticated("bearer token has expired")
        if row[6] is None or now - row[6] >= LAST_USED_RESOLUTION_NS:
            self._touch(row[0], now)
        return Caller(row[0], row[1], bool(row[2]), bool(row[3]))

    def _touch(self, token_id: str, now: int) -> None:
        """Record a use in ``last_used``, unless the database is busy (then skip it)."""
        # Busy or locked: last_used is informational, and the request goes on without it.
        with self._touch_lock, contextlib.suppress(sqlite3.OperationalError):
            self._toucher.execute(
                "UPDATE tokens SET last_used = ? WHERE id = ? AND "
                "(last_used IS NULL OR last_used < ?)",
                (now, token_id, now),
            )

    # -- the four operations --------------------------------------------------------------

    def create(
        self,
        caller: Caller,
        *,
        user_id: str,
        description: str,
        valid_for_ns: int,
        read_only: bool,
    ) -> IssuedToken:
        """Create a token for ``user_id`` on behalf of ``caller``.

        Raises:
            PermissionDenied: a read-only caller, or another user's id
                (unless the caller is the admin); ``unauthenticated`` if the caller's own
                token was deleted or expired meanwhile.
        """
        user_id = user_id.lower()
        now = self.clock()
        with self._write() as db:
            self._authorize_write(db, caller, now)
            if user_id != caller.user_id and not caller.admin:
                raise PermissionDenied("user_id: a token can only create tokens for its user")
            creator = identity_pb2.Subject(id=caller.user_id, principal=_USER)
            # The admin user's tokens are admin tokens: rotating the admin token keeps an admin.
            admin = caller.admin and user_id == caller.user_id
            return self._insert(
                db, user_id, description, creator, now, now + valid_for_ns, read_only, admin
            )

    def get(self, caller: Caller, pat_id: str) -> user_pb2.PersonalAccessToken:
        """One token visible to ``caller``.

        Raises:
            NotFound: an unknown id, or another user's token.
        """
        row = (
            self._reader()
            .execute(
                f"SELECT {_COLUMNS} FROM tokens WHERE id = ?",  # noqa: S608 (constant columns)
                (pat_id.lower(),),
            )
            .fetchone()
        )
        if row is None or not _may_see(caller, row[1]):
            raise _not_found(pat_id)
        return _to_pat(row)

    def delete(self, caller: Caller, pat_id: str) -> None:
        """Delete one token visible to ``caller``.

        Raises:
            PermissionDenied: a read-only caller. LastAdmin: the last admin token.
            NotFound: an
                unknown id or another user's token.
        """
        now = self.clock()
        with self._write() as db:
            self._authorize_write(db, caller, now)
            row = db.execute("SELECT user_id, admin FROM tokens WHERE id = ?", (pat_id.lower(),))
            target = row.fetchone()
            if target is None or not _may_see(caller, target[0]):
                raise _not_found(pat_id)
            if target[1] and _valid_admin_tokens(db, now) <= 1:
                raise LastAdmin(_LAST_ADMIN)
            db.execute("DELETE FROM tokens WHERE id = ?", (pat_id.lower(),))

    def list(
        self, user_ids: Sequence[str] | None, after: Position | None, limit: int
    ) -> list[user_pb2.PersonalAccessToken]:
        """Up to ``limit`` tokens in (created_at, id) order, after ``after``.

        ``user_ids`` is the already-authorized filter (see :func:`listing_filter`); ``None``
        lists every user's tokens.
        """
        where: list[str] = []
        params: list[object] = []
        if user_ids is not None:
            where.append(f"user_id IN ({','.join('?' * len(user_ids))})")
            params.extend(user_ids)
        if after is not None:
            where.append("(created_at, id) > (?, ?)")
            params.extend(after)
        sql = f"SELECT {_COLUMNS} FROM tokens"  # noqa: S608 (constants; values are bound)
        if where:
            sql += " WHERE " + " AND ".join(where)
        rows = self._reader().execute(f"{sql} ORDER BY created_at, id LIMIT ?", (*params, limit))
        return [_to_pat(row) for row in rows.fetchall()]

    # -- issuing outside the API: bootstrap, test helpers, seeding -------------------------

    def issue(
        self,
        user_id: str,
        *,
        description: str = "",
        read_only: bool = False,
        valid_for_ns: int | None = None,
        expires_at_ns: int | None = None,
        admin: bool = False,
    ) -> IssuedToken:
        """Create a token directly, without an authenticated caller (the user is its creator).

        ``expires_at_ns`` wins over ``valid_for_ns``; with neither the token never expires.
        """
        now = self.clock()
        if expires_at_ns is None and valid_for_ns is not None:
            expires_at_ns = now + valid_for_ns
        creator = identity_pb2.Subject(id=user_id, principal=_USER)
        with self._write() as db:
            return self._insert(
                db, user_id.lower(), description, creator, now, expires_at_ns, read_only, admin
            )

    def bootstrap_admin(self) -> IssuedToken | None:
        """Create the admin token on the first start of this database; ``None`` afterwards."""
        with self._write() as db:
            if db.execute("SELECT 1 FROM meta WHERE name = 'admin_user_id'").fetchone():
                return None
            admin_user = str(uuid.uuid4())
            db.execute("INSERT INTO meta VALUES ('admin_user_id', ?)", (admin_user,))
            creator = identity_pb2.Subject(id=admin_user, principal=_USER)
            now = self.clock()
            return self._insert(db, admin_user, "bootstrap admin", creator, now, None, False, True)

    @property
    def admin_user_id(self) -> str | None:
        """The admin user's id, once :meth:`bootstrap_admin` has run on this database."""
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE name = 'admin_user_id'")
            found = row.fetchone()
        return None if found is None else str(found[0])

    def insert_rows(self, rows: Sequence[Row]) -> None:
        """Bulk-insert ready-made rows in one transaction (used by seeding)."""
        with self._write() as db:
            db.executemany(_INSERT, rows)

    def count(self) -> int:
        """How many tokens the store holds, of every user."""
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM tokens").fetchone()[0])

    def _insert(
        self,
        db: sqlite3.Connection,
        user_id: str,
        description: str,
        creator: identity_pb2.Subject,
        now: int,
        expires_at: int | None,
        read_only: bool,
        admin: bool = False,
    ) -> IssuedToken:
        secret = _tokens.new_secret()
        row: Row = (
            str(uuid.uuid4()),
            user_id,
            description,
            creator.id,
            creator.principal,
            now,
            expires_at,
            None,
            int(read_only),
            int(admin),
            secret.lookup,
            _tokens.digest(self._token_key, secret.key),
        )
        db.execute(_INSERT, row)
        return IssuedToken(secret.text, _to_pat(row[:9]))

    def _authorize_write(self, db: sqlite3.Connection, caller: Caller, now: int) -> None:
        """Re-read the caller's token inside the writing transaction and deny what it may not."""
        row = db.execute(
            "SELECT read_only, expires_at FROM tokens WHERE id = ?", (caller.token_id,)
        ).fetchone()
        if row is None or (row[1] is not None and row[1] <= now):
            raise Unauthenticated("bearer token is no longer valid")
        if row[0]:
            raise PermissionDenied("a read-only token cannot make changes")


_LAST_ADMIN = (
    "this is the last admin token, and the server would have no admin left: create another "
    "token for the admin user with it first (a token of the admin user is an admin token; "
    "`ona-pats rotate` does this), then delete this one"
)


def _valid_admin_tokens(db: sqlite3.Connection, now: int) -> int:
    row = db.execute(
        "SELECT COUNT(*) FROM tokens WHERE admin = 1 AND (expires_at IS NULL OR expires_at > ?)",
        (now,),
    ).fetchone()
    return int(row[0])


def listing_filter(caller: Caller, requested: Sequence[str]) -> list[str] | None:
    """The users whose tokens ``caller`` lists, given ``filter.user_ids`` (``None``: all).

    A user lists only their own tokens, and naming anyone else is ``permission_denied`` rather
    than silently dropped, so a caller never mistakes a filtered answer for the whole truth.
    The admin lists every user's tokens, or those of the users named.
    """
    wanted = sorted({user_id.lower() for user_id in requested})
    if caller.admin:
        return wanted or None
    others = [user_id for user_id in wanted if user_id != caller.user_id]
    if others:
        raise PermissionDenied("filter.user_ids: a token can only list its own user's tokens")
    return [caller.user_id]


def _may_see(caller: Caller, owner: str) -> bool:
    return caller.admin or owner == caller.user_id


def _not_found(pat_id: str) -> NotFound:
    return NotFound(f"personal access token {pat_id} not found")


def _timestamp(ns: int) -> Timestamp:
    return Timestamp(seconds=ns // 10**9, nanos=ns % 10**9)


def _to_pat(row: Sequence[Any]) -> user_pb2.PersonalAccessToken:
    pat_id, user_id, description, creator_id, principal, created, expires, used, ro = row
    pat = user_pb2.PersonalAccessToken(
        id=pat_id,
        user_id=user_id,
        description=description,
        creator=identity_pb2.Subject(id=creator_id, principal=principal),
        created_at=_timestamp(created),
        read_only=bool(ro),
    )
    if expires is not None:
        pat.expires_at.CopyFrom(_timestamp(expires))
    if used is not None:
        pat.last_used.CopyFrom(_timestamp(used))
    return pat


def _meta_key(db: sqlite3.Connection, name: str) -> bytes:
    db.execute("INSERT OR IGNORE INTO meta VALUES (?, ?)", (name, _tokens.new_key()))
    return bytes(db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()[0])
