"""The client end to end against the loopback server: CRUD in both protocols, sync and async,
headers, raw responses, Connect GET, interceptors, gzip, lifecycle."""

from __future__ import annotations

import gzip
from datetime import timedelta
from typing import Any

import pytest
from connectrpc.request import RequestContext

from ona_pats import AsyncClient, Client, RawResponse, RotationError, UnavailableError
from ona_pats.types import GetPersonalAccessTokenResponse, PersonalAccessToken

from .conftest import OTHER_USER_ID, TOKEN, USER_ID, RawHTTP, ScriptedServer


def test_sync_create_get_list_delete(client: Client, scripted_server: ScriptedServer) -> None:
    pats = client.users.pats
    secret = pats.create(
        user_id=USER_ID, description="ci", valid_for=timedelta(days=30), read_only=True
    )
    assert secret.startswith("secret-")
    (listed,) = list(pats.list(filter={"user_ids": [USER_ID]}, page_size=20))
    got = pats.get(personal_access_token_id=listed.id)
    assert isinstance(got, PersonalAccessToken)
    assert (got.description, got.read_only, got.user_id) == ("ci", True, USER_ID)
    assert got.expires_at.ToDatetime() - got.created_at.ToDatetime() == timedelta(days=30)
    pats.delete(personal_access_token_id=listed.id)
    assert list(pats.list()) == []


@pytest.mark.anyio
async def test_async_create_get_list_delete(
    async_client: AsyncClient, scripted_server: ScriptedServer
) -> None:
    pats = async_client.users.pats
    secret = await pats.create(user_id=USER_ID, description="ci", read_only=True)
    assert secret.startswith("secret-")
    listed = [p async for p in pats.list(filter={"user_ids": [USER_ID]})]
    got = await pats.get(personal_access_token_id=listed[0].id)
    assert got.read_only
    await pats.delete(personal_access_token_id=listed[0].id)
    assert [p async for p in pats.list()] == []


def test_sync_sends_bearer_token_and_content_type(
    client: Client, scripted_server: ScriptedServer
) -> None:
    client.users.pats.create(user_id=USER_ID)
    (request,) = scripted_server.requests
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"] == f"application/{client.protocol}"
    assert request.headers["connect-protocol-version"] == "1"


def test_sync_small_requests_are_not_gzipped(
    client: Client, scripted_server: ScriptedServer
) -> None:
    client.users.pats.create(user_id=USER_ID, description="d" * 200)
    (request,) = scripted_server.requests
    assert request.headers.get("content-encoding", "identity") == "identity"


def test_sync_default_headers_are_sent(scripted_server: ScriptedServer) -> None:
    with Client(
        token=TOKEN, base_url=scripted_server.url, default_headers={"X-Team": "platform"}
    ) as client:
        client.users.pats.create(user_id=USER_ID)
    assert scripted_server.requests[0].headers["x-team"] == "platform"


def test_sync_with_raw_response_exposes_headers(
    client: Client, scripted_server: ScriptedServer
) -> None:
    pat_id = scripted_server.add_pat()
    raw = client.users.pats.with_raw_response.get(personal_access_token_id=pat_id)
    assert isinstance(raw, RawResponse)
    assert raw.http_status == 200
    assert raw.headers["content-type"] == f"application/{client.protocol}"
    assert raw.parse().id == pat_id
    assert client.users.pats.with_raw_response.create(user_id=USER_ID).parse().startswith("secret")
    assert (
        client.users.pats.with_raw_response.delete(personal_access_token_id=pat_id).parse() is None
    )


@pytest.mark.anyio
async def test_async_with_raw_response_exposes_headers(
    async_client: AsyncClient, scripted_server: ScriptedServer
) -> None:
    pat_id = scripted_server.add_pat()
    raw = await async_client.users.pats.with_raw_response.get(personal_access_token_id=pat_id)
    assert raw.http_status == 200
    assert raw.parse().id == pat_id
    created = await async_client.users.pats.with_raw_response.create(user_id=USER_ID)
    assert created.parse().startswith("secret")
    deleted = await async_client.users.pats.with_raw_response.delete(
        personal_access_token_id=pat_id
    )
    assert deleted.http_status == 200


