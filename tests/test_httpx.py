"""Point 2, a caller's httpx client: through the adapter to the loopback server, with
``httpx.MockTransport``, event hooks, gzip, timeouts and the read limit."""

from __future__ import annotations

import gzip

import httpx
import pytest

from ona_pats import (
    AsyncClient,
    Client,
    DeadlineExceededError,
    InvalidResponseError,
    NotFoundError,
    UnavailableError,
)
from ona_pats.types import GetPersonalAccessTokenResponse, PersonalAccessToken

from .conftest import MISSING_ID, TOKEN, USER_ID, RawHTTP, ScriptedServer


def test_sync_httpx_client_round_trip(scripted_server: ScriptedServer, protocol: str) -> None:
    seen: list[str] = []
    with (
        httpx.Client(event_hooks={"request": [lambda r: seen.append(r.url.path)]}) as http,
        Client(
            token=TOKEN,
            base_url=scripted_server.url,
            protocol=protocol,  # type: ignore[arg-type]
            http_client=http,
        ) as client,
    ):
        client.users.pats.create(user_id=USER_ID, description="via httpx")
        (pat,) = list(client.users.pats.list())
        assert client.users.pats.get(personal_access_token_id=pat.id).description == "via httpx"
        with pytest.raises(NotFoundError):
            client.users.pats.get(personal_access_token_id=MISSING_ID)
    assert seen[0] == "/gitpod.v1.UserService/CreatePersonalAccessToken"
    assert scripted_server.requests[0].headers["authorization"] == f"Bearer {TOKEN}"


@pytest.mark.anyio
async def test_async_httpx_client_round_trip(
    scripted_server: ScriptedServer, protocol: str
) -> None:
    async with (
        httpx.AsyncClient() as http,
        AsyncClient(
            token=TOKEN,
            base_url=scripted_server.url,
            protocol=protocol,  # type: ignore[arg-type]
            http_client=http,
        ) as client,
    ):
        await client.users.pats.create(user_id=USER_ID)
        assert len([p async for p in client.users.pats.list()]) == 1
        with pytest.raises(NotFoundError):
            await client.users.pats.get(personal_access_token_id=MISSING_ID)


def _get_body(description: str) -> bytes:
    return GetPersonalAccessTokenResponse(
        pat=PersonalAccessToken(id=USER_ID, description=description)
    ).SerializeToString()


def test_sync_httpx_mock_transport() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        return httpx.Response(
            200,
            content=gzip.compress(_get_body("mocked")),
            headers={"content-type": "application/proto", "content-encoding": "gzip"},
        )

    with (
        httpx.Client(transport=httpx.MockTransport(handler)) as http,
        Client(token=TOKEN, base_url="https://api.test", http_client=http) as client,
    ):
        assert client.users.pats.get(personal_access_token_id=USER_ID).description == "mocked"


@pytest.mark.anyio
async def test_async_httpx_mock_transport() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, content=b"<html/>", headers={"content-type": "text/html"})

    sleeps: list[float] = []

    async def sleep(delay: float) -> None:
        sleeps.append(delay)

    async with (
        httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http,
        AsyncClient(token=TOKEN, base_url="https://api.test", http_client=http, sleep=sleep) as c,
    ):
        with pytest.raises(InvalidResponseError) as info:
            await c.users.pats.get(personal_access_token_id=USER_ID)
    assert info.value.http_status == 503
    assert len(sleeps) == 2  # a proxy's 503 is retried like unavailable


def test_sync_httpx_read_limit_bounds_the_body() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, content=_get_body("x" * 10_000), headers={"content-type": "application/proto"}
        )

    with (
        httpx.Client(transport=httpx.MockTransport(handler)) as http,
        Client(token=TOKEN, base_url="https://api.test", http_client=http, read_max_bytes=512) as c,
        pytest.raises(InvalidResponseError, match="read limit") as info,
    ):
        c.users.pats.get(personal_access_token_id=USER_ID)
    assert info.value.http_status == 200


def test_sync_httpx_connection_error_is_unavailable_and_retried_even_for_create() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        raise httpx.ConnectError("refused", request=request)

    with (
        httpx.Client(transport=httpx.MockTransport(handler)) as http,
        Client(
            token=TOKEN, base_url="https://api.test", http_client=http, sleep=lambda _: None
        ) as client,
        pytest.raises(UnavailableError),
    ):
        client.users.pats.create(user_id=USER_ID)
    assert len(calls) == 3


def test_sync_httpx_read_error_on_create_is_not_retried() -> None:
    """A failure after the request may have been sent is never retried for Create."""
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        raise httpx.ReadError("reset", request=request)

    with (
        httpx.Client(transport=httpx.MockTransport(handler)) as http,
        Client(
            token=TOKEN, base_url="https://api.test", http_client=http, sleep=lambda _: None
        ) as client,
        pytest.raises(UnavailableError),
    ):
        client.users.pats.create(user_id=USER_ID)
    assert len(calls) == 1


def test_sync_httpx_timeout_is_deadline_exceeded(scripted_server: ScriptedServer) -> None:
    scripted_server.expect(
        "CreatePersonalAccessToken", RawHTTP(200, b"", {"content-type": "application/proto"}, 2.0)
    )
    with (
        httpx.Client() as http,
        Client(token=TOKEN, base_url=scripted_server.url, http_client=http, timeout=0.3) as c,
        pytest.raises(DeadlineExceededError),
    ):
        c.users.pats.create(user_id=USER_ID)


def test_sync_httpx_redirect_to_other_origin_not_followed(
    scripted_server: ScriptedServer,
) -> None:
    """Even with follow_redirects=True on the caller's client, the adapter never follows."""
    scripted_server.expect(
        "GetPersonalAccessToken",
        RawHTTP(
            307,
            headers={"location": "https://evil.test/gitpod.v1.UserService/GetPersonalAccessToken"},
        ),
    )
    with (
        httpx.Client(follow_redirects=True) as http,
        Client(token=TOKEN, base_url=scripted_server.url, http_client=http) as client,
        pytest.raises(InvalidResponseError, match="another origin"),
    ):
        client.users.pats.get(personal_access_token_id=USER_ID)
