"""A request without valid credentials is refused before its body is read: the server answers
``unauthenticated`` on the headers alone, so anonymous clients cannot make it read and parse
megabytes (before, four such clients pushed a legitimate request from 5 ms to 2 s)."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import pytest

from ona_pats.server import Server

PATH = "/gitpod.v1.UserService/ListPersonalAccessTokens"


@pytest.fixture(scope="module")
def served() -> Iterator[Server]:
    with Server(port=0) as srv:
        yield srv


def _headers_only(server: Server, authorization: str | None) -> tuple[int, dict[str, str], float]:
    """Send the headers of a 4 MiB JSON POST and none of its body; return the answer."""
    auth = f"Authorization: {authorization}\r\n" if authorization else ""
    head = (
        f"POST {PATH} HTTP/1.1\r\nHost: {server.host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {4 << 20}\r\n{auth}\r\n"
    ).encode()
    with socket.create_connection((server.host, server.port), timeout=10) as sock:
        started = time.monotonic()
        sock.sendall(head)
        data = b""
        while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        elapsed = time.monotonic() - started
    status_line, _, rest = data.partition(b"\r\n")
    body = rest.partition(b"\r\n\r\n")[2]
    return int(status_line.split()[1]), json.loads(body), elapsed


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(None, id="no-token"),
        pytest.param("Bearer not-a-real-token", id="malformed-token"),
        pytest.param("Bearer " + "A" * 60, id="unknown-token"),
        pytest.param("Basic dXNlcjpwYXNz", id="other-scheme"),
    ],
)
def test_unauthenticated_request_is_refused_before_its_body(
    served: Server, authorization: str | None
) -> None:
    status, body, elapsed = _headers_only(served, authorization)
    assert status == 401
    assert body["code"] == "unauthenticated"
    assert elapsed < 2.0


def test_authenticated_request_still_reads_its_body(served: Server) -> None:
    """The control: with a valid token the server waits for the body as usual."""
    token = served.create_user_token(description="auth first").token
    head = (
        f"POST {PATH} HTTP/1.1\r\nHost: {served.host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: 100\r\nAuthorization: Bearer {token}\r\n\r\n{{"
    ).encode()
    with socket.create_connection((served.host, served.port), timeout=1.0) as sock:
        sock.sendall(head)
        with pytest.raises(TimeoutError):
            sock.recv(65536)
