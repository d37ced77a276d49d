"""Every hostile response becomes a typed ``ona_pats`` error within the caller's deadline.

No hang, no raw decode exception (``DecodeError``, ``UnicodeDecodeError``, ``JSONDecodeError``,
``KeyError``...), and memory bounded by the read limit, for each hostile response the proxy
can forge, in both protocols, sync and async; then for random bytes and random JSON bodies
under any status and content type (hypothesis).
"""

from __future__ import annotations

import gc
import json
import threading
import time
import tracemalloc
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ona_pats
from ona_pats.server import Server

from ._audit import AUDIT
from ._faultproxy import Fault, FaultProxy, Response
from ._messages import JSON_VALUES
from ._settings import HYPOTHESIS_EXAMPLES, OVERSIZED_BYTES
from ._support import proxied, rss_bytes

TIMEOUT = 1.0
# Scheduling slack on a loaded 2-core machine; a hang would take the proxy's 30 s delay.
SLACK = 1.0
READ_LIMIT = 1024 * 1024
# The client may hold a few copies of an accepted body (bytes, decompressed, decoded), never
# the oversized body itself.
MEMORY_BOUND = 4 * READ_LIMIT + 2 * 1024 * 1024

_HOSTILE = [
    Fault.DELAY,
    Fault.DROP_MID_RESPONSE,
    Fault.DROP_BEFORE_REQUEST,
    Fault.TRUNCATE,
    Fault.WRONG_CONTENT_TYPE,
    Fault.HTML_ERROR_PAGE,
    Fault.OVERSIZED,
    Fault.OVERSIZED_CHUNKED,
    Fault.GARBAGE_PROTO,
    Fault.INVALID_UTF8_JSON,
    Fault.BAD_TIMESTAMP,
]


def _cases() -> Iterator[Any]:
    for fault in _HOSTILE:
        for protocol in ("proto", "json"):
            if fault is Fault.BAD_TIMESTAMP and protocol == "proto":
                continue  # binary Timestamps are numbers: nothing to break
            yield pytest.param(fault, protocol, id=f"{fault.value}-{protocol}")


@pytest.fixture(scope="module")
def victim(server: Server) -> str:
    issued = server.create_user_token(server.admin_user_id, description="hostile target")
    AUDIT.secret(issued.token)
    return issued.id


@pytest.fixture
def slow_proxy(server: Server) -> Iterator[FaultProxy]:
    with proxied(server.base_url, delay=30.0) as proxy:
        yield proxy


def _client(proxy: FaultProxy, token: str, protocol: ona_pats.WireProtocol) -> ona_pats.Client:
    return ona_pats.Client(
        token=token,
        base_url=proxy.url,
        protocol=protocol,
        timeout=TIMEOUT,
        read_max_bytes=READ_LIMIT,
        sleep=lambda _s: None,
    )


def _check(exc: BaseException, elapsed: float) -> None:
    AUDIT.exception(exc)
    assert isinstance(exc, ona_pats.OnaPatsError), f"untyped: {type(exc).__module__}.{exc!r}"
    assert elapsed < TIMEOUT + SLACK, f"took {elapsed:.2f}s for a {TIMEOUT}s deadline"


@pytest.mark.parametrize(("fault", "protocol"), list(_cases()))
def test_sync_hostile_response_is_a_typed_error_within_the_deadline(
    slow_proxy: FaultProxy,
    admin_token: str,
    victim: str,
    fault: Fault,
    protocol: ona_pats.WireProtocol,
) -> None:
    with _client(slow_proxy, admin_token, protocol) as client:
        client.users.pats.get(personal_access_token_id=victim)  # warm: connection and codecs
        slow_proxy.inject(fault, rpc="GetPersonalAccessToken", times=100)
        start = time.monotonic()
        with pytest.raises(Exception) as caught:  # noqa: PT011 - the type is the assertion
            client.users.pats.get(personal_access_token_id=victim)
        _check(caught.value, time.monotonic() - start)
        slow_proxy.clear()


@pytest.mark.anyio
@pytest.mark.parametrize(("fault", "protocol"), list(_cases()))
async def test_async_hostile_response_is_a_typed_error_within_the_deadline(
    slow_proxy: FaultProxy,
    admin_token: str,
    victim: str,
    fault: Fault,
    protocol: ona_pats.WireProtocol,
) -> None:
    async def no_sleep(_seconds: float) -> None:
        return None

    async with ona_pats.AsyncClient(
        token=admin_token,
        base_url=slow_proxy.url,
        protocol=protocol,
        timeout=TIMEOUT,
        read_max_bytes=READ_LIMIT,
        sleep=no_sleep,
    ) as client:
        await client.users.pats.get(personal_access_token_id=victim)
        slow_proxy.inject(fault, rpc="GetPersonalAccessToken", times=100)
        start = time.monotonic()
        with pytest.raises(Exception) as caught:  # noqa: PT011 - the type is the assertion
            await client.users.pats.get(personal_access_token_id=victim)
        _check(caught.value, time.monotonic() - start)


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        pytest.param(Fault.REPEAT_PAGE_TOKEN, ona_pats.PaginationError, id="repeated-token"),
        pytest.param(Fault.FORGE_PAGE_TOKEN, ona_pats.InvalidArgumentError, id="forged-token"),
    ],
)
@pytest.mark.parametrize("protocol", ["proto", "json"])
def test_hostile_page_tokens_end_the_listing_with_a_typed_error(
    server: Server,
    slow_proxy: FaultProxy,
    admin_token: str,
    fault: Fault,
    error: type[Exception],
    protocol: ona_pats.WireProtocol,
) -> None:
    for i in range(3):
        AUDIT.secret(server.create_user_token(server.admin_user_id, description=f"p{i}").token)
    with _client(slow_proxy, admin_token, protocol) as client:
        pages = iter(client.users.pats.list(page_size=1).pages())
        next(pages)
        slow_proxy.inject(fault, rpc="ListPersonalAccessTokens", times=100)
        start = time.monotonic()
        with pytest.raises(error) as caught:
            _drain(pages)
        _check(caught.value, time.monotonic() - start)
    assert slow_proxy.count("ListPersonalAccessTokens") < 10


