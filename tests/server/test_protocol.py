"""Any real Connect client works: both codecs, gzip, Connect GET, proper error bodies."""

from __future__ import annotations

import base64
import gzip
import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import anyio
import httpx
import pytest
from connectrpc.code import Code
from connectrpc.compression.gzip import GzipCompression
from connectrpc.errors import ConnectError

from ona_pats.rpc import UserServiceClientSync
from ona_pats.server import IssuedToken, Server, Store, create_app, seed_tokens
from ona_pats.types import (
    CreatePersonalAccessTokenRequest,
    DeletePersonalAccessTokenRequest,
    GetPersonalAccessTokenRequest,
    GetPersonalAccessTokenResponse,
    ListPersonalAccessTokensResponse,
)

from .conftest import CODECS, bearer, list_request

BASE = "/gitpod.v1.UserService"
RFC3339_Z = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z")


@pytest.mark.parametrize("gzip_requests", [True, False], ids=["gzip", "identity"])
def test_full_cycle_with_each_codec_and_compression(
    server: Server, alice: IssuedToken, codec_name: str, gzip_requests: bool
) -> None:
    compression = GzipCompression() if gzip_requests else None
    headers = bearer(alice.token)
    with UserServiceClientSync(
        server.base_url, codec=CODECS[codec_name], send_compression=compression
    ) as rpc:
        create = CreatePersonalAccessTokenRequest(user_id=alice.user_id, description="cycle")
        secret = rpc.create_personal_access_token(create, headers=headers).token
        listed = rpc.list_personal_access_tokens(list_request(), headers=headers)
        new = listed.personal_access_tokens[-1]
        assert new.description == "cycle"
        get = GetPersonalAccessTokenRequest(personal_access_token_id=new.id)
        got = rpc.get_personal_access_token(get, headers=bearer(secret)).pat
        assert got.last_used.ToNanoseconds() > 0  # the secret's own use
        got.ClearField("last_used")
        assert got == new
        delete = DeletePersonalAccessTokenRequest(personal_access_token_id=new.id)
        rpc.delete_personal_access_token(delete, headers=headers)
        with pytest.raises(ConnectError) as caught:
            rpc.get_personal_access_token(get, headers=headers)
    assert caught.value.code == Code.NOT_FOUND


@pytest.mark.parametrize("use_get", [True, False], ids=["get", "post"])
def test_connect_get_for_side_effect_free_methods(
    rpc: UserServiceClientSync, alice: IssuedToken, use_get: bool
) -> None:
    headers = bearer(alice.token)
    listed = rpc.list_personal_access_tokens(list_request(), headers=headers, use_get=use_get)
    assert [pat.id for pat in listed.personal_access_tokens] == [alice.id]
    get = GetPersonalAccessTokenRequest(personal_access_token_id=alice.id)
    assert rpc.get_personal_access_token(get, headers=headers, use_get=use_get).pat.id == alice.id


def test_raw_connect_get_with_base64_binary_message(http: httpx.Client, alice: IssuedToken) -> None:
    message = GetPersonalAccessTokenRequest(personal_access_token_id=alice.id).SerializeToString()
    query = urlencode(
        {
            "connect": "v1",
            "encoding": "proto",
            "base64": "1",
            "message": base64.urlsafe_b64encode(message).rstrip(b"=").decode(),
        }
    )
    response = http.get(f"{BASE}/GetPersonalAccessToken?{query}", headers=bearer(alice.token))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/proto"
    assert GetPersonalAccessTokenResponse.FromString(response.content).pat.id == alice.id


def test_connect_get_is_refused_for_mutations(http: httpx.Client, alice: IssuedToken) -> None:
    query = urlencode({"encoding": "json", "message": json.dumps({"userId": alice.user_id})})
    response = http.get(f"{BASE}/CreatePersonalAccessToken?{query}", headers=bearer(alice.token))
    assert response.status_code == 405


def test_plain_json_post_needs_no_optional_headers(http: httpx.Client, alice: IssuedToken) -> None:
    """No Connect-Protocol-Version, no Accept, no timeout: just a JSON POST with a bearer."""
    response = http.post(
        f"{BASE}/GetPersonalAccessToken",
        content=json.dumps({"personalAccessTokenId": alice.id}),
        headers={**bearer(alice.token), "content-type": "application/json"},
    )
    assert response.status_code == 200
    pat = response.json()["pat"]
    assert pat["id"] == alice.id
    assert pat["userId"] == alice.user_id
    assert pat["creator"] == {"id": alice.user_id, "principal": "PRINCIPAL_USER"}
    assert RFC3339_Z.fullmatch(pat["createdAt"])
    assert RFC3339_Z.fullmatch(pat["expiresAt"])


