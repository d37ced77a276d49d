"""A fault-injecting HTTP/1.1 proxy for the reliability tests.

The proxy listens on ``127.0.0.1`` port 0, forwards each request of a keep-alive client
connection to the upstream server over its own keep-alive connection, and, per request or at a
seeded rate, replaces what the client sees by a fault: a dropped connection (before the request
reaches the server, after it did, or half-way through the response), a 503 or 429 with
``Retry-After``, a delay past the caller's deadline, a truncated body, a wrong content type, an
HTML error page, an oversized body, garbage protobuf, invalid UTF-8 JSON, invalid RFC 3339
timestamps, or a repeated or forged pagination token.

It runs its own event loop in a daemon thread, so sync and async clients use it alike, and it
counts connections and the requests of each method, including how many reached the server.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import enum
import gzip
import json
import random
import re
import threading
from collections import Counter, deque
from collections.abc import Iterable
from types import TracebackType
from typing import Self
from urllib.parse import parse_qs, urlsplit

from ona_pats.types import ListPersonalAccessTokensRequest, ListPersonalAccessTokensResponse

_MAX_HEAD = 64 * 1024
_CHUNK = b"\x00" * (64 * 1024)


class Fault(enum.Enum):
    """What the proxy does instead of (or to) one exchange."""

    DROP_BEFORE_REQUEST = "drop-before-request"
    DROP_AFTER_FORWARD = "drop-after-forward"
    DROP_MID_RESPONSE = "drop-mid-response"
    UNAVAILABLE_503 = "503-retry-after"
    RATE_LIMITED_429 = "429-retry-after"
    DELAY = "delay"
    TRUNCATE = "truncate"
    WRONG_CONTENT_TYPE = "wrong-content-type"
    HTML_ERROR_PAGE = "html-error-page"
    OVERSIZED = "oversized"
    OVERSIZED_CHUNKED = "oversized-chunked"
    GARBAGE_PROTO = "garbage-proto"
    INVALID_UTF8_JSON = "invalid-utf8-json"
    BAD_TIMESTAMP = "bad-timestamp"
    REPEAT_PAGE_TOKEN = "repeat-page-token"
    FORGE_PAGE_TOKEN = "forge-page-token"
    CANNED = "canned"


#: Faults a well-behaved client recovers from on a method that is safe to retry.
TRANSIENT: tuple[Fault, ...] = (
    Fault.DROP_BEFORE_REQUEST,
    Fault.DROP_AFTER_FORWARD,
    Fault.DROP_MID_RESPONSE,
    Fault.UNAVAILABLE_503,
    Fault.RATE_LIMITED_429,
)

#: Faults that forward the request to the server before the client learns anything.
FORWARDING: frozenset[Fault] = frozenset(
    {
        Fault.DROP_AFTER_FORWARD,
        Fault.DROP_MID_RESPONSE,
        Fault.DELAY,
        Fault.TRUNCATE,
        Fault.WRONG_CONTENT_TYPE,
        Fault.BAD_TIMESTAMP,
        Fault.REPEAT_PAGE_TOKEN,
        Fault.FORGE_PAGE_TOKEN,
    }
)

BAD_TIMESTAMPS: tuple[str, ...] = (
    "2017-1-15T01:30:15Z",
    "2017-01-15T01:30:15.Z",
    "2017-01-15T01:30:15+24:00",
    "2017-02-30T01:30:15Z",
    "2017-01-15T01:30:15.1234567890Z",
    "2017-01-15 01:30:15Z",
    "10000-01-01T00:00:00Z",
    "not a timestamp",
)

_TIMESTAMP_FIELD = re.compile(
    rb'("(?:createdAt|expiresAt|lastUsed|created_at|expires_at|last_used)"\s*:\s*)"[^"]*"'
)


@dataclasses.dataclass(frozen=True)
class Response:
    """A canned HTTP response."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


