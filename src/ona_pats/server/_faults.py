"""Fault injection for tests of a caller's retry handling: a loopback proxy in front of a
:class:`~ona_pats.server.Server` that answers chosen calls with a 503 or drops their connection.

The proxy speaks HTTP/1.1 with ``Content-Length`` bodies (what Connect unary calls and the
embedded server send) and forwards everything else unchanged, one upstream connection per
client connection.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter
from dataclasses import dataclass
from typing import Self

#: The largest request or response head the proxy reads.
_MAX_HEAD = 64 * 1024


@dataclass
class _Fault:
    kind: str  # "unavailable" | "drop" | "drop_after_forward"
    rpc: str | None
    times: int
    retry_after: float


class FaultInjector:
    """A loopback proxy that injects faults into the calls it forwards; a context manager.

    Args:
        upstream: the server's base URL, ``http://127.0.0.1:PORT``.
    """

    def __init__(self, upstream: str) -> None:
        host, _, port = upstream.removeprefix("http://").partition(":")
        self._upstream = (host, int(port.rstrip("/")))
        self._lock = threading.Lock()
        self._faults: list[_Fault] = []
        self._seen: Counter[str] = Counter()
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._thread = threading.Thread(target=self._loop.run_forever, name="ona-pats faults")
        self.base_url = ""
        """The URL to give clients instead of the server's."""

    # -- what tests call -------------------------------------------------------------------

    def unavailable(
        self, rpc: str | None = None, *, times: int = 1, retry_after: float = 0
    ) -> None:
        """Answer the next ``times`` calls of ``rpc`` (any, if ``None``) with a Connect
        ``unavailable`` error, HTTP 503 with ``Retry-After``; the server never sees them."""
        self._add(_Fault("unavailable", rpc, times, retry_after))

    def drop(self, rpc: str | None = None, *, times: int = 1, after_forward: bool = False) -> None:
        """Close the connection of the next ``times`` calls of ``rpc`` without an answer:
        before the server sees the call, or (``after_forward``) once the server has answered
        it, so the call took effect but the caller cannot know."""
        self._add(_Fault("drop_after_forward" if after_forward else "drop", rpc, times, 0))

    def clear(self) -> None:
        """Stop injecting the faults not yet applied."""
        with self._lock:
            self._faults.clear()

    def calls(self, rpc: str) -> int:
        """How many calls of ``rpc`` reached the proxy (``"DeletePersonalAccessToken"``...)."""
        with self._lock:
            return self._seen[rpc]

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Listen on a free loopback port."""
        self._thread.start()
        started = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._serve, "127.0.0.1", 0), self._loop
        )
        self._server = started.result(10)
        port = self._server.sockets[0].getsockname()[1]
        self.base_url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        """Stop listening, close every connection, end the thread."""
        if self._server is not None:
            server = self._server

            async def close() -> None:
                server.close()
                for writer in self._writers:
                    writer.close()
                await server.wait_closed()

            asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
            self._server = None
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
        self._loop.close()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- the proxy ---------------------------------------------------------------------------

    def _add(self, fault: _Fault) -> None:
        if fault.times < 1:
            raise ValueError(f"times must be at least 1, got {fault.times}")
        with self._lock:
            self._faults.append(fault)

    def _take(self, rpc: str) -> _Fault | None:
        with self._lock:
            self._seen[rpc] += 1
            for fault in self._faults:
                if fault.rpc in (None, rpc):
                    fault.times -= 1
                    if fault.times == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self._writers.add(writer)
        try:
            while (request := await _read_message(reader)) is not None:
                head = request[: request.index(b"\r\n")].split(b" ")
                rpc = head[1].split(b"?")[0].rsplit(b"/", 1)[-1].decode() if len(head) > 1 else ""
                fault = self._take(rpc)
                if fault is not None and fault.kind == "drop":
                    return
                if fault is not None and fault.kind == "unavailable":
                    writer.write(_unavailable(fault.retry_after))
                    await writer.drain()
                    continue
                if upstream is None:
                    upstream = await asyncio.open_connection(*self._upstream)
                upstream[1].write(request)
                response = await _read_message(upstream[0])
                if response is None or (fault is not None and fault.kind == "drop_after_forward"):
                    return
                writer.write(response)
                await writer.drain()
        except (OSError, ValueError, asyncio.IncompleteReadError):
            pass  # a broken or malformed exchange ends the connection, as a gateway's would
        finally:
            self._writers.discard(writer)
            writer.close()
            if upstream is not None:
                upstream[1].close()


async def _read_message(reader: asyncio.StreamReader) -> bytes | None:
    """One HTTP/1.1 message (head and ``Content-Length`` body), or ``None`` at a clean end."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if exc.partial:
            raise
        return None
    except asyncio.LimitOverrunError as exc:
        raise ValueError("message head too long") from exc
    if len(head) > _MAX_HEAD:
        raise ValueError("message head too long")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
        elif name.strip().lower() == b"transfer-encoding":
            raise ValueError("only Content-Length bodies are proxied")
    return head + await reader.readexactly(length)


def _unavailable(retry_after: float) -> bytes:
    body = json.dumps(
        {"code": "unavailable", "message": "unavailable (injected by ona_pats FaultInjector)"}
    ).encode()
    head = (
        "HTTP/1.1 503 Service Unavailable\r\n"
        "Content-Type: application/json\r\n"
        f"Retry-After: {retry_after:g}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body
