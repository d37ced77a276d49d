"""Point 6, retries and timeouts: eligibility from idempotency levels, backoff with jitter,
Retry-After, the whole-call deadline, Connect-Timeout-Ms, per client and per call."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from connectrpc.code import Code
from connectrpc.errors import ConnectError
from connectrpc.method import IdempotencyLevel

from ona_pats import (
    AsyncClient,
    Client,
    DeadlineExceededError,
    InvalidResponseError,
    NotFoundError,
    ResourceExhaustedError,
    UnavailableError,
)
from ona_pats._retries import (
    Deadline,
    RetryPolicy,
    backoff,
    is_retryable,
    parse_retry_after,
    retry_delay,
)
from ona_pats._stubs import CREATE, DELETE, GET, LIST

from .conftest import TOKEN, USER_ID, AsyncSleeps, RawHTTP, ScriptedServer, Sleeps

UNAVAILABLE = ConnectError(Code.UNAVAILABLE, "down")


def _rate_limited(retry_after: str) -> RawHTTP:
    return RawHTTP(
        429,
        b'{"code":"resource_exhausted","message":"slow down"}',
        {"content-type": "application/json", "retry-after": retry_after},
    )


def test_eligibility_comes_from_the_schema_idempotency_levels() -> None:
    assert GET.level is LIST.level is IdempotencyLevel.NO_SIDE_EFFECTS
    assert CREATE.level is DELETE.level is IdempotencyLevel.UNKNOWN
    assert is_retryable(GET.level, Code.UNAVAILABLE)
    assert is_retryable(LIST.level, Code.RESOURCE_EXHAUSTED)
    assert not is_retryable(CREATE.level, Code.UNAVAILABLE)
    assert not is_retryable(GET.level, Code.NOT_FOUND)


def test_backoff_is_exponential_capped_and_jittered() -> None:
    policy = RetryPolicy(initial_delay=0.5, max_delay=4.0, jitter=0.25)
    assert [backoff(n, policy, lambda: 0.0) for n in range(5)] == [0.5, 1.0, 2.0, 4.0, 4.0]
    assert backoff(0, policy, lambda: 1.0) == pytest.approx(0.375)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("7", 7.0, id="seconds"),
        pytest.param(None, None, id="absent"),
        pytest.param("soon", None, id="garbage"),
        pytest.param("Wed, 21 Oct 2015 07:28:10 GMT", 10.0, id="http-date"),
        pytest.param("Wed, 21 Oct 2015 07:27:00 GMT", 0.0, id="http-date-past"),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    now = datetime(2015, 10, 21, 7, 28, 0, tzinfo=UTC)
    assert parse_retry_after(value, now) == expected


def test_retry_delay_stops_after_max_retries() -> None:
    exc = UnavailableError("x")
    policy = RetryPolicy(max_retries=2)
    assert retry_delay(GET.level, exc, 0, policy) is not None
    assert retry_delay(GET.level, exc, 2, policy) is None


def test_sync_get_retried_on_unavailable(
    client: Client, scripted_server: ScriptedServer, sleeps: Sleeps
) -> None:
    pat_id = scripted_server.add_pat()
    scripted_server.expect("GetPersonalAccessToken", UNAVAILABLE, UNAVAILABLE)
    assert client.users.pats.get(personal_access_token_id=pat_id).id == pat_id
    assert len(scripted_server.calls("GetPersonalAccessToken")) == 3
    assert len(sleeps) == 2
    assert sleeps[1] > sleeps[0] * 1.2  # exponential even with jitter


@pytest.mark.anyio
async def test_async_list_retried_on_unavailable(
    async_client: AsyncClient, scripted_server: ScriptedServer, async_sleeps: AsyncSleeps
) -> None:
    scripted_server.add_pat()
    scripted_server.expect("ListPersonalAccessTokens", UNAVAILABLE)
    assert len([p async for p in async_client.users.pats.list()]) == 1
    assert len(async_sleeps) == 1


def test_sync_gives_up_after_two_retries_by_default(
    client: Client, scripted_server: ScriptedServer, sleeps: Sleeps
) -> None:
    scripted_server.expect("GetPersonalAccessToken", *[UNAVAILABLE] * 5)
    with pytest.raises(UnavailableError):
        client.users.pats.get(personal_access_token_id=USER_ID)
    assert len(scripted_server.calls("GetPersonalAccessToken")) == 3


def test_sync_max_retries_per_call_and_per_client(
    scripted_server: ScriptedServer, sleeps: Sleeps, no_env: None
) -> None:
    scripted_server.expect("GetPersonalAccessToken", *[UNAVAILABLE] * 10)
    with Client(token=TOKEN, base_url=scripted_server.url, max_retries=4, sleep=sleeps) as c:
        with pytest.raises(UnavailableError):
            c.users.pats.get(personal_access_token_id=USER_ID)
        assert len(scripted_server.calls("GetPersonalAccessToken")) == 5
        with pytest.raises(UnavailableError):
            c.users.pats.get(personal_access_token_id=USER_ID, max_retries=0)
        assert len(scripted_server.calls("GetPersonalAccessToken")) == 6


def test_sync_create_never_retried(
    client: Client, scripted_server: ScriptedServer, sleeps: Sleeps
) -> None:
    scripted_server.expect("CreatePersonalAccessToken", UNAVAILABLE, UNAVAILABLE)
    with pytest.raises(UnavailableError):
        client.users.pats.create(user_id=USER_ID)
    assert len(scripted_server.calls("CreatePersonalAccessToken")) == 1
    assert sleeps == []


def test_sync_delete_never_retried(
    client: Client, scripted_server: ScriptedServer, sleeps: Sleeps
) -> None:
    scripted_server.expect("DeletePersonalAccessToken", UNAVAILABLE, UNAVAILABLE)
    with pytest.raises(UnavailableError):
        client.users.pats.delete(personal_access_token_id=USER_ID)
    assert len(scripted_server.calls("DeletePersonalAccessToken")) == 1
    assert sleeps == []


@pytest.mark.anyio
async def test_async_create_never_retried(
    async_client: AsyncClient, scripted_server: ScriptedServer, async_sleeps: AsyncSleeps
) -> None:
    scripted_server.expect("CreatePersonalAccessToken", UNAVAILABLE)
    with pytest.raises(UnavailableError):
        await async_client.users.pats.create(user_id=USER_ID)
    assert len(scripted_server.calls("CreatePersonalAccessToken")) == 1


def test_sync_retry_after_seconds_is_honoured(
    scripted_server: ScriptedServer, sleeps: Sleeps, no_env: None
) -> None:
    pat_id = scripted_server.add_pat()
    scripted_server.expect("GetPersonalAccessToken", _rate_limited("3"))
    with Client(token=TOKEN, base_url=scripted_server.url, sleep=sleeps) as client:
        client.users.pats.get(personal_access_token_id=pat_id)
    assert sleeps == [3.0]


def test_sync_retry_after_http_date_is_honoured(
    scripted_server: ScriptedServer, sleeps: Sleeps, no_env: None
) -> None:
    pat_id = scripted_server.add_pat()
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=5), usegmt=True)
    scripted_server.expect("GetPersonalAccessToken", _rate_limited(when))
    with Client(token=TOKEN, base_url=scripted_server.url, sleep=sleeps) as client:
        client.users.pats.get(personal_access_token_id=pat_id)
    assert 3.0 < sleeps[0] <= 5.0


def test_sync_retry_after_beyond_the_deadline_fails_at_once(
    scripted_server: ScriptedServer, sleeps: Sleeps, no_env: None
) -> None:
    scripted_server.expect("GetPersonalAccessToken", _rate_limited("30"))
    with (
        Client(token=TOKEN, base_url=scripted_server.url, timeout=10, sleep=sleeps) as client,
        pytest.raises(ResourceExhaustedError),
    ):
        client.users.pats.get(personal_access_token_id=USER_ID)
    assert sleeps == []
    assert len(scripted_server.requests) == 1


@pytest.mark.anyio
async def test_async_retry_after_beyond_the_deadline_fails_at_once(
    scripted_server: ScriptedServer, async_sleeps: AsyncSleeps, no_env: None
) -> None:
    scripted_server.expect("ListPersonalAccessTokens", _rate_limited("30"))
    async with AsyncClient(token=TOKEN, base_url=scripted_server.url, sleep=async_sleeps) as client:
        with pytest.raises(ResourceExhaustedError):
            [p async for p in client.users.pats.list(timeout=5)]
    assert async_sleeps == []


def test_sync_timeout_is_sent_as_connect_timeout_ms(
    client: Client, scripted_server: ScriptedServer
) -> None:
    client.users.pats.create(user_id=USER_ID)
    client.users.pats.create(user_id=USER_ID, timeout=2.5)
    first, second = scripted_server.requests
    assert first.headers["connect-timeout-ms"] == "60000"
    assert second.headers["connect-timeout-ms"] == "2500"


@pytest.mark.anyio
async def test_async_timeout_is_sent_as_connect_timeout_ms(
    async_client: AsyncClient, scripted_server: ScriptedServer
) -> None:
    await async_client.users.pats.create(user_id=USER_ID)
    await async_client.users.pats.create(user_id=USER_ID, timeout=2.5)
    first, second = scripted_server.requests
    assert first.headers["connect-timeout-ms"] == "60000"
    assert second.headers["connect-timeout-ms"] == "2500"


def test_sync_later_attempts_get_what_is_left_of_the_budget(
    scripted_server: ScriptedServer, no_env: None
) -> None:
    def slow_sleep(delay: float) -> None:
        time.sleep(0.2)

    scripted_server.expect("GetPersonalAccessToken", UNAVAILABLE, UNAVAILABLE)
    scripted_server.add_pat()
    with (
        Client(token=TOKEN, base_url=scripted_server.url, timeout=5, sleep=slow_sleep) as c,
        pytest.raises(NotFoundError),
    ):
        c.users.pats.get(personal_access_token_id=USER_ID)
    budgets = [int(r.headers["connect-timeout-ms"]) for r in scripted_server.requests]
    assert budgets[0] == 5000
    assert budgets[0] > budgets[1] > budgets[2]
    assert budgets[2] <= 4600


def test_sync_timeout_bounds_the_whole_call(scripted_server: ScriptedServer, no_env: None) -> None:
    """A slow server plus retries never outlasts the timeout."""
    scripted_server.expect(
        "GetPersonalAccessToken",
        *[RawHTTP(503, b"", {"content-type": "text/plain"}, delay=0.3) for _ in range(3)],
    )
    started = time.monotonic()
    with (
        Client(token=TOKEN, base_url=scripted_server.url, timeout=0.5, max_retries=5) as client,
        pytest.raises((DeadlineExceededError, InvalidResponseError)),
    ):
        client.users.pats.get(personal_access_token_id=USER_ID)
    assert time.monotonic() - started < 1.5


def test_sync_slow_server_times_out(scripted_server: ScriptedServer, no_env: None) -> None:
    scripted_server.expect(
        "CreatePersonalAccessToken", RawHTTP(200, b"", {"content-type": "application/proto"}, 2.0)
    )
    started = time.monotonic()
    with (
        Client(token=TOKEN, base_url=scripted_server.url, timeout=0.3) as client,
        pytest.raises(DeadlineExceededError),
    ):
        client.users.pats.create(user_id=USER_ID)
    assert time.monotonic() - started < 1.5


@pytest.mark.anyio
async def test_async_slow_server_times_out(scripted_server: ScriptedServer, no_env: None) -> None:
    scripted_server.expect(
        "GetPersonalAccessToken", RawHTTP(200, b"", {"content-type": "application/proto"}, 2.0)
    )
    async with AsyncClient(token=TOKEN, base_url=scripted_server.url) as client:
        with pytest.raises(DeadlineExceededError):
            await client.users.pats.get(personal_access_token_id=USER_ID, timeout=0.3)


def test_sync_connection_failure_retried_for_get(sleeps: Sleeps, no_env: None) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with (
        Client(token=TOKEN, base_url=f"http://127.0.0.1:{port}", sleep=sleeps) as client,
        pytest.raises(UnavailableError),
    ):
        client.users.pats.get(personal_access_token_id=USER_ID)
    assert len(sleeps) == 2


def test_huge_timeout_fits_connect_timeout_ms() -> None:
    """Connect-Timeout-Ms allows at most 10 digits."""
    assert Deadline(1e12).timeout_ms() == 9_999_999_999
    assert Deadline(None).timeout_ms() is None


def test_sync_create_retried_when_the_connection_was_never_established(
    sleeps: Sleeps, no_env: None
) -> None:
    """A refused connection means the request never reached the server: safe for Create."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with (
        Client(token=TOKEN, base_url=f"http://127.0.0.1:{port}", sleep=sleeps) as client,
        pytest.raises(UnavailableError),
    ):
        client.users.pats.create(user_id=USER_ID)
    assert len(sleeps) == 2


@pytest.mark.anyio
async def test_async_delete_retried_when_the_connection_was_never_established(
    async_sleeps: AsyncSleeps, no_env: None
) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with AsyncClient(
        token=TOKEN, base_url=f"http://127.0.0.1:{port}", sleep=async_sleeps
    ) as client:
        with pytest.raises(UnavailableError):
            await client.users.pats.delete(personal_access_token_id=USER_ID)
    assert len(async_sleeps) == 2
