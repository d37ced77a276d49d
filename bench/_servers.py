"""The benchmark's servers, each in its own process: ``python -m bench._servers SPEC.json``.

Two kinds, each over plain HTTP or HTTPS on loopback, each with a second *warm-up* listener
(a floor server) on its own port, so that the clients' warm-up never leaves a pooled connection
to the measured port:

- ``floor``: a minimal asyncio HTTP/1.1 server answering pre-encoded Connect responses (binary or
  JSON, chosen by the request's content type), so the clients are measured against a server
  whose own cost is as small as Python allows;
- ``ona``: the embedded ona-pats server (its ASGI application and SQLite store) under uvicorn.

Connections are counted where the kernel hands them over: ``socket.socket.accept`` is wrapped in
this process (it only serves), counting by listening port. The floor also counts requests and
gzip-compressed request bodies.

The harness talks to this process in JSON lines: it reads ``{"event": "ready", ...}``, then
sends ``{"cmd": "stats"}`` (answered with the counters) and finally ``{"cmd": "quit"}``.
"""

from __future__ import annotations

import asyncio
import collections
import gzip
import json
import socket
import ssl
import sys
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from google.protobuf import json_format

from ona_pats._schema import user_pb2

CONNECTIONS: collections.Counter[int] = collections.Counter()
REQUESTS: collections.Counter[int] = collections.Counter()
GZIP_REQUESTS: collections.Counter[int] = collections.Counter()

_accept = socket.socket.accept


def _counting_accept(self: socket.socket) -> tuple[socket.socket, Any]:
    conn = _accept(self)
    CONNECTIONS[self.getsockname()[1]] += 1
    return conn


socket.socket.accept = _counting_accept  # type: ignore[method-assign]

_PROTO = "application/proto"
_JSON = "application/json"


def _response(status: int, content_type: str, body: bytes) -> bytes:
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found"}.get(status, "Error")
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        f"content-type: {content_type}\r\ncontent-length: {len(body)}\r\n\r\n"
    )
    return head.encode("ascii") + body


def _error(status: int, code: str, message: str) -> bytes:
    return _response(status, _JSON, json.dumps({"code": code, "message": message}).encode())


class FloorData:
    """Every response the floor can give, encoded once (pages lazily, then cached)."""

    def __init__(self, tokens: list[Any]) -> None:
        self.tokens = tokens
        self.gets: dict[str, tuple[bytes, bytes]] = {}
        for pat in tokens:
            res = user_pb2.GetPersonalAccessTokenResponse(pat=pat)
            self.gets[pat.id] = (
                _response(200, _PROTO, res.SerializeToString()),
                _response(200, _JSON, _to_json(res)),
            )
        self.pages: dict[tuple[int, int, bool], bytes] = {}

    def page(self, offset: int, size: int, as_json: bool) -> bytes:
        key = (offset, size, as_json)
        cached = self.pages.get(key)
        if cached is None:
            res = user_pb2.ListPersonalAccessTokensResponse(
                personal_access_tokens=self.tokens[offset : offset + size]
            )
            if offset + size < len(self.tokens):
                res.pagination.next_token = f"o{offset + size}"
            body = _to_json(res) if as_json else res.SerializeToString()
            cached = self.pages[key] = _response(200, _JSON if as_json else _PROTO, body)
        return cached


def _to_json(msg: Any) -> bytes:
    return json.dumps(json_format.MessageToDict(msg), separators=(",", ":")).encode()


def _list_params(body: bytes, as_json: bool, query: str) -> tuple[str, int]:
    if as_json:
        pagination = json.loads(body or b"{}").get("pagination") or {}
        token, size = pagination.get("token", ""), int(pagination.get("pageSize", 0))
    else:
        req = user_pb2.ListPersonalAccessTokensRequest.FromString(body)
        token, size = req.pagination.token, req.pagination.page_size
    params = parse_qs(query)
    token = params.get("token", [token])[0]
    size = int(params.get("pageSize", params.get("page_size", [size]))[0])
    return token, size or 25


def _get_id(body: bytes, as_json: bool) -> str:
    if as_json:
        raw = json.loads(body or b"{}")
        return str(raw.get("personalAccessTokenId", raw.get("personal_access_token_id", "")))
    return user_pb2.GetPersonalAccessTokenRequest.FromString(body).personal_access_token_id


class FloorApp:
    """Connect unary over HTTP/1.1 for List and Get, from :class:`FloorData`."""

    def __init__(self, data: FloorData) -> None:
        self.data = data

    def __call__(self, target: str, headers: dict[str, str], body: bytes) -> bytes:
        path, _, query = target.partition("?")
        if headers.get("content-encoding", "identity") == "gzip":
            body = gzip.decompress(body)
        as_json = headers.get("content-type", _PROTO).startswith(_JSON)
        if path.endswith("/GetPersonalAccessToken"):
            encoded = self.data.gets.get(_get_id(body, as_json))
            if encoded is None:
                return _error(404, "not_found", "personal access token not found")
            return encoded[as_json]
        if path.endswith("/ListPersonalAccessTokens"):
            token, size = _list_params(body, as_json, query)
            offset = int(token[1:]) if token.startswith("o") else 0
            return self.data.page(offset, min(size, 100), as_json)
        return _error(404, "unimplemented", f"no such method: {path}")