def test_sync_request_id_and_rate_limit_headers_reachable(
    scripted_server: ScriptedServer, no_env: None
) -> None:
    pat = PersonalAccessToken(id=USER_ID)
    body = GetPersonalAccessTokenResponse(pat=pat).SerializeToString()
    scripted_server.expect(
        "GetPersonalAccessToken",
        RawHTTP(
            200,
            body,
            {
                "content-type": "application/proto",
                "x-request-id": "req-123",
                "x-ratelimit-remaining": "41",
            },
        ),
    )
    with Client(token=TOKEN, base_url=scripted_server.url) as client:
        raw = client.users.pats.with_raw_response.get(personal_access_token_id=USER_ID)
    assert raw.request_id == "req-123"
    assert raw.headers["x-ratelimit-remaining"] == "41"


def test_sync_gzip_response_is_accepted(scripted_server: ScriptedServer, no_env: None) -> None:
    pat = PersonalAccessToken(id=USER_ID, description="zipped")
    body = gzip.compress(GetPersonalAccessTokenResponse(pat=pat).SerializeToString())
    scripted_server.expect(
        "GetPersonalAccessToken",
        RawHTTP(200, body, {"content-type": "application/proto", "content-encoding": "gzip"}),
    )
    with Client(token=TOKEN, base_url=scripted_server.url) as client:
        assert client.users.pats.get(personal_access_token_id=USER_ID).description == "zipped"


@pytest.mark.anyio
async def test_async_gzip_response_is_accepted(
    scripted_server: ScriptedServer, no_env: None
) -> None:
    pat = PersonalAccessToken(id=USER_ID, description="zipped")
    body = gzip.compress(GetPersonalAccessTokenResponse(pat=pat).SerializeToString())
    scripted_server.expect(
        "GetPersonalAccessToken",
        RawHTTP(200, body, {"content-type": "application/proto", "content-encoding": "gzip"}),
    )
    async with AsyncClient(token=TOKEN, base_url=scripted_server.url) as client:
        got = await client.users.pats.get(personal_access_token_id=USER_ID)
    assert got.description == "zipped"


def test_sync_use_get_sends_connect_get_for_no_side_effect_methods(
    scripted_server: ScriptedServer, protocol: str
) -> None:
    pat_id = scripted_server.add_pat()
    with Client(
        token=TOKEN,
        base_url=scripted_server.url,
        protocol=protocol,  # type: ignore[arg-type]
        use_get=True,
    ) as client:
        assert client.users.pats.get(personal_access_token_id=pat_id).id == pat_id
        assert len(list(client.users.pats.list())) == 1
        client.users.pats.delete(personal_access_token_id=pat_id)
    methods = {r.rpc: r.method for r in scripted_server.requests}
    assert methods == {
        "GetPersonalAccessToken": "GET",
        "ListPersonalAccessTokens": "GET",
        "DeletePersonalAccessToken": "POST",
    }
    assert "message=" in scripted_server.calls("GetPersonalAccessToken")[0].query


@pytest.mark.anyio
async def test_async_use_get_sends_connect_get(scripted_server: ScriptedServer) -> None:
    pat_id = scripted_server.add_pat()
    async with AsyncClient(token=TOKEN, base_url=scripted_server.url, use_get=True) as client:
        await client.users.pats.get(personal_access_token_id=pat_id)
    assert scripted_server.requests[0].method == "GET"


class _Recorder:
    def __init__(self) -> None:
        self.methods: list[str] = []

    def intercept_unary_sync(
        self, call_next: Any, request: Any, ctx: RequestContext[Any, Any]
    ) -> Any:
        self.methods.append(ctx.method.name)
        ctx.request_headers["x-intercepted"] = "yes"
        return call_next(request, ctx)

    async def intercept_unary(
        self, call_next: Any, request: Any, ctx: RequestContext[Any, Any]
    ) -> Any:
        self.methods.append(ctx.method.name)
        return await call_next(request, ctx)


def test_sync_interceptors_run(scripted_server: ScriptedServer) -> None:
    recorder = _Recorder()
    with Client(token=TOKEN, base_url=scripted_server.url, interceptors=[recorder]) as client:
        client.users.pats.create(user_id=USER_ID)
    assert recorder.methods == ["CreatePersonalAccessToken"]
    assert scripted_server.requests[0].headers["x-intercepted"] == "yes"


@pytest.mark.anyio
async def test_async_interceptors_run(scripted_server: ScriptedServer) -> None:
    recorder = _Recorder()
    async with AsyncClient(
        token=TOKEN, base_url=scripted_server.url, interceptors=[recorder]
    ) as client:
        await client.users.pats.create(user_id=USER_ID)
    assert recorder.methods == ["CreatePersonalAccessToken"]