def test_json_requests_tolerate_unknown_fields(http: httpx.Client, alice: IssuedToken) -> None:
    body = {"personalAccessTokenId": alice.id, "someFutureField": {"nested": [1, 2]}}
    response = http.post(
        f"{BASE}/GetPersonalAccessToken",
        content=json.dumps(body),
        headers={**bearer(alice.token), "content-type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 200


def test_gzip_both_ways_over_raw_http(
    server: Server, http: httpx.Client, alice: IssuedToken
) -> None:
    seed_tokens(server.store, 60, user_ids=[alice.user_id])
    body = gzip.compress(list_request(page_size=50).SerializeToString())
    response = http.post(
        f"{BASE}/ListPersonalAccessTokens",
        content=body,
        headers={
            **bearer(alice.token),
            "content-type": "application/proto",
            "content-encoding": "gzip",
            "accept-encoding": "gzip",
        },
    )
    assert response.status_code == 200
    assert response.headers["content-encoding"] == "gzip"
    page = ListPersonalAccessTokensResponse.FromString(response.content)  # httpx gunzipped it
    assert len(page.personal_access_tokens) == 50


ERRORS = [
    pytest.param("", {}, 401, "unauthenticated", id="unauthenticated"),
    pytest.param("alice", {"personalAccessTokenId": "nope"}, 400, "invalid_argument", id="invalid"),
    pytest.param("alice", {"personalAccessTokenId": "RANDOM"}, 404, "not_found", id="not-found"),
]


@pytest.mark.parametrize(("who", "body", "status", "code"), ERRORS)
def test_error_bodies_follow_connect(
    http: httpx.Client,
    alice: IssuedToken,
    who: str,
    body: dict[str, str],
    status: int,
    code: str,
) -> None:
    if body.get("personalAccessTokenId") == "RANDOM":
        body = {"personalAccessTokenId": "3f0f3c1e-8d1c-4a37-9a53-2b1c2f0f9a11"}
    headers = {"content-type": "application/json", **(bearer(alice.token) if who else {})}
    response = http.post(
        f"{BASE}/GetPersonalAccessToken", content=json.dumps(body), headers=headers
    )
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    error = response.json()
    assert error["code"] == code
    assert isinstance(error["message"], str)
    assert alice.token not in response.text


def test_permission_denied_is_403(http: httpx.Client, alice: IssuedToken, bob: IssuedToken) -> None:
    response = http.post(
        f"{BASE}/ListPersonalAccessTokens",
        content=json.dumps({"filter": {"userIds": [bob.user_id]}}),
        headers={**bearer(alice.token), "content-type": "application/json"},
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        pytest.param("application/proto", b"\xff\xff\xff\xff", id="garbage-proto"),
        pytest.param("application/json", b"{not json", id="garbage-json"),
        pytest.param("application/json", b'{"validFor": "forever"}', id="bad-duration"),
        pytest.param("application/json", b'{"readOnly": "maybe"}', id="bad-bool"),
        pytest.param("application/json", b"\xff\xfe", id="invalid-utf8"),
    ],
)
def test_malformed_bodies_are_invalid_argument(
    http: httpx.Client, alice: IssuedToken, content_type: str, body: bytes
) -> None:
    response = http.post(
        f"{BASE}/CreatePersonalAccessToken",
        content=body,
        headers={**bearer(alice.token), "content-type": content_type},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_argument"


def test_unsupported_content_type_is_415(http: httpx.Client, alice: IssuedToken) -> None:
    response = http.post(
        f"{BASE}/ListPersonalAccessTokens",
        content=b"<xml/>",
        headers={**bearer(alice.token), "content-type": "application/xml"},
    )
    assert response.status_code == 415


def test_oversized_body_is_resource_exhausted(http: httpx.Client, alice: IssuedToken) -> None:
    body = json.dumps({"userId": alice.user_id, "description": "x" * 5_000_000})
    response = http.post(
        f"{BASE}/CreatePersonalAccessToken",
        content=body,
        headers={**bearer(alice.token), "content-type": "application/json"},
    )
    assert response.json()["code"] == "resource_exhausted"


def test_unknown_method_is_404(http: httpx.Client, alice: IssuedToken) -> None:
    response = http.post(
        f"{BASE}/GetAuthenticatedUser",
        content=b"{}",
        headers={**bearer(alice.token), "content-type": "application/json"},
    )
    assert response.status_code == 404


def test_every_response_carries_a_request_id(http: httpx.Client, alice: IssuedToken) -> None:
    ok = http.post(
        f"{BASE}/ListPersonalAccessTokens",
        content=b"{}",
        headers={**bearer(alice.token), "content-type": "application/json"},
    )
    denied = http.post(
        f"{BASE}/ListPersonalAccessTokens",
        content=b"{}",
        headers={"content-type": "application/json"},
    )
    unsupported = http.post(f"{BASE}/ListPersonalAccessTokens", content=b"")
    ids = {r.headers["x-request-id"] for r in (ok, denied, unsupported)}
    assert (ok.status_code, denied.status_code, unsupported.status_code) == (200, 401, 415)
    assert len(ids) == 3
    assert all(re.fullmatch(r"[0-9a-f]{32}", request_id) for request_id in ids)


async def _call_asgi(
    app: Callable[..., Awaitable[None]], token: str, extensions: dict[str, Any]
) -> list[dict[str, Any]]:
    """One gRPC ListPersonalAccessTokens call straight into ``app``: what it sent back."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "2",
        "method": "POST",
        "scheme": "http",
        "path": f"{BASE}/ListPersonalAccessTokens",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"content-type", b"application/grpc"),
            (b"te", b"trailers"),
            (b"authorization", f"Bearer {token}".encode()),
        ],
        "extensions": extensions,
    }
    request = [{"type": "http.request", "body": b"\x00\x00\x00\x00\x00", "more_body": False}]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if request:
            return request.pop()
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    await app(scope, receive, send)
    return sent


@pytest.mark.anyio
async def test_grpc_is_served_where_the_asgi_server_sends_trailers(tmp_path: Path) -> None:
    store = Store(tmp_path / "grpc.sqlite3")
    try:
        admin = store.bootstrap_admin()
        assert admin is not None
        sent = await _call_asgi(create_app(store), admin.token, {"http.response.trailers": {}})
    finally:
        store.close()
    start, trailers = sent[0], sent[-1]
    assert (start["status"], start["trailers"]) == (200, True)
    assert trailers["type"] == "http.response.trailers"
    assert (b"grpc-status", b"0") in trailers["headers"]


@pytest.mark.anyio
async def test_grpc_without_asgi_trailers_is_unimplemented_not_an_exception(
    tmp_path: Path,
) -> None:
    """connectrpc raises on gRPC when the ASGI server cannot send trailers (uvicorn's HTTP/1.1);
    the app answers a gRPC trailers-only ``unimplemented`` instead."""
    store = Store(tmp_path / "grpc.sqlite3")
    try:
        admin = store.bootstrap_admin()
        assert admin is not None
        sent = await _call_asgi(create_app(store), admin.token, {})
    finally:
        store.close()
    start, end = sent
    headers = dict(start["headers"])
    assert (start["status"], headers[b"grpc-status"]) == (200, b"12")
    assert headers[b"content-type"] == b"application/grpc"
    assert b"x-request-id" in headers
    assert end == {"type": "http.response.body", "body": b"", "more_body": False}


@pytest.mark.parametrize(
    "message",
    [
        pytest.param("!!!!", id="outside-the-alphabet"),
        pytest.param("abc*", id="one-bad-character"),
        pytest.param("a", id="impossible-length"),
        pytest.param("ab+/", id="standard-not-url-safe-alphabet"),
    ],
)
def test_connect_get_with_invalid_base64_is_invalid_argument(
    http: httpx.Client, alice: IssuedToken, message: str
) -> None:
    """Before, ``message=!!!!&base64=1`` read as an empty request and was answered 200."""
    query = urlencode({"encoding": "proto", "base64": "1", "message": message})
    response = http.get(f"{BASE}/ListPersonalAccessTokens?{query}", headers=bearer(alice.token))
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_argument"
