"""Serving an ASGI application from a background thread: the one harness.

The embedded :class:`~ona_pats.server.Server`, the test suite's scripted servers and the
benchmark's servers all run uvicorn through :class:`ServerThread`, on a socket bound by
:func:`bind`.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import uvicorn

_START_TIMEOUT_S = 10.0
_STOP_TIMEOUT_S = 10.0


def bind(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A TCP socket bound to ``host:port`` (``0``: an ephemeral port), not yet listening."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio only disables Nagle (TCP_NODELAY) on the accepted sockets
    # of a listener whose proto says TCP; without it every other response waits ~40 ms.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


class ServerThread:
    """uvicorn serving ``app`` on ``sock`` from a daemon thread.

    Args:
        app: the ASGI application.
        sock: the bound socket to serve on (:func:`bind`); this object does not close it.
        name: the thread's name.
        options: ``uvicorn.Config`` options beyond ``lifespan="off"`` and ``ws="none"``.
    """

    def __init__(self, app: Any, sock: socket.socket, *, name: str, **options: Any) -> None:
        self.sock = sock
        config = uvicorn.Config(app, **{"lifespan": "off", "ws": "none", **options})
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name=name, daemon=True
        )

    @property
    def port(self) -> int:
        """The port served on."""
        return int(self.sock.getsockname()[1])

    def start(self) -> None:
        """Start serving; return once the server accepts connections.

        Raises:
            RuntimeError: it failed to start, or did not start in time.
        """
        self._thread.start()
        deadline = time.monotonic() + _START_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the server failed to start; see its log")
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start in time")
            time.sleep(0.005)

    def stop(self) -> None:
        """Stop serving and wait for the thread (open connections get uvicorn's grace)."""
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(_STOP_TIMEOUT_S)