@dataclasses.dataclass
class Exchange:
    """One request the proxy received, and what became of it."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    fault: Fault | None = None
    forwarded: bool = False
    status: int | None = None

    @property
    def rpc(self) -> str:
        """The RPC name, the last segment of the path (``ListPersonalAccessTokens``)."""
        return self.path.rsplit("/", 1)[-1]

    def message_bytes(self) -> tuple[bytes, str]:
        """The request message, decompressed, and its codec (``proto`` or ``json``)."""
        if self.method == "GET":  # https://connectrpc.com/docs/protocol/#unary-get-request
            params = {k: v[0] for k, v in parse_qs(self.query).items()}
            raw = params.get("message", "").encode()
            if params.get("base64") == "1":
                raw = base64.urlsafe_b64decode(raw + b"=" * (-len(raw) % 4))
            if params.get("compression") == "gzip":
                raw = gzip.decompress(raw)
            return raw, params.get("encoding", "proto")
        raw = self.body
        if self.headers.get("content-encoding") == "gzip":
            raw = gzip.decompress(raw)
        codec = "json" if "json" in self.headers.get("content-type", "") else "proto"
        return raw, codec

    def page_token(self) -> str:
        """The continuation token of a List request (URL query parameter or body)."""
        query = parse_qs(self.query)
        if self.method != "GET" and query.get("token"):
            return query["token"][0]
        raw, codec = self.message_bytes()
        if codec == "json":
            doc = json.loads(raw or b"{}")
            return str(doc.get("pagination", {}).get("token", ""))
        request = ListPersonalAccessTokensRequest()
        request.ParseFromString(raw)
        return request.pagination.token


@dataclasses.dataclass
class _Injection:
    fault: Fault
    rpc: str | None
    remaining: int
    response: Response | None


class FaultProxy:
    """A loopback HTTP/1.1 proxy that injects faults; use as a context manager.

    Args:
        upstream: the server's base URL, ``http://127.0.0.1:PORT``.
        delay: how long :attr:`Fault.DELAY` holds a request before forwarding it.
        oversized_bytes: the body size of :attr:`Fault.OVERSIZED`.
        retry_after: the ``Retry-After`` value of the 503 and 429 faults.
    """

    def __init__(
        self,
        upstream: str,
        *,
        delay: float = 30.0,
        oversized_bytes: int = 64 * 1024 * 1024,
        retry_after: str = "0",
    ) -> None:
        parts = urlsplit(upstream)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._prefix = parts.path.rstrip("/")
        self.delay = delay
        self.oversized_bytes = oversized_bytes
        self.retry_after = retry_after
        self._lock = threading.Lock()
        self._injections: deque[_Injection] = deque()
        self._rate = 0.0
        self._rate_kinds: tuple[Fault, ...] = ()
        self._rate_rpcs: frozenset[str] | None = None
        self._rng = random.Random(0)
        self.exchanges: list[Exchange] = []
        self.connections_accepted = 0
        self.connections_open = 0
        self.upstream_connections = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0

    # -- configuration, from any thread ------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL clients use instead of the upstream's."""
        return f"http://127.0.0.1:{self.port}{self._prefix}"

    def inject(
        self,
        fault: Fault,
        *,
        rpc: str | None = None,
        times: int = 1,
        response: Response | None = None,
    ) -> None:
        """Apply ``fault`` to the next ``times`` requests of ``rpc`` (any RPC when None)."""
        with self._lock:
            self._injections.append(_Injection(fault, rpc, times, response))

    def set_rate(
        self,
        rate: float,
        kinds: Iterable[Fault] = TRANSIENT,
        *,
        rpcs: Iterable[str] | None = None,
        seed: int = 0,
    ) -> None:
        """Apply one of ``kinds`` (seeded RNG) to the given ``rate`` of requests."""
        with self._lock:
            self._rate = rate
            self._rate_kinds = tuple(kinds)
            self._rate_rpcs = None if rpcs is None else frozenset(rpcs)
            self._rng = random.Random(seed)

    def clear(self) -> None:
        """Stop injecting faults (pending one-shot injections are dropped)."""
        with self._lock:
            self._injections.clear()
            self._rate = 0.0

    def count(self, rpc: str, *, forwarded: bool = False) -> int:
        """How many requests of ``rpc`` arrived (or, with ``forwarded``, reached the server)."""
        with self._lock:
            return sum(1 for e in self.exchanges if e.rpc == rpc and (e.forwarded or not forwarded))

    def faults(self) -> Counter[Fault]:
        """How many times each fault was applied."""
        with self._lock:
            return Counter(e.fault for e in self.exchanges if e.fault is not None)

    def _choose(self, exchange: Exchange) -> tuple[Fault | None, Response | None]:
        with self._lock:
            for injection in self._injections:
                if injection.rpc in (None, exchange.rpc):
                    injection.remaining -= 1
                    if injection.remaining <= 0:
                        self._injections.remove(injection)
                    return injection.fault, injection.response
            rpcs = self._rate_rpcs
            eligible = self._rate and (rpcs is None or exchange.rpc in rpcs)
            if eligible and self._rng.random() < self._rate:
                return self._rng.choice(self._rate_kinds), None
            return None, None

    # -- lifecycle ---------------------------------------------------------------------------

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Start listening on a free loopback port, in a background thread."""
        loop = asyncio.new_event_loop()
        self._loop = loop
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            server = loop.run_until_complete(
                asyncio.start_server(self._handle, "127.0.0.1", 0, limit=_MAX_HEAD, backlog=2048)
            )
            self._server = server
            self.port = server.sockets[0].getsockname()[1]
            ready.set()
            loop.run_forever()

        self._thread = threading.Thread(target=run, name="fault-proxy", daemon=True)
        self._thread.start()
        ready.wait(10)

    def stop(self) -> None:
        """Close every connection and stop the thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
        self._loop = self._thread = None

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    # -- the proxy ---------------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        with self._lock:
            self.connections_accepted += 1
            self.connections_open += 1
        upstream: _Upstream | None = None
        try:
            upstream = _Upstream(self)
            while await self._serve_one(reader, writer, upstream):
                pass
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        except asyncio.CancelledError:
            pass
        finally:
            if upstream is not None:
                upstream.close()
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            with self._lock:
                self.connections_open -= 1
            self._tasks.discard(task)

    async def _serve_one(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, upstream: _Upstream
    ) -> bool:
        """Proxy one request; False when the client connection must end."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return False
        request_line, headers = _parse_head(head)
        method, target, _version = request_line.split(" ", 2)
        body = await _read_body(reader, headers)
        path, _, query = target.partition("?")
        exchange = Exchange(method, path, query, headers, body)
        fault, canned = self._choose(exchange)
        exchange.fault = fault
        with self._lock:
            self.exchanges.append(exchange)
        if fault is Fault.DROP_BEFORE_REQUEST:
            writer.transport.abort()
            return False
        if fault is not None and fault not in FORWARDING:
            response = canned or self._fabricate(fault, exchange)
            exchange.status = response.status
            await _write_response(writer, response, oversized=self._oversized(fault))
            return "close" not in headers.get("connection", "")
        if fault is Fault.DELAY:
            await asyncio.sleep(self.delay)
        status, resp_headers, resp_body = await upstream.forward(head, headers, body)
        exchange.forwarded = True
        exchange.status = status
        if fault is Fault.DROP_AFTER_FORWARD:
            writer.transport.abort()
            return False
        response = _mutate(fault, exchange, Response(status, resp_headers, resp_body), self._rng)
        if fault is Fault.DROP_MID_RESPONSE:
            await _write_partial(writer, response)
            writer.transport.abort()
            return False
        await _write_response(writer, response)
        keep = "close" not in headers.get("connection", "")
        return keep and "close" not in dict(resp_headers).get("connection", "")

    def _oversized(self, fault: Fault) -> int | None:
        if fault is Fault.OVERSIZED:
            return self.oversized_bytes
        if fault is Fault.OVERSIZED_CHUNKED:
            return -self.oversized_bytes
        return None

    def _fabricate(self, fault: Fault, exchange: Exchange) -> Response:
        codec = exchange.message_bytes()[1] if exchange.body or exchange.query else "proto"
        ctype = f"application/{codec}"
        if fault is Fault.UNAVAILABLE_503:
            return _connect_error(503, "unavailable", self.retry_after)
        if fault is Fault.RATE_LIMITED_429:
            return _connect_error(429, "resource_exhausted", self.retry_after)
        if fault is Fault.HTML_ERROR_PAGE:
            page = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
            return Response(502, (("content-type", "text/html"),), page)
        if fault is Fault.GARBAGE_PROTO:
            garbage = self._rng.randbytes(self._rng.randint(1, 512))
            return Response(200, (("content-type", "application/proto"),), garbage)
        if fault is Fault.INVALID_UTF8_JSON:
            body = b'{"pat": {"id": "\xff\xfe\xc3\x28", "description": "\xed\xa0\x80"}}'
            return Response(200, (("content-type", "application/json"),), body)
        if fault in (Fault.OVERSIZED, Fault.OVERSIZED_CHUNKED):
            return Response(200, (("content-type", ctype),), b"")
        raise AssertionError(f"no response to fabricate for {fault}")


class _Upstream:
    """The proxy's keep-alive connection to the server, for one client connection."""

    def __init__(self, proxy: FaultProxy) -> None:
        self._proxy = proxy
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def forward(
        self, head: bytes, headers: dict[str, str], body: bytes
    ) -> tuple[int, tuple[tuple[str, str], ...], bytes]:
        for attempt in range(2):
            fresh = self._writer is None
            if fresh:
                host, port = self._proxy._upstream
                self._reader, self._writer = await asyncio.open_connection(host, port)
                with self._proxy._lock:
                    self._proxy.upstream_connections += 1
            assert self._reader is not None
            assert self._writer is not None
            try:
                self._writer.write(_request_head(head, headers, len(body)) + body)
                await self._writer.drain()
                status_head = await self._reader.readuntil(b"\r\n\r\n")
            except (ConnectionError, asyncio.IncompleteReadError):
                # A stale keep-alive connection the server closed while idle: reconnect once.
                self.close()
                if fresh or attempt:
                    raise
                continue
            status_line, resp_headers = _parse_head(status_head)
            resp_body = await _read_body(self._reader, resp_headers, response=True)
            if "close" in resp_headers.get("connection", ""):
                self.close()
            status = int(status_line.split(" ", 2)[1])
            return status, tuple(resp_headers.items()), resp_body
        raise ConnectionError("unreachable")

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