class FloorProtocol(asyncio.Protocol):
    """Just enough HTTP/1.1: keep-alive, Content-Length or chunked bodies, Connection: close."""

    def __init__(self, app: FloorApp) -> None:
        self.app = app
        self.buf = bytearray()
        self.port = 0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.port = transport.get_extra_info("sockname")[1]

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while self.transport is not None and self._one_request():
            pass

    def _one_request(self) -> bool:
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return False
        lines = bytes(self.buf[:end]).decode("latin-1").split("\r\n")
        _method, target, _version = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        parsed = _body(self.buf, end + 4, headers)
        if parsed is None:
            return False
        body, consumed = parsed
        del self.buf[:consumed]
        REQUESTS[self.port] += 1
        if headers.get("content-encoding") == "gzip":
            GZIP_REQUESTS[self.port] += 1
        assert self.transport is not None
        self.transport.write(self.app(target, headers, body))
        if headers.get("connection", "").lower() == "close":
            self.transport.close()
            self.transport = None
        return True

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


def _body(buf: bytearray, start: int, headers: dict[str, str]) -> tuple[bytes, int] | None:
    if "chunked" not in headers.get("transfer-encoding", ""):
        end = start + int(headers.get("content-length", "0"))
        return (bytes(buf[start:end]), end) if len(buf) >= end else None
    chunks, pos = [], start
    while True:
        line_end = buf.find(b"\r\n", pos)
        if line_end < 0:
            return None
        size = int(bytes(buf[pos:line_end]).split(b";")[0], 16)
        if len(buf) < line_end + 2 + size + 2:
            return None
        chunks.append(bytes(buf[line_end + 2 : line_end + 2 + size]))
        pos = line_end + 2 + size + 2
        if size == 0:
            return b"".join(chunks), pos


def _listen() -> socket.socket:
    # proto must say TCP: asyncio only sets TCP_NODELAY on sockets whose proto is IPPROTO_TCP,
    # and uvicorn's chunked responses (head, chunk, end: three writes) stall ~40 ms per call
    # on delayed ACKs without it.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    sock.setblocking(False)
    return sock


def _server_tls(spec: dict[str, Any]) -> ssl.SSLContext | None:
    if spec["scheme"] != "https":
        return None
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(spec["certfile"], spec["keyfile"])
    return ctx


async def _start_floor(app: FloorApp, tls: ssl.SSLContext | None) -> tuple[asyncio.Server, int]:
    sock = _listen()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: FloorProtocol(app), sock=sock, ssl=tls)
    return server, sock.getsockname()[1]


def _load_tokens(path: str) -> list[Any]:
    with open(path, "rb") as f:
        return list(
            user_pb2.ListPersonalAccessTokensResponse.FromString(f.read()).personal_access_tokens
        )


def _url(spec: dict[str, Any], port: int) -> str:
    return f"{spec['scheme']}://127.0.0.1:{port}"


def _counting(app: Any) -> Any:
    """Count requests and gzip-compressed request bodies, as the floor does."""

    async def middleware(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            port = scope["server"][1]
            REQUESTS[port] += 1
            if (b"content-encoding", b"gzip") in scope["headers"]:
                GZIP_REQUESTS[port] += 1
        await app(scope, receive, send)

    return middleware


async def _serve_ona(spec: dict[str, Any], stop: asyncio.Event) -> tuple[Any, int]:
    """The embedded server's ASGI app and store, as ``ona_pats.server.Server`` runs them (the
    same harness and uvicorn options), on a socket we count."""
    from ona_pats.server._app import create_app
    from ona_pats.server._loopback import ServerThread
    from ona_pats.server._server import EMBEDDED_OPTIONS
    from ona_pats.server._store import Store

    store = Store(spec["db"])
    sock = _listen()
    tls: dict[str, Any] = {}
    if spec["scheme"] == "https":
        tls = {"ssl_certfile": spec["certfile"], "ssl_keyfile": spec["keyfile"]}
    app = _counting(create_app(store))
    server = ServerThread(
        app, sock, name="bench-ona", log_level="warning", **EMBEDDED_OPTIONS, **tls
    )
    server.start()

    async def run() -> None:
        await stop.wait()
        await asyncio.to_thread(server.stop)
        store.close()

    return run(), sock.getsockname()[1]


async def main_async(spec: dict[str, Any], announce: Callable[[dict[str, Any]], None]) -> None:
    tls = _server_tls(spec)
    app = FloorApp(FloorData(_load_tokens(spec["tokens_file"])))
    stop = asyncio.Event()
    warm_server, warm_port = await _start_floor(app, tls)
    if spec["kind"] == "floor":
        server, port = await _start_floor(app, tls)
        runner: Any = stop.wait()
    else:
        runner, port = await _serve_ona(spec, stop)
    loop = asyncio.get_running_loop()
    threading.Thread(target=_commands, args=(loop, stop, port), daemon=True).start()
    announce({"event": "ready", "url": _url(spec, port), "warm_url": _url(spec, warm_port)})
    await runner
    warm_server.close()
    if spec["kind"] == "floor":
        server.close()


def _commands(loop: asyncio.AbstractEventLoop, stop: asyncio.Event, port: int) -> None:
    for line in sys.stdin:
        cmd = json.loads(line)["cmd"]
        if cmd == "stats":
            stats = {
                "connections": CONNECTIONS[port],
                "requests": REQUESTS[port],
                "gzip_requests": GZIP_REQUESTS[port],
            }
            print(json.dumps(stats), flush=True)
        elif cmd == "quit":
            break
    loop.call_soon_threadsafe(stop.set)


def main() -> None:
    with open(sys.argv[1]) as f:
        spec = json.load(f)

    def announce(event: dict[str, Any]) -> None:
        print(json.dumps(event), flush=True)

    asyncio.run(main_async(spec, announce))


if __name__ == "__main__":
    main()
