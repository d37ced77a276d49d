"""HTTP/2 by ALPN: the default transport negotiates it over TLS where the server offers it, and a
burst of calls on a fresh client shares one connection instead of opening one per call.

The server is Hypercorn (which offers ``h2`` and ``http/1.1`` by ALPN, as Ona's edge does) on
loopback with a trustme certificate, serving the stub UserService; it records each request's
HTTP version and the client port it came from (one port per connection).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import trustme
from hypercorn.asyncio import serve
from hypercorn.config import Config

import ona_pats
from ona_pats.rpc import UserServiceASGIApplication

from ._fake import ScriptedService

TOKEN = "http2-test-token"


@dataclass
class Seen:
    """What the server saw: ``(http_version, client_port)`` per request."""

    requests: list[tuple[str, int]] = field(default_factory=list)

    @property
    def connections(self) -> int:
        return len({port for _, port in self.requests})

    @property
    def versions(self) -> set[str]:
        return {version for version, _ in self.requests}


@contextlib.contextmanager
def _hypercorn(
    tmp_path: Path, alpn: list[str], service: ScriptedService
) -> Iterator[tuple[str, str, Seen]]:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    pem, ca_pem = tmp_path / "server.pem", tmp_path / "ca.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(pem))
    ca.cert_pem.write_to_path(str(ca_pem))
    seen = Seen()
    app = UserServiceASGIApplication(service)

    async def recording(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            seen.requests.append((scope["http_version"], scope["client"][1]))
        await app(scope, receive, send)

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = Config()
    config.bind = [f"fd://{sock.fileno()}"]
    config.certfile = config.keyfile = str(pem)
    config.alpn_protocols = alpn
    config.accesslog = config.errorlog = None
    stop = threading.Event()

    async def run() -> None:
        await serve(recording, config, shutdown_trigger=lambda: asyncio.to_thread(stop.wait))

    thread = threading.Thread(target=asyncio.run, args=(run(),), daemon=True)
    thread.start()
    port = sock.getsockname()[1]
    for _ in range(200):  # until it accepts
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.1):
            break
        threading.Event().wait(0.02)
    seen.requests.clear()
    try:
        yield f"https://127.0.0.1:{port}", str(ca_pem), seen
    finally:
        stop.set()
        thread.join(10)
        sock.detach()  # Hypercorn owns the descriptor and has closed it


@pytest.fixture(autouse=True)
def _quiet_hpack(caplog: pytest.LogCaptureFixture) -> None:
    """The server's HPACK decoder logs every decoded header at DEBUG, the bearer token among
    them (the suite's secret audit reads captured logs): that is the test server's doing."""
    caplog.set_level(logging.INFO, logger="hpack")


@pytest.fixture
def h2_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Seen]]:
    service = ScriptedService(count=60)
    with _hypercorn(tmp_path, ["h2", "http/1.1"], service) as (url, ca, seen):
        monkeypatch.setenv("SSL_CERT_FILE", ca)
        yield url, seen


@pytest.fixture
def h1_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Seen]]:
    service = ScriptedService(count=60)
    with _hypercorn(tmp_path, ["http/1.1"], service) as (url, ca, seen):
        monkeypatch.setenv("SSL_CERT_FILE", ca)
        yield url, seen


IDS = [f"00000000-0000-0000-0000-{n:012x}" for n in range(1, 41)]


async def _burst(url: str, n: int) -> None:
    async with ona_pats.AsyncClient(token=TOKEN, base_url=url) as client:
        await asyncio.gather(*(client.users.pats.get(personal_access_token_id=i) for i in IDS[:n]))


def test_a_burst_on_a_fresh_async_client_shares_one_http2_connection(
    h2_server: tuple[str, Seen],
) -> None:
    url, seen = h2_server
    asyncio.run(_burst(url, 30))
    assert len(seen.requests) == 30
    assert seen.versions == {"2"}
    assert seen.connections == 1


def test_a_sync_client_on_a_thread_pool_shares_one_http2_connection(
    h2_server: tuple[str, Seen],
) -> None:
    url, seen = h2_server
    with ona_pats.Client(token=TOKEN, base_url=url) as client:
        outcomes = client.users.pats.delete_many(IDS[:24], concurrency=8)
    assert all(outcome.gone for outcome in outcomes)
    assert seen.versions == {"2"}
    assert seen.connections == 1


def test_over_http1_a_burst_still_runs_concurrently(h1_server: tuple[str, Seen]) -> None:
    """Without HTTP/2 the calls after the first open their own connections, as before."""
    url, seen = h1_server
    asyncio.run(_burst(url, 30))
    assert len(seen.requests) == 30
    assert seen.versions == {"1.1"}
    assert 2 <= seen.connections <= 30
