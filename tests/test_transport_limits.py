"""The transport's promises hold for every flavour: a class per Connect code (a non-Connect
answer included), unknown codes are ``unknown``, the body limit holds before reading and
while decompressing, and a token that cannot be a header value is refused without an echo."""

from __future__ import annotations

import functools
import gzip
import os
import socket
import socketserver
import subprocess
import sys
import textwrap
import threading
import zlib
from collections.abc import Iterable, Iterator

import pytest
from connectrpc.code import Code

from ona_pats import (
    AsyncClient,
    Client,
    ConfigurationError,
    InvalidResponseError,
    UnavailableError,
    UnknownError,
)

from .conftest import TOKEN, USER_ID, RawHTTP, ScriptedServer

HTML_503 = RawHTTP(503, b"<html>Service Unavailable</html>", {"content-type": "text/html"})
UNKNOWN_CODE = RawHTTP(
    503,
    b'{"code":"brand_new_code","message":"from the future"}',
    {"content-type": "application/json"},
)


def test_sync_proxy_html_503_is_an_unavailable_error(
    scripted_server: ScriptedServer, no_env: None
) -> None:
    """Before, it was an InvalidResponseError with code unavailable but not an
    UnavailableError, so ``except UnavailableError`` missed the most common outage."""
    scripted_server.expect("GetPersonalAccessToken", HTML_503)
    with (
        Client(token=TOKEN, base_url=scripted_server.url, max_retries=0) as client,
        pytest.raises(UnavailableError) as info,
    ):
        client.users.pats.get(personal_access_token_id=USER_ID)
    assert isinstance(info.value, InvalidResponseError)
    assert info.value.code is Code.UNAVAILABLE
    assert info.value.http_status == 503


@pytest.mark.anyio
async def test_async_proxy_html_503_is_an_unavailable_error(
    scripted_server: ScriptedServer, no_env: None
) -> None:
    scripted_server.expect("GetPersonalAccessToken", HTML_503)
    async with AsyncClient(token=TOKEN, base_url=scripted_server.url, max_retries=0) as client:
        with pytest.raises(UnavailableError) as info:
            await client.users.pats.get(personal_access_token_id=USER_ID)
    assert isinstance(info.value, InvalidResponseError)


def test_every_invalid_response_is_an_instance_of_its_codes_class() -> None:
    from ona_pats._exceptions import error_class

    for code in Code:
        error = InvalidResponseError("x", code=code)
        assert isinstance(error, error_class(code))
        assert isinstance(error, InvalidResponseError)
        assert error.code is code
    assert isinstance(InvalidResponseError("bad 200"), InvalidResponseError)
    assert InvalidResponseError("bad 200").code is Code.INTERNAL


def test_sync_unknown_connect_code_is_unknown_and_not_retried(
    scripted_server: ScriptedServer, no_env: None
) -> None:
    """The Connect spec: a code the client does not know is ``unknown``. Before, it became
    ``unavailable`` and a Get was retried."""
    scripted_server.expect("GetPersonalAccessToken", UNKNOWN_CODE, UNKNOWN_CODE, UNKNOWN_CODE)
    with (
        Client(token=TOKEN, base_url=scripted_server.url, sleep=lambda _: None) as client,
        pytest.raises(UnknownError) as info,
    ):
        client.users.pats.get(personal_access_token_id=USER_ID)
    assert info.value.code is Code.UNKNOWN
    assert "from the future" in info.value.message
    assert len(scripted_server.calls("GetPersonalAccessToken")) == 1


@pytest.mark.anyio
async def test_async_unknown_connect_code_is_unknown_and_not_retried(
    scripted_server: ScriptedServer, no_env: None
) -> None:
    scripted_server.expect("GetPersonalAccessToken", UNKNOWN_CODE, UNKNOWN_CODE, UNKNOWN_CODE)

    async def no_sleep(_: float) -> None:
        return None

    async with AsyncClient(token=TOKEN, base_url=scripted_server.url, sleep=no_sleep) as client:
        with pytest.raises(UnknownError):
            await client.users.pats.get(personal_access_token_id=USER_ID)
    assert len(scripted_server.calls("GetPersonalAccessToken")) == 1


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("abc-secret-value\nX-Injected: 1", id="newline"),
        pytest.param("abc-secret-value\x00more", id="nul"),
        pytest.param("abc-secret-value\x7f", id="del"),
        pytest.param("abc secret value", id="space"),
        pytest.param("abc-s\u00e9cret-value", id="non-ascii"),
    ],
)
def test_token_that_cannot_be_a_header_is_refused_without_echo(token: str, no_env: None) -> None:
    """Before, a control character gave a bare ValueError whose message was the whole token."""
    with pytest.raises(ConfigurationError) as info:
        Client(token=token, base_url="http://127.0.0.1:9")
    assert "secret" not in str(info.value)
    assert "secret" not in repr(info.value)
    assert "position" in str(info.value)


def test_cli_refuses_such_a_token_without_printing_it() -> None:
    from .cli import _run

    env = _run.environment("http://127.0.0.1:9", "abc-secret-value\x01tail")
    result = _run.run("list", env=env)
    assert result.code != 0
    assert "secret" not in result.out + result.err
    assert "position" in result.err


# --- the body limit: declared lengths and decompression -----------------------------------


class _Raw(socketserver.BaseRequestHandler):
    """Answers one request with ``server.head`` and then ``server.body`` (bytes or chunks)."""

    def handle(self) -> None:
        sock: socket.socket = self.request
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return
            data += chunk
        server = self.server
        assert isinstance(server, _Server)
        try:
            sock.sendall(server.head)
            for part in server.body():
                sock.sendall(part)
                server.sent += len(part)
        except OSError:
            pass


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    head = b""
    sent = 0

    def body(self) -> Iterable[bytes]:
        return self.parts

    parts: Iterable[bytes] = ()


