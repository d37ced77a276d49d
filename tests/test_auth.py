"""Auth: the token's sources, the missing-token error, redaction, the plain-http
refusal and redirects (the token follows only within the same origin)."""

from __future__ import annotations

import os

import pytest
from connectrpc.code import Code
from connectrpc.errors import ConnectError

from ona_pats import AsyncClient, Client, ConfigurationError, InvalidResponseError, NotFoundError
from ona_pats._auth import BearerToken, check_base_url, is_loopback
from ona_pats.types import PersonalAccessToken

from .conftest import TOKEN, USER_ID, RawHTTP, ScriptedServer

GET_PATH = "/gitpod.v1.UserService/GetPersonalAccessToken"


def test_token_from_argument_wins(
    scripted_server: ScriptedServer, monkeypatch: pytest.MonkeyPatch, no_env: None
) -> None:
    monkeypatch.setenv("ONA_API_KEY", "from-env")
    with Client(token=TOKEN, base_url=scripted_server.url) as client:
        client.users.pats.create(user_id=USER_ID)
    assert scripted_server.requests[0].headers["authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        pytest.param({"ONA_API_KEY": "ona", "GITPOD_API_KEY": "gitpod"}, "ona", id="ona-first"),
        pytest.param({"GITPOD_API_KEY": "gitpod"}, "gitpod", id="gitpod-fallback"),
    ],
)
def test_token_from_environment(
    scripted_server: ScriptedServer,
    monkeypatch: pytest.MonkeyPatch,
    no_env: None,
    env: dict[str, str],
    expected: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with Client(base_url=scripted_server.url) as client:
        client.users.pats.create(user_id=USER_ID)
    assert scripted_server.requests[0].headers["authorization"] == f"Bearer {expected}"


def test_missing_token_names_both_variables(no_env: None) -> None:
    with pytest.raises(ConfigurationError, match="ONA_API_KEY or GITPOD_API_KEY") as info:
        Client()
    assert "GITPOD_TOKEN" not in str(info.value)


def test_missing_token_mentions_gitpod_token_when_set(
    no_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITPOD_TOKEN", "ci-secret-value")
    with pytest.raises(ConfigurationError) as info:
        AsyncClient()
    message = str(info.value)
    assert "GITPOD_TOKEN is set but not read" in message
    assert 'ONA_API_KEY="$GITPOD_TOKEN"' in message
    assert "ci-secret-value" not in message


def test_token_never_in_repr() -> None:
    token = BearerToken("s3cr3t")
    assert "s3cr3t" not in repr(token)
    assert "s3cr3t" not in str(token)
    assert token.header() == "Bearer s3cr3t"
    assert token.redact("x s3cr3t y") == "x <redacted> y"


@pytest.mark.parametrize(
    "host",
    [
        pytest.param("127.0.0.1", id="ipv4"),
        pytest.param("127.8.9.10", id="ipv4-range"),
        pytest.param("[::1]", id="ipv6"),
        pytest.param("localhost", id="localhost"),
    ],
)
def test_loopback_hosts(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize(
    "host",
    [
        pytest.param("localhost.localdomain", id="localdomain"),
        pytest.param("api.localhost", id="dot-localhost"),
        pytest.param("127.0.0.1.nip.io", id="dns-name-of-loopback"),
        pytest.param("example.com", id="remote"),
    ],
)
def test_names_resolved_through_dns_are_not_trusted_as_loopback(host: str) -> None:
    """Only what cannot resolve elsewhere is loopback: these go through a resolver.

    Before the fix ``localhost.localdomain`` and ``*.localhost`` were trusted, so the token
    went over plain http to whatever DNS answered for them.
    """
    assert not is_loopback(host)


def test_plain_http_to_remote_host_is_refused(no_env: None) -> None:
    with pytest.raises(ConfigurationError, match=r"plain http to example\.com"):
        Client(token=TOKEN, base_url="http://example.com/api")


def test_plain_http_to_remote_host_allowed_on_opt_in(no_env: None) -> None:
    with Client(token=TOKEN, base_url="http://example.com/api", allow_insecure_http=True) as c:
        assert c.base_url == "http://example.com/api"


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("ftp://example.com", id="scheme"),
        pytest.param("https://", id="no-host"),
    ],
)
def test_unusable_base_url_is_refused(url: str) -> None:
    with pytest.raises(ConfigurationError):
        check_base_url(url, allow_insecure_http=False)


def _proto_get(description: str) -> RawHTTP:
    from ona_pats.types import GetPersonalAccessTokenResponse

    body = GetPersonalAccessTokenResponse(
        pat=PersonalAccessToken(id=USER_ID, description=description)
    ).SerializeToString()
    return RawHTTP(200, body, {"content-type": "application/proto"})


@pytest.mark.parametrize("status", [307, 308])
def test_sync_same_origin_redirect_is_followed_with_token(
    scripted_server: ScriptedServer, no_env: None, status: int
) -> None:
    scripted_server.expect(
        "GetPersonalAccessToken",
        RawHTTP(status, headers={"location": f"/moved{GET_PATH}"}),
        _proto_get("moved"),
    )
    with Client(token=TOKEN, base_url=scripted_server.url) as client:
        pat = client.users.pats.get(personal_access_token_id=USER_ID)
    assert pat.description == "moved"
    _, second = scripted_server.requests
    assert second.path == f"/moved{GET_PATH}"
    assert second.headers["authorization"] == f"Bearer {TOKEN}"


def test_sync_cross_origin_redirect_is_not_followed(
    scripted_server: ScriptedServer, no_env: None
) -> None:
    """The other origin is 'localhost' at the same port: a different host name, never sent to."""
    other = scripted_server.url.replace("127.0.0.1", "localhost")
    scripted_server.expect(
        "GetPersonalAccessToken", RawHTTP(307, headers={"location": f"{other}{GET_PATH}"})
    )
    with (
        Client(token=TOKEN, base_url=scripted_server.url) as client,
        pytest.raises(InvalidResponseError, match="another origin") as info,
    ):
        client.users.pats.get(personal_access_token_id=USER_ID)
    assert info.value.http_status == 307
    assert len(scripted_server.requests) == 1


@pytest.mark.anyio
async def test_async_same_origin_redirect_is_followed(
    scripted_server: ScriptedServer, no_env: None
) -> None:
    scripted_server.expect(
        "GetPersonalAccessToken",
        RawHTTP(308, headers={"location": f"/moved{GET_PATH}"}),
        _proto_get("moved"),
    )
    async with AsyncClient(token=TOKEN, base_url=scripted_server.url) as client:
        pat = await client.users.pats.get(personal_access_token_id=USER_ID)
    assert pat.description == "moved"


@pytest.mark.anyio
async def test_async_cross_origin_redirect_is_not_followed(
    scripted_server: ScriptedServer, no_env: None
) -> None:
    scripted_server.expect(
        "GetPersonalAccessToken",
        RawHTTP(307, headers={"location": f"https://evil.test{GET_PATH}"}),
    )
    async with AsyncClient(token=TOKEN, base_url=scripted_server.url) as client:
        with pytest.raises(InvalidResponseError, match="another origin"):
            await client.users.pats.get(personal_access_token_id=USER_ID)
    assert len(scripted_server.requests) == 1


def test_redirect_loop_stops(scripted_server: ScriptedServer, no_env: None) -> None:
    scripted_server.expect(
        "GetPersonalAccessToken",
        *[RawHTTP(307, headers={"location": GET_PATH}) for _ in range(10)],
    )
    with (
        Client(token=TOKEN, base_url=scripted_server.url) as client,
        pytest.raises(InvalidResponseError, match="more than 5 redirects"),
    ):
        client.users.pats.get(personal_access_token_id=USER_ID)


def test_repr_works_while_construction_is_failing() -> None:
    """Tracebacks that show locals ask for ``repr(self)`` of a half-built client."""
    assert repr(Client.__new__(Client)) == "Client(base_url=None, protocol=None)"


def _traceback_locals(exc: BaseException) -> list[str]:
    """``repr()`` of the locals of each ona_pats frame an exception (and its causes) passed.

    connectrpc's own frames hold the request headers, as any HTTP stack must.
    """
    shown: list[str] = []
    seen: BaseException | None = exc
    while seen is not None:
        tb = seen.__traceback__
        while tb is not None:
            if f"{os.sep}ona_pats{os.sep}" in tb.tb_frame.f_code.co_filename:
                shown += [f"{name}={value!r}" for name, value in tb.tb_frame.f_locals.items()]
            tb = tb.tb_next
        seen = seen.__cause__ or seen.__context__
    return shown


def test_token_is_in_no_local_variable_of_an_error_traceback(
    scripted_server: ScriptedServer, no_env: None
) -> None:
    """Tools that print tracebacks with locals (pytest --showlocals, rich) never show it."""
    scripted_server.expect("GetPersonalAccessToken", ConnectError(Code.NOT_FOUND, "no such token"))
    pat_id = "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e"
    with (
        Client(token=TOKEN, base_url=scripted_server.url) as client,
        pytest.raises(NotFoundError) as caught,
    ):
        client.users.pats.get(personal_access_token_id=pat_id)
    shown = _traceback_locals(caught.value)
    assert any("BearerToken(<redacted>)" in line for line in shown)
    assert not [line for line in shown if TOKEN in line]


@pytest.mark.anyio
@pytest.mark.parametrize("timeout", [None, 5.0], ids=["no-deadline", "deadline"])
async def test_token_is_in_no_local_variable_of_an_async_error_traceback(
    scripted_server: ScriptedServer, no_env: None, timeout: float | None
) -> None:
    """The async path too, with and without the deadline header it adds to the headers."""
    scripted_server.expect("GetPersonalAccessToken", ConnectError(Code.NOT_FOUND, "no such token"))
    pat_id = "182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e"
    async with AsyncClient(token=TOKEN, base_url=scripted_server.url, timeout=timeout) as client:
        with pytest.raises(NotFoundError) as caught:
            await client.users.pats.get(personal_access_token_id=pat_id)
    shown = _traceback_locals(caught.value)
    assert any("RequestHeaders(" in line for line in shown)
    assert not [line for line in shown if TOKEN in line]
