"""Point 5, errors: one class per Connect code, chosen by code; non-Connect answers become
InvalidResponseError with the status; the read limit; the token never in error text."""

from __future__ import annotations

import gzip

import pytest
from connectrpc.code import Code
from connectrpc.errors import ConnectError

import ona_pats
from ona_pats import (
    APIError,
    AsyncClient,
    Client,
    InvalidArgumentError,
    InvalidResponseError,
    NotFoundError,
    OnaPatsError,
    PermissionDeniedError,
    UnauthenticatedError,
    UnavailableError,
)
from ona_pats._exceptions import error_class, translate
from ona_pats.types import GetPersonalAccessTokenResponse, PersonalAccessToken

from .conftest import MISSING_ID, TOKEN, USER_ID, RawHTTP, ScriptedServer


@pytest.mark.parametrize("code", list(Code), ids=lambda c: c.value)
def test_every_connect_code_has_its_class(code: Code) -> None:
    cls = error_class(code)
    assert cls is not APIError
    assert issubclass(cls, APIError)
    assert cls.default_code is code
    assert getattr(ona_pats, cls.__name__) is cls


@pytest.mark.parametrize("code", list(Code), ids=lambda c: c.value)
def test_sync_server_error_maps_by_code(
    code: Code, client: Client, scripted_server: ScriptedServer
) -> None:
    scripted_server.expect("DeletePersonalAccessToken", ConnectError(code, f"it is {code.value}"))
    with pytest.raises(error_class(code)) as info:
        client.users.pats.delete(personal_access_token_id=USER_ID)
    exc = info.value
    assert exc.code is code
    assert exc.message == f"it is {code.value}"
    assert exc.http_status is not None
    assert exc.http_status >= 400
    assert isinstance(exc.__cause__, ConnectError)


@pytest.mark.anyio
async def test_async_not_found(async_client: AsyncClient, scripted_server: ScriptedServer) -> None:
    with pytest.raises(NotFoundError) as info:
        await async_client.users.pats.get(personal_access_token_id=MISSING_ID)
    assert info.value.http_status == 404


def test_sync_error_carries_details_headers_and_request_id(
    scripted_server: ScriptedServer, no_env: None
) -> None:
    body = (
        b'{"code":"permission_denied","message":"no",'
        b'"details":[{"type":"google.protobuf.Duration","value":"CAE"}]}'
    )
    scripted_server.expect(
        "GetPersonalAccessToken",
        RawHTTP(403, body, {"content-type": "application/json", "x-request-id": "r-9"}),
    )
    with (
        Client(token=TOKEN, base_url=scripted_server.url) as client,
        pytest.raises(PermissionDeniedError) as info,
    ):
        client.users.pats.get(personal_access_token_id=USER_ID)
    exc = info.value
    assert exc.request_id == "r-9"
    assert exc.headers["x-request-id"] == "r-9"
    assert [d.type_name for d in exc.details] == ["google.protobuf.Duration"]
    assert exc.http_status == 403


def test_code_not_status_decides_the_class() -> None:
    """400 carries three codes; the class follows the code."""
    for code, cls in [
        (Code.INVALID_ARGUMENT, InvalidArgumentError),
        (Code.FAILED_PRECONDITION, ona_pats.FailedPreconditionError),
        (Code.OUT_OF_RANGE, ona_pats.OutOfRangeError),
    ]:
        exc = translate(ConnectError(code, "x"), 400, {"content-type": "application/json"})
        assert type(exc) is cls


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        pytest.param(
            RawHTTP(502, b"<html>Bad Gateway</html>", {"content-type": "text/html"}),
            502,
            Code.UNAVAILABLE,
            id="html-502",
        ),
        pytest.param(
            RawHTTP(200, b"\xff\xfe garbage \x00", {"content-type": "application/proto"}),
            200,
            Code.INTERNAL,
            id="garbage-200",
        ),
        pytest.param(
            RawHTTP(200, b"<html>hi</html>", {"content-type": "text/html"}),
            200,
            Code.INTERNAL,
            id="wrong-content-type",
        ),
        pytest.param(
            RawHTTP(404, b"not here", {"content-type": "text/plain"}),
            404,
            Code.UNIMPLEMENTED,
            id="plain-404",
        ),
    ],
)
def test_sync_non_connect_response_is_invalid_response(
    scripted_server: ScriptedServer, no_env: None, raw: RawHTTP, status: int, code: Code
) -> None:
    scripted_server.expect("GetPersonalAccessToken", *[raw] * 3)
    with (
        Client(token=TOKEN, base_url=scripted_server.url, sleep=lambda _: None) as client,
        pytest.raises(InvalidResponseError) as info,
    ):
        client.users.pats.get(personal_access_token_id=USER_ID)
    assert info.value.http_status == status
    assert info.value.code is code


def test_sync_truncated_body_is_invalid_response(
    scripted_server: ScriptedServer, no_env: None
) -> None:
    full = GetPersonalAccessTokenResponse(
        pat=PersonalAccessToken(id=USER_ID, description="x" * 50)
    ).SerializeToString()
    scripted_server.expect(
        "GetPersonalAccessToken",
        RawHTTP(200, full[:20], {"content-type": "application/proto"}),
    )
    with (
        Client(token=TOKEN, base_url=scripted_server.url) as client,
        pytest.raises(InvalidResponseError) as info,
    ):
        client.users.pats.get(personal_access_token_id=USER_ID)
    assert info.value.http_status == 200


