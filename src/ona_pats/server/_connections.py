"""Connection limits of the embedded server: a deadline for a request's headers, a cap on
open connections, and a log that cannot be flooded by repeating one line.

uvicorn bounds idle keep-alive connections but not a connection that sends half a request
and waits: thousands of those held file descriptors for minutes. :class:`GuardedH11Protocol`
is uvicorn's HTTP/1.1 protocol (passed as ``http=`` to ``uvicorn.Config``) with two limits of
its own, kept with the asyncio ``Protocol`` methods only.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

#: Seconds a new connection has to send the headers of its first request.
HEADER_TIMEOUT_S = 10.0
#: The most connections open at once; more are closed as soon as they are accepted. Kept
#: well below the file-descriptor limit, so the server can always open its database.
MAX_CONNECTIONS = 1000
#: A log record repeated within this many seconds is dropped (and counted).
LOG_REPEAT_S = 10.0


def connection_cap() -> int:
    """:data:`MAX_CONNECTIONS`, or half the process's file-descriptor limit if lower."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return MAX_CONNECTIONS
    return max(16, min(MAX_CONNECTIONS, soft // 2))


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a header deadline and a cap on open connections."""

    cap = connection_cap()
    header_timeout_s = HEADER_TIMEOUT_S

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head = b""
        self._head_done = False
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Close the connection at once over the cap, else start the header deadline.

        uvicorn keeps the server's open connections in ``self.connections``.
        """
        super().connection_made(transport)
        if len(self.connections) > self.cap:
            transport.close()
            return
        self._deadline = asyncio.get_running_loop().call_later(
            self.header_timeout_s, self._headers_late
        )

    def data_received(self, data: bytes) -> None:
        """Watch for the end of the first request's headers, then hand the bytes on."""
        if not self._head_done:
            self._head = (self._head + data)[-4096:]
            if b"\r\n\r\n" in self._head:
                self._head_done = True
                self._head = b""
                self._cancel_deadline()
        super().data_received(data)

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the header deadline."""
        self._cancel_deadline()
        super().connection_lost(exc)

    def _cancel_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _headers_late(self) -> None:
        self._deadline = None
        if not self._head_done:
            self.transport.close()


class RepeatFilter(logging.Filter):
    """Drops a log record whose message was logged within :data:`LOG_REPEAT_S` seconds; the
    next one that passes says how many were dropped."""

    def __init__(self, window_s: float = LOG_REPEAT_S) -> None:
        super().__init__()
        self._window = window_s
        self._last: dict[str, tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        """Whether to log ``record``."""
        key = f"{record.name}:{record.msg}"
        now = time.monotonic()
        seen = self._last.get(key)
        if seen is not None and now - seen[0] < self._window:
            self._last[key] = (seen[0], seen[1] + 1)
            return False
        if seen is not None and seen[1]:
            record.msg = f"{record.msg} (and {seen[1]} more like it in {self._window:.0f} s)"
        if len(self._last) > 1000:
            self._last.clear()
        self._last[key] = (now, 0)
        return True
