"""Running the service: a uvicorn server in a background thread, and the blocking ``run``."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import tempfile
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

from uvicorn.config import LOGGING_CONFIG

from ._app import create_app
from ._connections import GuardedH11Protocol, RepeatFilter
from ._files import write_token_file
from ._loopback import ServerThread, bind
from ._seed import seed_tokens
from ._store import IssuedToken, Store

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8484
#: The uvicorn options the embedded server runs with (the benchmark's ``ona`` server too).
EMBEDDED_OPTIONS: dict[str, Any] = {
    "access_log": False,
    "timeout_graceful_shutdown": 5,
    # Idle keep-alive connections stay open longer than clients pool theirs (as long as
    # nginx's keepalive_timeout; uvicorn's default is far shorter), so that the client, not
    # the server, closes an idle connection: a request sent just as the server closes one is
    # reset, and a Create or Delete failing that way cannot be retried.
    "timeout_keep_alive": 75,
    "http": GuardedH11Protocol,
}
_DB_NAME = "ona-pats.sqlite3"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


#: Loggers that a misbehaving client could make repeat one line (invalid requests, accept
#: errors): a line repeated within seconds is dropped and counted.
_FLOODABLE_LOGGERS = ("uvicorn.error", "asyncio")


class Server:
    """The embedded ``gitpod.v1.UserService``: SQLite store plus uvicorn on a loopback port.

    A context manager that starts on enter and stops cleanly on exit (no thread, socket or
    file left behind). Without ``db_path`` it uses a fresh database in a temporary directory,
    removed on stop. The first start of a database creates the bootstrap admin token.

    ```python
    with Server() as srv:
        alice = srv.create_user_token()
        client = UserServiceClientSync(srv.base_url)
        client.list_personal_access_tokens(
            ListPersonalAccessTokensRequest(), headers={"authorization": f"Bearer {alice.token}"}
        )
    ```

    Args:
        db_path: the SQLite file (created with mode 0600); ``None`` for a temporary one.
        host: the address to listen on; loopback by default.
        port: the port; 0 picks a free one (read it back from :attr:`port`).
        seed: add this many realistic tokens (:func:`seed_tokens`) on start.
        token_file: where to write the admin token (mode 0600) when it is created.
        log_level: have uvicorn set up its own log handlers at this level (``"info"``...);
            ``None`` (the default) leaves logging alone, so records reach your handlers.
    """

    def __init__(
        self,
        db_path: str | os.PathLike[str] | None = None,
        *,
        host: str = DEFAULT_HOST,
        port: int = 0,
        seed: int = 0,
        token_file: str | os.PathLike[str] | None = None,
        log_level: str | None = None,
    ) -> None:
        self._requested_db = None if db_path is None else Path(db_path)
        self.host = host
        self._requested_port = port
        self._seed = seed
        self._token_file = None if token_file is None else Path(token_file)
        self._log_level = log_level
        self._tmpdir: str | None = None
        self._store: Store | None = None
        self._runner: ServerThread | None = None
        self._socket: socket.socket | None = None
        self.admin: IssuedToken | None = None
        self.seeded_user_ids: list[str] = []
        self._log_filter = RepeatFilter()

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> Server:
        """Open the store, bootstrap and seed it, and serve until :meth:`stop`.

        Returns:
            ``self``, serving.
        """
        if self._runner is not None:
            raise RuntimeError("the server is already running")
        try:
            self._open_store()
            self._serve()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop serving, close the store and remove a temporary database. Idempotent."""
        if self._runner is not None:
            self._runner.stop()
        for name in _FLOODABLE_LOGGERS:
            logging.getLogger(name).removeFilter(self._log_filter)
        if self._socket is not None:
            self._socket.close()
        if self._store is not None:
            self._store.close()
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
        self._runner = self._socket = self._store = self._tmpdir = None

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _open_store(self) -> None:
        db_path = self._requested_db
        if db_path is None:
            self._tmpdir = tempfile.mkdtemp(prefix="ona-pats-")
            db_path = Path(self._tmpdir, _DB_NAME)
        self._store = Store(db_path)
        self.admin = self._store.bootstrap_admin()
        if self.admin is not None and self._token_file is not None:
            write_token_file(self._token_file, self.admin.token)
        if self._seed:
            self.seeded_user_ids = seed_tokens(self._store, self._seed)

    def _serve(self) -> None:
        assert self._store is not None
        for name in _FLOODABLE_LOGGERS:
            logging.getLogger(name).addFilter(self._log_filter)
        self._socket = bind(self.host, self._requested_port)
        access = logging.getLogger("uvicorn.access")
        saved = access.handlers[:], access.propagate
        self._runner = ServerThread(
            create_app(self._store),
            self._socket,
            name=f"ona-pats-server-{self.port}",
            # Only configure logging when asked: a test double must not rewire the
            # logging of the process it is embedded in.
            log_config=LOGGING_CONFIG if self._log_level else None,
            log_level=self._log_level,
            **EMBEDDED_OPTIONS,
        )
        if not self._log_level:
            # access_log=False silences uvicorn.access for the whole process; with the
            # access log off this server never writes to it, so put it back.
            access.handlers[:], access.propagate = saved
        self._runner.start()

    # -- what tests and demos read --------------------------------------------------------

    @property
    def store(self) -> Store:
        """The open :class:`Store` (only while running)."""
        if self._store is None:
            raise RuntimeError("the server is not running")
        return self._store

    @property
    def db_path(self) -> Path:
        """The SQLite file in use."""
        return self.store.path

    @property
    def port(self) -> int:
        """The port the server listens on (the real one when 0 was asked for)."""
        if self._socket is None:
            raise RuntimeError("the server is not running")
        return int(self._socket.getsockname()[1])

    @property
    def base_url(self) -> str:
        """The URL to give a client, such as ``http://127.0.0.1:54321``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def admin_token(self) -> str | None:
        """The admin secret if this start created it; ``None`` when the database had one."""
        return None if self.admin is None else self.admin.token

    @property
    def admin_user_id(self) -> str:
        """The admin user's id."""
        user_id = self.store.admin_user_id
        assert user_id is not None  # bootstrap_admin ran in start()
        return user_id

    def create_user_token(
        self,
        user_id: str | None = None,
        *,
        description: str = "test token",
        read_only: bool = False,
        valid_for: timedelta | None = timedelta(days=30),
        expires_at: datetime | None = None,
    ) -> IssuedToken:
        """Create a token directly in the store (no API call), for tests and demos.

        Args:
            user_id: the owner; ``None`` for a new random user.
            description: the token's description.
            read_only: whether the token may only read.
            valid_for: its lifetime; ``None`` for a token that never expires.
            expires_at: an explicit expiry (aware datetime), even in the past; wins over
                ``valid_for``.

        Returns:
            The secret (``.token``) and the metadata (``.pat``, ``.id``, ``.user_id``).
        """
        expires_ns = None if expires_at is None else _aware_ns(expires_at)
        lifetime_ns = None if valid_for is None else _timedelta_ns(valid_for)
        return self.store.issue(
            user_id or str(uuid.uuid4()),
            description=description,
            read_only=read_only,
            valid_for_ns=lifetime_ns,
            expires_at_ns=expires_ns,
        )