def _parse_head(head: bytes) -> tuple[str, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return lines[0], headers


def _request_head(head: bytes, headers: dict[str, str], length: int) -> bytes:
    request_line = head.split(b"\r\n", 1)[0]
    dropped = ("transfer-encoding", "content-length")
    kept = [f"{k}: {v}" for k, v in headers.items() if k not in dropped]
    kept.append(f"content-length: {length}")
    return request_line + b"\r\n" + "\r\n".join(kept).encode("latin-1") + b"\r\n\r\n"


async def _read_body(
    reader: asyncio.StreamReader, headers: dict[str, str], *, response: bool = False
) -> bytes:
    if "chunked" in headers.get("transfer-encoding", ""):
        parts: list[bytes] = []
        while True:
            size_line = await reader.readuntil(b"\r\n")
            size = int(size_line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":
                    pass  # trailers
                return b"".join(parts)
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
    if "content-length" in headers:
        return await reader.readexactly(int(headers["content-length"]))
    if response:
        return await reader.read()
    return b""


def _connect_error(status: int, code: str, retry_after: str) -> Response:
    # https://connectrpc.com/docs/protocol/#error-end-stream
    body = json.dumps({"code": code, "message": f"injected {status}"}).encode()
    headers = (("content-type", "application/json"), ("retry-after", retry_after))
    return Response(status, headers, body)


def _without(headers: Iterable[tuple[str, str]], *names: str) -> tuple[tuple[str, str], ...]:
    return tuple((k, v) for k, v in headers if k not in names)


def _plain_body(response: Response) -> tuple[bytes, tuple[tuple[str, str], ...]]:
    body = response.body
    if dict(response.headers).get("content-encoding") == "gzip":
        body = gzip.decompress(body)
    return body, _without(response.headers, "content-encoding")


def _mutate(
    fault: Fault | None, exchange: Exchange, response: Response, rng: random.Random
) -> Response:
    if fault is None or fault in (Fault.DELAY, Fault.DROP_MID_RESPONSE):
        return response
    body, headers = _plain_body(response)
    if fault is Fault.TRUNCATE:
        body = body[: len(body) // 2]
    elif fault is Fault.WRONG_CONTENT_TYPE:
        headers = (*_without(headers, "content-type"), ("content-type", "text/plain"))
    elif fault is Fault.BAD_TIMESTAMP:
        bad = rng.choice(BAD_TIMESTAMPS).encode()
        body = _TIMESTAMP_FIELD.sub(lambda m: m.group(1) + b'"' + bad + b'"', body)
    elif fault in (Fault.REPEAT_PAGE_TOKEN, Fault.FORGE_PAGE_TOKEN) and response.status == 200:
        forged = "Zm9yZ2VkLXRva2Vu" + rng.randbytes(6).hex()
        token = exchange.page_token() if fault is Fault.REPEAT_PAGE_TOKEN else forged
        body = _replace_next_token(body, dict(headers).get("content-type", ""), token)
    return Response(response.status, headers, body)


def _replace_next_token(body: bytes, content_type: str, token: str) -> bytes:
    if "json" in content_type:
        doc = json.loads(body)
        doc.setdefault("pagination", {})["nextToken"] = token
        return json.dumps(doc).encode()
    message = ListPersonalAccessTokensResponse()
    message.ParseFromString(body)
    message.pagination.next_token = token
    return message.SerializeToString()


def _status_head(status: int, headers: Iterable[tuple[str, str]], length: int | None) -> bytes:
    lines = [f"HTTP/1.1 {status} Status"]
    lines += [f"{k}: {v}" for k, v in headers if k not in ("content-length", "transfer-encoding")]
    lines.append("transfer-encoding: chunked" if length is None else f"content-length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def _write_response(
    writer: asyncio.StreamWriter, response: Response, *, oversized: int | None = None
) -> None:
    headers = _without(response.headers, "connection", "date", "server")
    if oversized is None:
        writer.write(_status_head(response.status, headers, len(response.body)) + response.body)
        await writer.drain()
        return
    # Oversized bodies are streamed from one shared block, so the proxy itself stays small
    # and a client's memory can be measured while it reads them.
    chunked = oversized < 0
    size = abs(oversized)
    writer.write(_status_head(response.status, headers, None if chunked else size))
    sent = 0
    while sent < size:
        block = _CHUNK[: min(len(_CHUNK), size - sent)]
        if chunked:
            writer.write(f"{len(block):x}\r\n".encode() + block + b"\r\n")
        else:
            writer.write(block)
        sent += len(block)
        await writer.drain()
    if chunked:
        writer.write(b"0\r\n\r\n")
    await writer.drain()


async def _write_partial(writer: asyncio.StreamWriter, response: Response) -> None:
    body = response.body
    headers = _without(response.headers, "connection", "date", "server")
    # Announce more than is sent, even for an empty body, so the response is really cut short.
    claimed = max(len(body), 2)
    writer.write(_status_head(response.status, headers, claimed) + body[: len(body) // 2])
    await writer.drain()