@pytest.fixture
def raw_server() -> Iterator[_Server]:
    server = _Server(("127.0.0.1", 0), _Raw)
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@functools.cache
def _bomb(inflated: int) -> bytes:
    """A gzip body of zeros that inflates to ``inflated`` bytes (about 1,000:1)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(1 << 20)
    parts = [compressor.compress(block) for _ in range(inflated // len(block))]
    return b"".join(parts) + compressor.flush()


def _head(extra: str) -> bytes:
    return (
        f"HTTP/1.1 200 OK\r\ncontent-type: application/proto\r\nconnection: close\r\n{extra}\r\n"
    ).encode()


_CHILD = textwrap.dedent(
    """
    import asyncio, sys
    from ona_pats import AsyncClient, Client, InvalidResponseError

    URL, FLAVOUR = sys.argv[1], sys.argv[2]
    PAT = "f53d2330-3795-4c5d-a1f3-453121af9c60"

    async def run_async():
        async with AsyncClient(token="child-token", base_url=URL, max_retries=0) as client:
            await client.users.pats.get(personal_access_token_id=PAT)

    try:
        if FLAVOUR == "async":
            asyncio.run(run_async())
        else:
            with Client(token="child-token", base_url=URL, max_retries=0) as client:
                client.users.pats.get(personal_access_token_id=PAT)
        outcome = "no error"
    except InvalidResponseError as exc:
        outcome = str(exc)
    # VmHWM: this process's own peak (ru_maxrss starts from the parent's at fork).
    with open("/proc/self/status") as status:
        peak_kib = next(int(l.split()[1]) for l in status if l.startswith("VmHWM:"))
    print(f"{peak_kib / 1024:.0f}")
    print(outcome)
    """
)


def _child_run(url: str, flavour: str) -> tuple[float, str]:
    env = {**os.environ, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, url, flavour],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
    assert done.returncode == 0, (done.returncode, done.stdout, done.stderr[-3000:])
    rss, outcome = done.stdout.splitlines()[:2]
    return float(rss), outcome


@pytest.mark.parametrize("flavour", ["sync", "async"])
@pytest.mark.parametrize("declared", [True, False], ids=["content-length", "chunked"])
def test_gzip_bomb_stays_within_the_read_limit(
    raw_server: _Server, flavour: str, declared: bool
) -> None:
    """512 KiB of gzip inflating to 512 MiB: the client stops at the 16 MiB read limit while
    inflating. Before, the async client reached 1.6 GiB of RSS."""
    bomb = _bomb(512 << 20)
    length = f"content-length: {len(bomb)}\r\n" if declared else "transfer-encoding: chunked\r\n"
    raw_server.head = _head("content-encoding: gzip\r\n" + length)
    if declared:
        raw_server.parts = [bomb]
    else:
        step = 65536
        chunks = [bomb[i : i + step] for i in range(0, len(bomb), step)]
        raw_server.parts = [b"%x\r\n%s\r\n" % (len(c), c) for c in chunks] + [b"0\r\n\r\n"]
    rss, outcome = _child_run(f"http://127.0.0.1:{raw_server.server_address[1]}", flavour)
    assert "exceeds the read limit" in outcome
    assert rss < 200, f"peak RSS {rss:.0f} MiB"


@pytest.mark.parametrize("flavour", ["sync", "async"])
def test_declared_length_over_the_limit_is_refused_before_reading(
    raw_server: _Server, flavour: str
) -> None:
    """A 200 MB body with its Content-Length: refused on the headers. Before, the async
    client read all of it first."""
    size = 200_000_000
    raw_server.head = _head(f"content-length: {size}\r\n")
    block = bytes(1 << 20)
    raw_server.parts = (block for _ in range(size // len(block)))
    rss, outcome = _child_run(f"http://127.0.0.1:{raw_server.server_address[1]}", flavour)
    assert "exceeds the read limit" in outcome
    assert rss < 200
    assert raw_server.sent < size // 4


def test_gzip_body_within_the_limit_is_read(scripted_server: ScriptedServer, no_env: None) -> None:
    """The control: a compressed body under the limit decodes as usual."""
    from ona_pats.types import GetPersonalAccessTokenResponse, PersonalAccessToken

    body = GetPersonalAccessTokenResponse(
        pat=PersonalAccessToken(id=USER_ID, description="zipped")
    ).SerializeToString()
    scripted_server.expect(
        "GetPersonalAccessToken",
        RawHTTP(
            200,
            gzip.compress(body),
            {"content-type": "application/proto", "content-encoding": "gzip"},
        ),
    )
    with Client(token=TOKEN, base_url=scripted_server.url) as client:
        assert client.users.pats.get(personal_access_token_id=USER_ID).description == "zipped"


@pytest.mark.parametrize("timeout", [float("inf"), float("nan"), -1.0, 1e300])
def test_unusable_timeouts_are_configuration_errors(timeout: float, no_env: None) -> None:
    """Before, ``Client(timeout=inf)`` crashed with OverflowError on the first call."""
    with pytest.raises(ConfigurationError, match="timeout"):
        Client(token=TOKEN, base_url="http://127.0.0.1:9", timeout=timeout)
    with pytest.raises(ConfigurationError, match="timeout"):
        AsyncClient(token=TOKEN, base_url="http://127.0.0.1:9", timeout=timeout)