def run(
    db_path: str | os.PathLike[str],
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    seed: int = 0,
    token_file: str | os.PathLike[str] | None = None,
    log_level: str = "info",
    on_ready: Callable[[Server], None] | None = None,
) -> None:
    """Serve until SIGINT or SIGTERM (``ona-pats serve``), then stop cleanly.

    Args:
        db_path: the SQLite file; created with mode 0600 when missing.
        host: the address to listen on.
        port: the port; 0 picks a free one.
        seed: add this many realistic tokens on start.
        token_file: where to write a newly created admin token (mode 0600).
        log_level: uvicorn's log level; it logs to stderr in its own format.
        on_ready: called once serving, for example to print ``srv.base_url`` and, when
            ``srv.admin_token`` is not ``None``, the admin token (shown this once).
    """
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    with Server(
        db_path, host=host, port=port, seed=seed, token_file=token_file, log_level=log_level
    ) as srv:
        restore = _on_signals(request_stop)
        try:
            if on_ready is not None:
                on_ready(srv)
            while not stop.wait(0.5):
                pass
        finally:
            restore()


def _on_signals(handler: Callable[[int, FrameType | None], Any]) -> Callable[[], None]:
    """Route SIGINT and SIGTERM to ``handler``; returns the function that restores them."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)

    return restore


def _timedelta_ns(delta: timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * 10**9 + delta.microseconds * 1000


def _aware_ns(moment: datetime) -> int:
    if moment.tzinfo is None:
        raise ValueError("expires_at must be timezone-aware")
    return _timedelta_ns(moment - _EPOCH)