def test_sync_connections_are_reused(client: Client, scripted_server: ScriptedServer) -> None:
    """Ten calls of one client go over kept-alive connections: one, or two when the second
    call starts before hyper has put the first connection back in the pool."""
    for _ in range(10):
        client.users.pats.create(user_id=USER_ID)
    assert len({r.peer for r in scripted_server.requests}) <= 2


@pytest.mark.anyio
async def test_async_connections_are_reused(
    async_client: AsyncClient, scripted_server: ScriptedServer
) -> None:
    for _ in range(10):
        await async_client.users.pats.create(user_id=USER_ID)
    assert len({r.peer for r in scripted_server.requests}) <= 2


def test_sync_client_is_a_context_manager_and_repr_has_no_token(
    scripted_server: ScriptedServer,
) -> None:
    with Client(token=TOKEN, base_url=scripted_server.url) as client:
        assert TOKEN not in repr(client)
        assert repr(client).startswith("Client(base_url=")
        assert client.timeout == 60.0
        assert client.max_retries == 2
        assert client.base_url == scripted_server.url


def test_sync_rotate_replaces_the_token(client: Client, scripted_server: ScriptedServer) -> None:
    old_id = scripted_server.add_pat(description="deploy", read_only=True)
    secret = client.users.pats.rotate(personal_access_token_id=old_id)
    assert secret.startswith("secret-")
    (new,) = list(client.users.pats.list())
    assert new.id != old_id
    assert (new.description, new.read_only, new.user_id) == ("deploy", True, USER_ID)


@pytest.mark.anyio
async def test_async_rotate_replaces_the_token(
    async_client: AsyncClient, scripted_server: ScriptedServer
) -> None:
    old_id = scripted_server.add_pat(description="deploy")
    secret = await async_client.users.pats.rotate(
        personal_access_token_id=old_id, valid_for=timedelta(days=7)
    )
    assert secret.startswith("secret-")
    assert old_id not in scripted_server.script.store


def test_sync_rotate_failed_delete_raises_rotation_error_with_new_secret(
    client: Client, scripted_server: ScriptedServer
) -> None:
    old_id = scripted_server.add_pat(user_id=OTHER_USER_ID)
    from connectrpc.code import Code
    from connectrpc.errors import ConnectError

    scripted_server.expect("DeletePersonalAccessToken", ConnectError(Code.UNAVAILABLE, "try later"))
    with pytest.raises(RotationError) as info:
        client.users.pats.rotate(personal_access_token_id=old_id)
    assert info.value.new_token.startswith("secret-")
    assert info.value.old_token_id == old_id
    assert isinstance(info.value.cause, UnavailableError)
    assert info.value.new_token not in str(info.value)
    assert info.value.new_token not in repr(info.value)
    assert old_id in scripted_server.script.store


@pytest.mark.anyio
async def test_async_rotate_failed_delete_raises_rotation_error(
    async_client: AsyncClient, scripted_server: ScriptedServer
) -> None:
    old_id = scripted_server.add_pat()
    from connectrpc.code import Code
    from connectrpc.errors import ConnectError

    scripted_server.expect("DeletePersonalAccessToken", ConnectError(Code.INTERNAL, "boom"))
    with pytest.raises(RotationError) as info:
        await async_client.users.pats.rotate(personal_access_token_id=old_id)
    assert info.value.new_token.startswith("secret-")


def test_sync_json_transport_tolerates_newer_servers(
    scripted_server: ScriptedServer, no_env: None
) -> None:
    """Unknown fields and an unknown enum name from a newer server do not break the client."""
    body = (
        b'{"pat": {"id": "' + USER_ID.encode() + b'", "description": "new", '
        b'"creator": {"id": "' + USER_ID.encode() + b'", "principal": "PRINCIPAL_ROBOT"}, '
        b'"createdAt": "2024-01-02T03:04:05.123Z", "shinyNewField": {"a": 1}}, "extra": true}'
    )
    scripted_server.expect(
        "GetPersonalAccessToken", RawHTTP(200, body, {"content-type": "application/json"})
    )
    with Client(token=TOKEN, base_url=scripted_server.url, protocol="json") as client:
        pat = client.users.pats.get(personal_access_token_id=USER_ID)
    assert pat.description == "new"
    assert pat.created_at.ToJsonString() == "2024-01-02T03:04:05.123Z"