@pytest.mark.anyio
async def test_async_html_502_is_invalid_response(
    scripted_server: ScriptedServer, no_env: None
) -> None:
    scripted_server.expect(
        "DeletePersonalAccessToken", RawHTTP(502, b"<html/>", {"content-type": "text/html"})
    )
    async with AsyncClient(token=TOKEN, base_url=scripted_server.url) as client:
        with pytest.raises(InvalidResponseError) as info:
            await client.users.pats.delete(personal_access_token_id=USER_ID)
    assert info.value.http_status == 502


def test_sync_oversized_body_hits_the_read_limit(
    scripted_server: ScriptedServer, no_env: None
) -> None:
    big = GetPersonalAccessTokenResponse(
        pat=PersonalAccessToken(id=USER_ID, description="x" * 5000)
    ).SerializeToString()
    scripted_server.expect(
        "GetPersonalAccessToken", RawHTTP(200, big, {"content-type": "application/proto"})
    )
    with (
        Client(token=TOKEN, base_url=scripted_server.url, read_max_bytes=1000) as client,
        pytest.raises(InvalidResponseError, match="read limit"),
    ):
        client.users.pats.get(personal_access_token_id=USER_ID)
    assert len(scripted_server.requests) == 1  # not retried


@pytest.mark.parametrize(
    "declared", [pytest.param(True, id="content-length"), pytest.param(False, id="chunked")]
)
def test_sync_read_limit_with_and_without_content_length(
    scripted_server: ScriptedServer, no_env: None, declared: bool
) -> None:
    big = b"\x12" + b"\xff" * 50_000
    headers = {"content-type": "application/proto"}
    if declared:
        headers["content-length"] = str(len(big))
    scripted_server.expect("GetPersonalAccessToken", RawHTTP(200, big, headers))
    with (
        Client(token=TOKEN, base_url=scripted_server.url, read_max_bytes=4096) as client,
        pytest.raises(InvalidResponseError, match="read limit") as info,
    ):
        client.users.pats.get(personal_access_token_id=USER_ID)
    assert info.value.http_status == 200


def test_sync_gzip_bomb_is_bounded_by_the_read_limit(
    scripted_server: ScriptedServer, no_env: None
) -> None:
    """The limit applies to the decompressed body."""
    bomb = gzip.compress(b"\0" * 5_000_000)
    scripted_server.expect(
        "GetPersonalAccessToken",
        RawHTTP(200, bomb, {"content-type": "application/proto", "content-encoding": "gzip"}),
    )
    with (
        Client(token=TOKEN, base_url=scripted_server.url, read_max_bytes=65536) as client,
        pytest.raises(InvalidResponseError, match="read limit"),
    ):
        client.users.pats.get(personal_access_token_id=USER_ID)


@pytest.mark.anyio
async def test_async_read_limit(scripted_server: ScriptedServer, no_env: None) -> None:
    big = b"\x12" + b"\xff" * 50_000
    scripted_server.expect(
        "GetPersonalAccessToken", RawHTTP(200, big, {"content-type": "application/proto"})
    )
    async with AsyncClient(
        token=TOKEN, base_url=scripted_server.url, read_max_bytes=4096
    ) as client:
        with pytest.raises(InvalidResponseError, match="exceeds the read limit of 4096"):
            await client.users.pats.get(personal_access_token_id=USER_ID)


def test_sync_error_body_with_null_message_is_typed(
    scripted_server: ScriptedServer, no_env: None
) -> None:
    scripted_server.expect(
        "GetPersonalAccessToken",
        RawHTTP(
            400, b'{"code":"invalid_argument","message":null}', {"content-type": "application/json"}
        ),
    )
    with (
        Client(token=TOKEN, base_url=scripted_server.url) as client,
        pytest.raises(InvalidArgumentError) as info,
    ):
        client.users.pats.get(personal_access_token_id=USER_ID)
    assert info.value.message == ""


def test_sync_connection_refused_is_unavailable(no_env: None) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with (
        Client(token=TOKEN, base_url=f"http://127.0.0.1:{port}", max_retries=0) as client,
        pytest.raises(UnavailableError) as info,
    ):
        client.users.pats.get(personal_access_token_id=USER_ID)
    assert info.value.http_status is None


def test_sync_token_never_in_error_text(scripted_server: ScriptedServer, no_env: None) -> None:
    scripted_server.expect(
        "GetPersonalAccessToken", ConnectError(Code.UNAUTHENTICATED, f"bad token {TOKEN}")
    )
    with (
        Client(token=TOKEN, base_url=scripted_server.url) as client,
        pytest.raises(UnauthenticatedError) as info,
    ):
        client.users.pats.get(personal_access_token_id=USER_ID)
    assert TOKEN not in str(info.value)
    assert TOKEN not in repr(info.value)
    assert TOKEN not in info.value.message
    assert TOKEN not in str(info.value.__cause__)
    assert TOKEN not in repr(info.value.__cause__)
    assert TOKEN not in repr(info.value.__context__)


def test_all_errors_are_ona_pats_errors() -> None:
    for name in ona_pats.__all__:
        obj = getattr(ona_pats, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, OnaPatsError)
