"""Connections of the embedded server: a deadline for a request's headers, a cap on open
connections, one write per response, and a log that cannot be flooded by repeating one line.

uvicorn bounds idle keep-alive connections but not a connection that sends half a request
and waits: thousands of those held file descriptors for minutes. :class:`GuardedH11Protocol`
is uvicorn's HTTP/1.1 protocol (passed as ``http=`` to ``uvicorn.Config``) with two limits of
its own, kept with the asyncio ``Protocol`` methods only.

uvicorn writes a response's head and its body to the socket separately. A client that reads
the head before the body arrives gets the response while its HTTP/1.1 connection is still
busy; hyper's pool (under pyqwest and reqwest) then races a new connection for the caller's
next request against the return of this one, and often opens it (hyperium/hyper#4134). A
:class:`_CoalescingTransport` sends what one step of the event loop wrote in one write, so a
unary response (head and body written back to back) arrives whole and the connection is idle
again by the time the client sees it.
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


class _CoalescingTransport(asyncio.Transport):
    """A transport that joins the writes of one event-loop step into one write.

    Every other method is the wrapped transport's; data held for the next step counts in
    :meth:`get_write_buffer_size`, and closing sends it first.
    """

    def __init__(self, inner: asyncio.Transport) -> None:
        super().__init__(inner.get_extra_info("peername"))
        self._inner = inner
        self._held: list[bytes | bytearray | memoryview] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Hold ``data`` until the end of this step of the event loop."""
        if not self._held:
            asyncio.get_running_loop().call_soon(self._flush)
        self._held.append(data)

    def _flush(self) -> None:
        held, self._held = self._held, []
        if held and not self._inner.is_closing():
            self._inner.write(b"".join(held))

    def close(self) -> None:
        """Send what is held, then close."""
        self._flush()
        self._inner.close()

    def abort(self) -> None:
        """Close at once; what is held is dropped."""
        self._held = []
        self._inner.abort()

    def is_closing(self) -> bool:
        return self._inner.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._inner.get_extra_info(name, default)

    def get_write_buffer_size(self) -> int:
        return self._inner.get_write_buffer_size() + sum(len(chunk) for chunk in self._held)

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._inner.set_write_buffer_limits(high, low)

    def pause_reading(self) -> None:
        self._inner.pause_reading()

    def resume_reading(self) -> None:
        self._inner.resume_reading()

    def is_reading(self) -> bool:
        return self._inner.is_reading()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._inner.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._inner.get_protocol()

    def can_write_eof(self) -> bool:
        return self._inner.can_write_eof()

    def write_eof(self) -> None:
        self._flush()
        self._inner.write_eof()


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
        transport = _CoalescingTransport(transport)
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
