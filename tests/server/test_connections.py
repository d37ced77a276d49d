"""Slow and half-open connections are bounded: a connection must send its headers within the
header timeout, at most a capped number are open at once, and a repeated log line is dropped.
A legitimate request is served while 500 half-open connections are open (before, they stayed
open for minutes, and at about 20,000 the process ran out of file descriptors)."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Iterator
from typing import Any, cast

import h11
import pytest

from ona_pats import Client
from ona_pats.server import Server
from ona_pats.server._connections import GuardedH11Protocol, RepeatFilter

HALF_REQUEST = b"POST /gitpod.v1.UserService/ListPersonalAccessTokens HTTP/1.1\r\nHost: x\r\n"


@pytest.fixture
def served() -> Iterator[Server]:
    with Server(port=0) as srv:
        yield srv


def _half_open(server: Server, count: int) -> list[socket.socket]:
    sockets = []
    for _ in range(count):
        sock = socket.create_connection((server.host, server.port), timeout=5)
        sock.sendall(HALF_REQUEST)
        sockets.append(sock)
    return sockets


def _closed_by_server(sock: socket.socket, within_s: float) -> bool:
    sock.settimeout(within_s)
    try:
        return sock.recv(1) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def test_legitimate_request_is_served_beside_500_half_open_connections(
    served: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(GuardedH11Protocol, "header_timeout_s", 3.0)
    held = _half_open(served, 500)
    try:
        token = served.create_user_token(description="legit").token
        with Client(token=token, base_url=served.base_url, max_retries=0, timeout=5) as client:
            started = time.monotonic()
            assert len(list(client.users.pats.list())) == 1
            assert time.monotonic() - started < 2.0
        # The half-open ones are closed once their header time is up.
        assert _closed_by_server(held[0], within_s=8.0)
        assert all(_closed_by_server(sock, within_s=2.0) for sock in held[1:])
    finally:
        for sock in held:
            sock.close()


def test_connections_over_the_cap_are_closed_at_once(
    served: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(GuardedH11Protocol, "cap", 20)
    held = _half_open(served, 30)
    try:
        time.sleep(0.5)
        closed = [sock for sock in held if _closed_by_server(sock, within_s=0.2)]
        assert len(closed) == 10
    finally:
        for sock in held:
            sock.close()


class _RecordingTransport:
    """The socket transport under the protocol, recording each write that reaches it."""

    def __init__(self, inner: asyncio.Transport, writes: list[bytes]) -> None:
        self._inner = inner
        self._writes = writes

    def write(self, data: bytes) -> None:
        self._writes.append(bytes(data))
        self._inner.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def test_each_unary_response_reaches_the_socket_in_one_write(
    served: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each response is written at once and framed by its Content-Length.

    A head written apart from its body, or a chunked body (whose last frame comes after the
    data), lets a client see the response while the connection is still busy; hyper's pool
    then opens a second connection for the client's next call.
    """
    writes: list[bytes] = []
    made = GuardedH11Protocol.connection_made

    def recording(self: GuardedH11Protocol, transport: asyncio.Transport) -> None:
        made(self, cast("asyncio.Transport", _RecordingTransport(transport, writes)))

    monkeypatch.setattr(GuardedH11Protocol, "connection_made", recording)
    pat = served.create_user_token(description="one write")
    with Client(token=pat.token, base_url=served.base_url, max_retries=0) as client:
        for _ in range(12):
            client.users.pats.get(personal_access_token_id=pat.id)
        assert len(list(client.users.pats.list())) == 1
    assert len(writes) == 13
    assert all(_is_one_whole_response(write) for write in writes)


def _is_one_whole_response(data: bytes) -> bool:
    """Whether ``data`` holds exactly one complete HTTP/1.1 response framed by its length."""
    conn = h11.Connection(h11.CLIENT)
    conn.send(
        h11.Request(method="POST", target="/", headers=[("Host", "x"), ("Content-Length", "0")])
    )
    conn.send(h11.EndOfMessage())
    conn.receive_data(data)
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            return False
        if isinstance(event, h11.Response) and not any(
            name == b"content-length" for name, _ in event.headers
        ):
            return False
        if isinstance(event, h11.EndOfMessage):
            return conn.trailing_data == (b"", False)


def test_a_repeated_log_line_is_dropped_and_counted() -> None:
    log_filter = RepeatFilter(window_s=60)
    records = [
        logging.LogRecord("uvicorn.error", logging.WARNING, __file__, 1, "Invalid HTTP", (), None)
        for _ in range(1000)
    ]
    passed = [record for record in records if log_filter.filter(record)]
    assert len(passed) == 1
    other = logging.LogRecord("uvicorn.error", logging.WARNING, __file__, 1, "other", (), None)
    assert log_filter.filter(other)
