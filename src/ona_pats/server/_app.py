"""The ASGI application: the generated Connect app, our codecs, and the query-string seam."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import uuid
from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from typing import Any
from urllib.parse import parse_qs, quote

from connectrpc.codec import Codec
from connectrpc.compat import google_protobuf_binary_codec
from connectrpc.errors import ConnectError

from ona_pats._json import ProtoJSONCodec
from ona_pats._schema import user_connect

from ._service import AUTHENTICATED, QUERY_PARAMS, UserService, bearer_of
from ._store import Store, StoreError

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
REQUEST_ID_HEADER = b"x-request-id"
# gRPC content types as connectrpc tells them apart; gRPC-Web ("application/grpc-web...") carries
# its trailers in the body and needs nothing from the server:
# https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md#requests
_GRPC_CONTENT_TYPE = b"application/grpc"
_GRPC_CONTENT_TYPE_PREFIX = b"application/grpc+"
_TRAILERS_EXTENSION = "http.response.trailers"
_GRPC_UNIMPLEMENTED = b"12"  # https://grpc.github.io/grpc/core/md_doc_statuscodes.html
# Unpadded or padded URL-safe base64, whose length is not 1 modulo 4.
_URL_SAFE_BASE64 = re.compile(
    r"(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2}(?:==)?|[A-Za-z0-9_-]{3}=?)?"
)
_BAD_BASE64 = "message: not URL-safe base64 (base64=1)"
_DB_BUSY = "the token database is busy; retry"
_CONNECT_CONTENT_TYPES = frozenset({b"application/proto", b"application/json"})
_NO_TRAILERS_MESSAGE = (
    "gRPC needs HTTP response trailers, which this server does not send; use Connect or gRPC-Web"
)


def json_codec() -> Codec[Any, Any]:
    """The server's JSON codec: the project's own :class:`ona_pats._json.ProtoJSONCodec`.

    Compact, strict RFC 3339 and tolerant of unknown fields, so that the server and
    ``ona_pats.Client`` agree on every JSON detail.
    """
    return ProtoJSONCodec()


def create_app(store: Store) -> ASGIApp:
    """Build the ASGI application serving ``gitpod.v1.UserService`` from ``store``.

    It speaks Connect and gRPC-Web with the binary and JSON codecs, gzip, and Connect GET for
    the side-effect-free methods. gRPC proper needs response trailers: it is served only
    where the ASGI server offers the ``http.response.trailers`` extension (an HTTP/2
    server such as Hypercorn); elsewhere, as under the uvicorn HTTP/1.1 server that
    :class:`ona_pats.server.Server` runs, a gRPC request gets a trailers-only
    ``unimplemented`` answer. Mount it in any ASGI server.

    Args:
        store: the token store the service reads and writes.

    Returns:
        An ASGI 3 application.
    """
    connect_app = user_connect.UserServiceASGIApplication(
        UserService(store), codecs=[google_protobuf_binary_codec(), json_codec()]
    )
    return _middleware(connect_app, store)


def _middleware(app: Any, store: Store) -> ASGIApp:
    """Wrap the Connect app: the URL query parameters, a request id, whole responses.

    Handlers read the query parameters through ``QUERY_PARAMS``; every response, errors
    included, carries an ``x-request-id`` for the client's ``APIError.request_id``. A response
    sent in one body message (every unary one) gets a ``Content-Length``: connectrpc leaves it
    out, and a chunked body ends with a frame of its own, which keeps the client's HTTP/1.1
    connection busy after the client has the response (hyper's pool then opens a second
    connection for the next call). gRPC
    requests the server cannot answer (no response trailers) are refused here, as connectrpc
    would raise on them.
    """

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        raw = scope.get("query_string", b"").decode("utf-8", "replace")
        reset = QUERY_PARAMS.set(parse_qs(raw, keep_blank_values=True))
        request_id = uuid.uuid4().hex.encode()

        start: MutableMapping[str, Any] | None = None

        async def send_with_id(message: MutableMapping[str, Any]) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", ()), (REQUEST_ID_HEADER, request_id)]
                start = {**message, "headers": headers}
                return
            if start is not None:
                if message["type"] == "http.response.body" and not message.get("more_body"):
                    start["headers"] = _with_length(start["headers"], len(message["body"]))
                await send(start)
                start = None
            await send(message)

        caller_reset = None
        try:
            if _grpc_without_trailers(scope):
                await _refuse_grpc(send_with_id)
                return
            if scope["method"] == "GET" and not _get_message_decodes(QUERY_PARAMS.get()):
                await _connect_error(send_with_id, 400, "invalid_argument", _BAD_BASE64)
                return
            if _speaks_connect(scope):
                # Authenticate before a byte of the body is read: an anonymous client cannot
                # make the server read and parse megabytes.
                try:
                    caller = await asyncio.to_thread(store.authenticate, bearer_of(scope))
                except ConnectError as exc:  # no bearer at all
                    await _connect_error(send_with_id, 401, exc.code.value, exc.message)
                    return
                except StoreError as exc:
                    await _connect_error(send_with_id, 401, "unauthenticated", str(exc))
                    return
                except sqlite3.Error:
                    await _connect_error(send_with_id, 503, "unavailable", _DB_BUSY)
                    return
                caller_reset = AUTHENTICATED.set(caller)
            await app(scope, receive, send_with_id)
        finally:
            if caller_reset is not None:
                AUTHENTICATED.reset(caller_reset)
            QUERY_PARAMS.reset(reset)

    return middleware


def _with_length(headers: list[tuple[bytes, bytes]], length: int) -> list[tuple[bytes, bytes]]:
    if any(name.lower() == b"content-length" for name, _ in headers):
        return headers
    return [*headers, (b"content-length", str(length).encode())]


def _get_message_decodes(params: Mapping[str, Sequence[str]]) -> bool:
    """Whether a Connect GET's ``message`` is valid when it says it is base64.

    connectrpc decodes it with ``base64.urlsafe_b64decode``, which drops characters outside
    the alphabet, so ``message=!!!!&base64=1`` would read as an empty request:
    https://connectrpc.com/docs/protocol/#unary-get-request (unpadded URL-safe base64).
    """
    if params.get("base64", [""])[0] != "1":
        return True
    return all(_URL_SAFE_BASE64.fullmatch(message) for message in params.get("message", []))


async def _connect_error(send: Send, status: int, code: str, message: str) -> None:
    """A Connect unary error response: the HTTP status of the code, a JSON error body.

    https://connectrpc.com/docs/protocol/#error-end-stream
    """
    body = json.dumps({"code": code, "message": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _speaks_connect(scope: Scope) -> bool:
    """Whether the request is Connect unary (a GET, or a POST of proto or JSON): its errors
    are a plain JSON body. gRPC-Web carries errors in its body; connectrpc answers those."""
    if scope["method"] == "GET":
        return True
    content_type = next((v for k, v in scope["headers"] if k.lower() == b"content-type"), b"")
    return content_type.split(b";")[0].strip().lower() in _CONNECT_CONTENT_TYPES


def _grpc_without_trailers(scope: Scope) -> bool:
    """Whether this is a gRPC request on an ASGI server that cannot send response trailers."""
    if _TRAILERS_EXTENSION in (scope.get("extensions") or {}):
        return False
    content_type = next((v for k, v in scope["headers"] if k.lower() == b"content-type"), b"")
    return content_type == _GRPC_CONTENT_TYPE or content_type.startswith(_GRPC_CONTENT_TYPE_PREFIX)


async def _refuse_grpc(send: Send) -> None:
    """Answer ``unimplemented`` as a gRPC trailers-only response: HTTP 200, status in headers.

    A gRPC client reads this as a clean status; an HTTP 415 would reach it as ``unknown``.
    https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md#responses
    """
    headers = [
        (b"content-type", _GRPC_CONTENT_TYPE),
        (b"grpc-status", _GRPC_UNIMPLEMENTED),
        (b"grpc-message", quote(_NO_TRAILERS_MESSAGE).encode()),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"", "more_body": False})