def _drain(pages: Iterator[object]) -> None:
    for _ in range(1000):
        next(pages)


class _PeakRSS:
    """Samples this process's RSS in a thread: the most it grew while the block ran."""

    def __init__(self) -> None:
        self.peak = 0
        self._stop = threading.Event()
        self._base = rss_bytes()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(0.002):
            self.peak = max(self.peak, rss_bytes() - self._base)

    def __enter__(self) -> _PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()


@pytest.mark.parametrize("fault", [Fault.OVERSIZED, Fault.OVERSIZED_CHUNKED])
@pytest.mark.parametrize("protocol", ["proto", "json"])
def test_oversized_response_memory_is_bounded_by_the_read_limit(
    slow_proxy: FaultProxy,
    admin_token: str,
    victim: str,
    fault: Fault,
    protocol: ona_pats.WireProtocol,
) -> None:
    """A body of ``ONA_PATS_OVERSIZED_MB`` against a 1 MiB read limit: Python allocations
    (tracemalloc) and resident memory (RSS, which also sees the Rust HTTP client's buffers)
    stay within a few times the limit."""
    with _client(slow_proxy, admin_token, protocol) as client:
        client.users.pats.get(personal_access_token_id=victim)
        slow_proxy.inject(fault, rpc="GetPersonalAccessToken", times=100)
        gc.collect()
        tracemalloc.start()
        try:
            with _PeakRSS() as rss, pytest.raises(ona_pats.OnaPatsError) as caught:
                client.users.pats.get(personal_access_token_id=victim)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    AUDIT.exception(caught.value)
    mib = 1024 * 1024
    assert peak < MEMORY_BOUND, f"Python peak {peak / mib:.1f} MiB for a 1 MiB read limit"
    assert rss.peak < MEMORY_BOUND + OVERSIZED_BYTES // 4, f"RSS grew {rss.peak / mib:.1f} MiB"


# -- random bodies --------------------------------------------------------------------------

_STATUSES = st.sampled_from([200, 200, 200, 400, 401, 404, 408, 409, 429, 500, 502, 503, 504])
_CONTENT_TYPES = st.sampled_from(
    [
        "application/proto",
        "application/json",
        "application/json; charset=utf-8",
        "text/html",
        "text/plain",
        "",
        "application/grpc",
    ]
)
_BODIES = st.one_of(
    st.binary(max_size=300),
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries(
        {"code": st.one_of(st.text(max_size=20), JSON_VALUES), "message": JSON_VALUES}
    ).map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries({"pat": st.dictionaries(st.text(max_size=12), JSON_VALUES)}).map(
        lambda v: json.dumps(v).encode()
    ),
)
_ENCODINGS = st.sampled_from([None, None, "gzip", "br", "identity", "bogus"])


@pytest.fixture(scope="module")
def fuzz_proxy(server: Server) -> Iterator[FaultProxy]:
    with proxied(server.base_url) as proxy:
        yield proxy


@pytest.fixture(scope="module")
def fuzz_clients(fuzz_proxy: FaultProxy, admin_token: str) -> Iterator[dict[str, ona_pats.Client]]:
    """One client per protocol, kept across examples (as an application keeps its client)."""
    clients = {
        protocol: ona_pats.Client(
            token=admin_token,
            base_url=fuzz_proxy.url,
            protocol=protocol,
            timeout=TIMEOUT,
            max_retries=0,
        )
        for protocol in ("proto", "json")
    }
    yield clients
    for client in clients.values():
        client.close()


@settings(
    max_examples=HYPOTHESIS_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    status=_STATUSES,
    content_type=_CONTENT_TYPES,
    body=_BODIES,
    encoding=_ENCODINGS,
    protocol=st.sampled_from(["proto", "json"]),
)
def test_random_response_bodies_are_a_result_or_a_typed_error(
    fuzz_proxy: FaultProxy,
    fuzz_clients: dict[str, ona_pats.Client],
    status: int,
    content_type: str,
    body: bytes,
    encoding: str | None,
    protocol: ona_pats.WireProtocol,
) -> None:
    headers = [("content-type", content_type)] if content_type else []
    if encoding is not None:
        headers.append(("content-encoding", encoding))
    response = Response(status, tuple(headers), body)
    fuzz_proxy.inject(Fault.CANNED, rpc="GetPersonalAccessToken", times=1, response=response)
    client = fuzz_clients[protocol]
    start = time.monotonic()
    try:
        pat = client.users.pats.get(personal_access_token_id=_UUID)
    except Exception as exc:  # the type is the assertion
        _check(exc, time.monotonic() - start)
    else:
        assert pat.DESCRIPTOR.name == "PersonalAccessToken"
    finally:
        fuzz_proxy.clear()


_UUID = "0b0e7e57-0000-4000-8000-000000000000"
