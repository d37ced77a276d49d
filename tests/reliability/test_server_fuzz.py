"""Random and malformed requests never make the embedded server fail internally.

Whatever arrives (random bytes or JSON under any content type, mutated valid requests, bad
compression, hostile query parameters, bad or missing credentials, Connect GET with garbage),
the answer is a client-class Connect error (``invalid_argument``, ``not_found``,
``unauthenticated``...) or a plain 4xx, never ``internal``/``unknown``/``unavailable`` or a
5xx, the server logs no error, and it keeps serving.
"""

from __future__ import annotations

import base64
import gzip
import json
import logging
from collections.abc import Iterator
from typing import Any, cast

import httpx
import pytest
from google.protobuf.descriptor import Descriptor
from google.protobuf.message import Message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ona_pats import to_dict
from ona_pats.server import Server
from ona_pats.types import (
    CreatePersonalAccessTokenRequest,
    DeletePersonalAccessTokenRequest,
    GetPersonalAccessTokenRequest,
    ListPersonalAccessTokensRequest,
    ListPersonalAccessTokensResponse,
)

from ._messages import JSON_VALUES, TEXT, messages
from ._settings import HYPOTHESIS_EXAMPLES
from ._support import Hidden

_SERVICE = "/gitpod.v1.UserService/"
_REQUESTS: dict[str, type[Message]] = {
    "CreatePersonalAccessToken": CreatePersonalAccessTokenRequest,
    "GetPersonalAccessToken": GetPersonalAccessTokenRequest,
    "ListPersonalAccessTokens": ListPersonalAccessTokensRequest,
    "DeletePersonalAccessToken": DeletePersonalAccessTokenRequest,
}
#: Codes that blame the server rather than the request.
_SERVER_FAULT_CODES = {"internal", "unknown", "data_loss", "unavailable"}


