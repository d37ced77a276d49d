"""The ASGI application: the generated Connect app, our codecs, and the query-string seam."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

from connectrpc.codec import Codec
from connectrpc.compat import google_protobuf_binary_codec

from ona_pats._json import ProtoJSONCodec
from ona_pats._schema import user_connect

from ._service import QUERY_PARAMS, UserService
from ._store import Store

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
REQUEST_ID_HEADER = b"x-request-id"


def json_codec() -> Codec[Any, Any]:
    """The server's JSON codec: the project's own :class:`ona_pats._json.ProtoJSONCodec`.

    Compact, strict RFC 3339 and tolerant of unknown fields, so that the server and
    ``ona_pats.Client`` agree on every JSON detail.
    """
    return ProtoJSONCodec()


def create_app(store: Store) -> ASGIApp:
    """Build the ASGI application serving ``gitpod.v1.UserService`` from ``store``.

    It speaks Connect (and gRPC / gRPC-Web over HTTP/2 servers) with the binary and JSON
    codecs, gzip, and Connect GET for the side-effect-free methods. Mount it in any ASGI
    server; :class:`ona_pats.server.Server` runs it under uvicorn.

    Args:
        store: the token store the service reads and writes.

    Returns:
        An ASGI 3 application.
    """
    connect_app = user_connect.UserServiceASGIApplication(
        UserService(store), codecs=[google_protobuf_binary_codec(), json_codec()]
    )
    return _middleware(connect_app)


def _middleware(app: Any) -> ASGIApp:
    """Wrap the Connect app: the URL query parameters and a request id.

    Handlers read the query parameters through ``QUERY_PARAMS``; every response, errors
    included, carries an ``x-request-id`` for the client's ``APIError.request_id``.
    """

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        raw = scope.get("query_string", b"").decode("utf-8", "replace")
        reset = QUERY_PARAMS.set(parse_qs(raw, keep_blank_values=True))
        request_id = uuid.uuid4().hex.encode()

        async def send_with_id(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", ()), (REQUEST_ID_HEADER, request_id)]
                message = {**message, "headers": headers}
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            QUERY_PARAMS.reset(reset)

    return middleware
