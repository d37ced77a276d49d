"""Guarantees under injected transient faults: complete listings, no duplicated writes.

Every client here talks to the embedded server through the fault proxy, which counts what
arrives and what reaches the server. Backoff sleeps are recorded, not taken.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

import ona_pats
from ona_pats.server import Server

from ._audit import AUDIT
from ._faultproxy import TRANSIENT, Fault, FaultProxy
from ._settings import FAULT_RATE, FAULT_SEED, LIST_TOKENS
from ._support import proxied

LIST = "ListPersonalAccessTokens"
CREATE = "CreatePersonalAccessToken"
DELETE = "DeletePersonalAccessToken"
_PAGE = 100


@pytest.fixture(scope="module")
def big_server() -> Iterator[Server]:
    """An embedded server seeded with ``ONA_PATS_LIST_TOKENS`` tokens (plus the admin's)."""
    with Server(seed=LIST_TOKENS) as srv:
        AUDIT.secret(srv.admin_token)
        yield srv


@pytest.fixture
def big_proxy(big_server: Server) -> Iterator[FaultProxy]:
    with proxied(big_server.base_url) as proxy:
        yield proxy


@pytest.fixture(scope="module")
def expected_ids(big_server: Server) -> set[str]:
    """Every id, listed once without faults."""
    token = big_server.admin_token
    with ona_pats.Client(token=token, base_url=big_server.base_url) as client:
        ids = [pat.id for pat in client.users.pats.list(page_size=_PAGE)]
    assert len(ids) == len(set(ids)) == LIST_TOKENS + 1
    return set(ids)


def _assert_faults_were_met(proxy: FaultProxy) -> None:
    faults = proxy.faults()
    pages = LIST_TOKENS // _PAGE
    assert sum(faults.values()) >= max(1, int(pages * FAULT_RATE * 0.5)), faults
    assert proxy.count(LIST) > pages  # retried pages show up as extra requests


@pytest.mark.slow
@pytest.mark.parametrize("protocol", ["proto", "json"])
def test_sync_list_through_transient_faults_returns_every_item_exactly_once(
    big_server: Server,
    big_proxy: FaultProxy,
    expected_ids: set[str],
    protocol: ona_pats.WireProtocol,
) -> None:
    big_proxy.set_rate(FAULT_RATE, TRANSIENT, rpcs=[LIST], seed=FAULT_SEED)
    sleeps: list[float] = []
    with ona_pats.Client(
        token=big_server.admin_token,
        base_url=big_proxy.url,
        protocol=protocol,
        max_retries=10,
        sleep=sleeps.append,
    ) as client:
        ids = [pat.id for pat in client.users.pats.list(page_size=_PAGE)]
    assert len(ids) == len(expected_ids)
    assert set(ids) == expected_ids
    _assert_faults_were_met(big_proxy)
    assert sleeps, "retries back off"


@pytest.mark.slow
@pytest.mark.anyio
async def test_async_list_through_transient_faults_returns_every_item_exactly_once(
    big_server: Server, big_proxy: FaultProxy, expected_ids: set[str]
) -> None:
    big_proxy.set_rate(FAULT_RATE, TRANSIENT, rpcs=[LIST], seed=FAULT_SEED + 1)
    sleeps: list[float] = []

    async def no_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async with ona_pats.AsyncClient(
        token=big_server.admin_token, base_url=big_proxy.url, max_retries=10, sleep=no_sleep
    ) as client:
        ids = [pat.id async for pat in client.users.pats.list(page_size=_PAGE)]
    assert len(ids) == len(expected_ids)
    assert set(ids) == expected_ids
    _assert_faults_were_met(big_proxy)


# -- Create and Delete are never sent twice -----------------------------------------------

_WRITE_FAULTS = [pytest.param(f, id=f.value) for f in (*TRANSIENT, Fault.DELAY)]


def _client(proxy: FaultProxy, token: str, **options: object) -> ona_pats.Client:
    return ona_pats.Client(
        token=token,
        base_url=proxy.url,
        max_retries=5,
        timeout=1.0,
        sleep=lambda _s: None,
        **options,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize("fault", _WRITE_FAULTS)
def test_sync_create_is_sent_once_whatever_the_fault(
    server: Server, proxy: FaultProxy, admin_token: str, fault: Fault
) -> None:
    proxy.delay = 1.5
    proxy.inject(fault, rpc=CREATE, times=10)
    with _client(proxy, admin_token) as client, pytest.raises(ona_pats.OnaPatsError) as caught:
        client.users.pats.create(user_id=server.admin_user_id, description="once")
    AUDIT.exception(caught.value)
    assert proxy.count(CREATE) == 1


@pytest.mark.parametrize("fault", _WRITE_FAULTS)
def test_sync_delete_is_sent_once_whatever_the_fault(
    server: Server, proxy: FaultProxy, admin_token: str, fault: Fault
) -> None:
    victim = server.create_user_token(server.admin_user_id)
    AUDIT.secret(victim.token)
    proxy.delay = 1.5
    proxy.inject(fault, rpc=DELETE, times=10)
    with _client(proxy, admin_token) as client, pytest.raises(ona_pats.OnaPatsError) as caught:
        client.users.pats.delete(personal_access_token_id=victim.id)
    AUDIT.exception(caught.value)
    assert proxy.count(DELETE) == 1


@pytest.mark.anyio
@pytest.mark.parametrize("fault", _WRITE_FAULTS)
async def test_async_create_and_delete_are_sent_once_whatever_the_fault(
    server: Server, proxy: FaultProxy, admin_token: str, fault: Fault
) -> None:
    victim = server.create_user_token(server.admin_user_id)
    proxy.delay = 1.5
    proxy.inject(fault, rpc=CREATE, times=10)
    proxy.inject(fault, rpc=DELETE, times=10)

    async def no_sleep(_seconds: float) -> None:
        return None

    async with ona_pats.AsyncClient(
        token=admin_token, base_url=proxy.url, max_retries=5, timeout=1.0, sleep=no_sleep
    ) as client:
        with pytest.raises(ona_pats.OnaPatsError):
            await client.users.pats.create(user_id=server.admin_user_id)
        with pytest.raises(ona_pats.OnaPatsError):
            await client.users.pats.delete(personal_access_token_id=victim.id)
    assert (proxy.count(CREATE), proxy.count(DELETE)) == (1, 1)


def test_writes_under_a_fault_rate_are_each_sent_once(
    server: Server, proxy: FaultProxy, admin_token: str
) -> None:
    """50 creates and their deletes through 50 % faults: one request per call, never two."""
    proxy.set_rate(0.5, TRANSIENT, rpcs=[CREATE, DELETE], seed=FAULT_SEED)
    created = failed = 0
    with _client(proxy, admin_token) as client:
        for i in range(50):
            try:
                secret = client.users.pats.create(
                    user_id=server.admin_user_id, description=f"rate {i}"
                )
            except ona_pats.OnaPatsError as exc:
                AUDIT.exception(exc)
                failed += 1
            else:
                AUDIT.secret(secret)
                created += 1
        assert proxy.count(CREATE) == 50
        proxy.clear()
        owned = [p.id for p in client.users.pats.list() if p.description.startswith("rate ")]
        proxy.set_rate(0.5, TRANSIENT, rpcs=[DELETE], seed=FAULT_SEED)
        for pat_id in owned:
            try:
                client.users.pats.delete(personal_access_token_id=pat_id)
            except ona_pats.OnaPatsError as exc:
                AUDIT.exception(exc)
    assert proxy.count(DELETE) == len(owned)
    assert created + failed == 50
    # A create whose response was lost still created the token: never more than were sent.
    assert created <= len(owned) <= 50


# -- a Delete whose response was lost ---------------------------------------------------------


@pytest.mark.parametrize(
    "fault",
    [
        pytest.param(Fault.DROP_AFTER_FORWARD, id="connection-dropped"),
        pytest.param(Fault.DROP_MID_RESPONSE, id="response-cut"),
        pytest.param(Fault.DELAY, id="deadline-passed"),
    ],
)
def test_delete_whose_response_was_lost_reports_an_honest_error(
    server: Server, proxy: FaultProxy, admin_token: str, fault: Fault
) -> None:
    """The server deleted the token; the client cannot know, so it must say so: no success,
    no retry (which would answer not_found, as if the token had never existed)."""
    victim = server.create_user_token(server.admin_user_id)
    proxy.delay = 1.5
    proxy.inject(fault, rpc=DELETE)
    with _client(proxy, admin_token) as client:
        with pytest.raises(ona_pats.APIError) as caught:
            client.users.pats.delete(personal_access_token_id=victim.id)
        AUDIT.exception(caught.value)
        assert not isinstance(caught.value, ona_pats.NotFoundError)
        expected = ona_pats.DeadlineExceededError if fault is Fault.DELAY else ona_pats.APIError
        assert isinstance(caught.value, expected)
        _wait_until_deleted(client, victim.id)
    assert proxy.count(DELETE, forwarded=True) == proxy.count(DELETE) == 1


def _wait_until_deleted(client: ona_pats.Client, pat_id: str) -> None:
    """The delayed request still reaches the server; the token is gone once it has."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            client.users.pats.get(personal_access_token_id=pat_id)
        except ona_pats.NotFoundError:
            return
        time.sleep(0.05)
    raise AssertionError(f"token {pat_id} was not deleted by the one request sent")


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        pytest.param(Fault.RATE_LIMITED_429, ona_pats.ResourceExhaustedError, id="429"),
        pytest.param(Fault.UNAVAILABLE_503, ona_pats.UnavailableError, id="503"),
    ],
)
def test_retry_after_beyond_the_deadline_fails_at_once(
    server: Server, proxy: FaultProxy, admin_token: str, fault: Fault, error: type[Exception]
) -> None:
    """A ``Retry-After`` longer than the time left is not slept through: the call fails now."""
    victim = server.create_user_token(server.admin_user_id)
    proxy.retry_after = "30"
    proxy.inject(fault, rpc="GetPersonalAccessToken", times=10)
    with ona_pats.Client(token=admin_token, base_url=proxy.url, timeout=5.0) as client:
        start = time.monotonic()
        with pytest.raises(error) as caught:
            client.users.pats.get(personal_access_token_id=victim.id)
        elapsed = time.monotonic() - start
    AUDIT.exception(caught.value)
    assert elapsed < 1.0, f"waited {elapsed:.1f}s for a Retry-After past a 5s deadline"
    assert proxy.count("GetPersonalAccessToken") == 1