class _ErrorLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="module")
def raw(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        yield client


@pytest.fixture(scope="module")
def hidden_token(admin_token: str) -> Hidden:
    return Hidden(admin_token)


@pytest.fixture(scope="module")
def error_log() -> Iterator[_ErrorLog]:
    handler = _ErrorLog()
    logging.getLogger().addHandler(handler)
    yield handler
    logging.getLogger().removeHandler(handler)


@st.composite
def _bodies(draw: st.DrawFn, rpc: str, codec: str) -> bytes:
    """A random body, random JSON, or a generated request of the right type (valid or not)."""
    kind = draw(st.sampled_from(["bytes", "json", "message", "message-json-mutated"]))
    if kind == "bytes":
        return draw(st.binary(max_size=300))
    if kind == "json":
        return json.dumps(draw(JSON_VALUES)).encode()
    cls = _REQUESTS.get(rpc, ListPersonalAccessTokensRequest)
    message = draw(messages(cast(Descriptor, cls.DESCRIPTOR)))
    if kind == "message" and codec == "proto":
        return message.SerializeToString()
    doc = to_dict(message)
    if kind == "message-json-mutated" and isinstance(doc, dict) and doc:
        doc[draw(st.sampled_from(sorted(doc)))] = draw(JSON_VALUES)
    return json.dumps(doc).encode()


@st.composite
def _requests(draw: st.DrawFn, token: str) -> dict[str, Any]:
    rpc = draw(st.sampled_from([*_REQUESTS, "NoSuchMethod"]))
    codec = draw(st.sampled_from(["proto", "json"]))
    body = draw(_bodies(rpc, codec))
    headers: dict[str, str] = {}
    content_type = draw(
        st.sampled_from(
            [
                f"application/{codec}",
                f"application/{codec}",
                "application/json; charset=utf-8",
                "text/plain",
                "",
                "application/grpc",
                "application/grpc-web+proto",
                "application/x-www-form-urlencoded",
            ]
        )
    )
    if content_type:
        headers["content-type"] = content_type
    auth = draw(st.sampled_from(["valid", "valid", "valid", "none", "garbage", "lowercase"]))
    if auth == "valid":
        headers["authorization"] = f"Bearer {token}"
    elif auth == "garbage":
        # A field value has no leading or trailing whitespace (RFC 9110, section 5.5): httpx
        # refuses to send one, so such a draw would test the client, never the server.
        garbage = TEXT.filter(str.isascii).filter(str.isprintable)
        headers["authorization"] = draw(garbage.filter(lambda value: value == value.strip()))
    elif auth == "lowercase":
        headers["authorization"] = f"bearer {token[:-1]}"
    if draw(st.booleans()):
        headers["connect-protocol-version"] = "1"
    if draw(st.integers(0, 5)) == 0:
        headers["connect-timeout-ms"] = draw(st.sampled_from(["0", "-1", "abc", "99999999999"]))
    compression = draw(st.sampled_from([None, None, "gzip", "gzip-garbage", "br", "bogus"]))
    if compression == "gzip":
        body, headers["content-encoding"] = gzip.compress(body), "gzip"
    elif compression is not None:
        headers["content-encoding"] = compression.removesuffix("-garbage")
    params = draw(
        st.dictionaries(
            st.sampled_from(["token", "pageSize", "message", "encoding", "base64", "connect"]),
            st.one_of(TEXT, st.integers(-(2**40), 2**40).map(str)),
            max_size=3,
        )
    )
    method = "POST"
    if rpc in ("GetPersonalAccessToken", "ListPersonalAccessTokens") and draw(st.booleans()):
        method = "GET"  # https://connectrpc.com/docs/protocol/#unary-get-request
        params.setdefault("message", base64.urlsafe_b64encode(body).decode().rstrip("="))
        params.setdefault("encoding", codec)
        params.setdefault("base64", "1")
        body = b""
    return {
        "method": method,
        "url": _SERVICE + rpc,
        "content": body,
        "headers": headers,
        "params": params,
    }


_PREVIOUS: list[str] = []


def _summary(request: dict[str, Any]) -> str:
    headers = {k: v for k, v in request["headers"].items() if k != "authorization"}
    return f"{request['method']} {request['url']} {headers} {request['content'][:40]!r}"


def _code(response: httpx.Response) -> str | None:
    if "json" not in response.headers.get("content-type", ""):
        return None
    try:
        doc = json.loads(response.content)
    except ValueError:
        return None
    return doc.get("code") if isinstance(doc, dict) else None


@settings(
    max_examples=HYPOTHESIS_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_malformed_requests_get_client_errors_never_internal_ones(
    raw: httpx.Client, hidden_token: Hidden, error_log: _ErrorLog, data: st.DataObject
) -> None:
    request = data.draw(_requests(hidden_token.value))
    try:
        response = raw.request(**request)
    except httpx.TransportError as exc:
        # The server dropped a kept-alive connection: usually the previous request's fault.
        previous = _PREVIOUS[0] if _PREVIOUS else None
        raise AssertionError(f"connection failed ({exc!r}); previous request: {previous}") from exc
    finally:
        _PREVIOUS[:] = [_summary(request)]
    code = _code(response)
    assert response.status_code < 500 or response.status_code in (501, 504), (
        response.status_code,
        response.content[:200],
    )
    assert code not in _SERVER_FAULT_CODES, response.content[:200]
    assert not error_log.records, [r.getMessage() for r in error_log.records]


def test_server_still_serves_after_the_fuzz(raw: httpx.Client, hidden_token: Hidden) -> None:
    response = raw.post(
        _SERVICE + "ListPersonalAccessTokens",
        content=b"{}",
        headers={
            "content-type": "application/json",
            "authorization": f"Bearer {hidden_token.value}",
        },
    )
    assert response.status_code == 200
    assert "personalAccessTokens" in response.json()


@pytest.mark.parametrize(
    "content_type", ["application/grpc", "application/grpc+proto", "application/grpc+json"]
)
def test_grpc_content_types_over_http1_are_refused_not_crashed(
    raw: httpx.Client, hidden_token: Hidden, error_log: _ErrorLog, content_type: str
) -> None:
    """uvicorn speaks HTTP/1.1 without response trailers, so gRPC cannot be served; a gRPC
    request gets a trailers-only ``unimplemented``, not an exception in the ASGI app and a
    reset of the kept-alive connection."""
    error_log.records.clear()
    response = raw.post(
        _SERVICE + "ListPersonalAccessTokens",
        content=b"\x00\x00\x00\x00\x00",
        headers={"content-type": content_type, "authorization": f"Bearer {hidden_token.value}"},
    )
    assert response.status_code == 200, response.headers  # gRPC statuses ride on HTTP 200
    assert response.headers.get("grpc-status") == "12", response.headers  # unimplemented
    assert response.headers["content-type"] == "application/grpc"
    assert response.headers.get("x-request-id")
    assert response.content == b""
    assert not error_log.records, [r.getMessage() for r in error_log.records]


def _grpc_web_frames(body: bytes) -> list[tuple[int, bytes]]:
    """Split a gRPC-Web body into (flags, payload) frames."""
    frames = []
    while body:
        flags, size = body[0], int.from_bytes(body[1:5], "big")
        frames.append((flags, body[5 : 5 + size]))
        body = body[5 + size :]
    return frames


@pytest.mark.parametrize("codec", ["proto", "json"])
def test_grpc_web_over_http1_is_served(
    raw: httpx.Client, hidden_token: Hidden, error_log: _ErrorLog, codec: str
) -> None:
    """gRPC-Web carries its trailers in the body, so it needs nothing uvicorn lacks."""
    error_log.records.clear()
    message = b"" if codec == "proto" else b"{}"
    response = raw.post(
        _SERVICE + "ListPersonalAccessTokens",
        content=b"\x00" + len(message).to_bytes(4, "big") + message,
        headers={
            "content-type": f"application/grpc-web+{codec}",
            "authorization": f"Bearer {hidden_token.value}",
        },
    )
    assert response.status_code == 200, response.headers
    assert "grpc-status" not in response.headers, response.headers
    (data_flags, data), (trailer_flags, trailers) = _grpc_web_frames(response.content)
    assert (data_flags, trailer_flags) == (0x00, 0x80)  # a message, then the trailers
    fields = dict(line.split(":", 1) for line in trailers.decode().split("\r\n") if line)
    assert fields["grpc-status"].strip() == "0", fields
    if codec == "proto":
        assert ListPersonalAccessTokensResponse.FromString(data).personal_access_tokens
    else:
        assert json.loads(data)["personalAccessTokens"]
    assert not error_log.records, [r.getMessage() for r in error_log.records]
