"""The async client under 1,000 concurrent calls with faults: no deadlock, no leaked connection.

Connections are counted twice: at the proxy (accepted, still open) and in this process
(open socket file descriptors, which also see the client's pool from the inside).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator

import pytest

import ona_pats
from ona_pats.server import Server

from ._audit import AUDIT
from ._faultproxy import TRANSIENT, Fault, FaultProxy
from ._settings import CONCURRENT_CALLS, FAULT_RATE, FAULT_SEED
from ._support import open_sockets, proxied

# A deadlock would hold the calls for ever; this bounds the test, not the client.
_WALL_LIMIT = 90.0
_SETTLE = 5.0


@pytest.fixture
def busy_proxy(server: Server) -> Iterator[FaultProxy]:
    with proxied(server.base_url, delay=0.5) as proxy:
        yield proxy


async def _settle(condition: object, timeout: float = _SETTLE) -> bool:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


async def _run_calls(client: ona_pats.AsyncClient, ids: list[str]) -> Counter[str]:
    async def one(i: int) -> str:
        try:
            if i % 10 == 0:
                page = await anext(aiter(client.users.pats.list(page_size=5).pages()))
                assert page.items is not None
            else:
                pat = await client.users.pats.get(personal_access_token_id=ids[i % len(ids)])
                assert pat.id == ids[i % len(ids)]
        except ona_pats.OnaPatsError as exc:
            AUDIT.exception(exc)
            return type(exc).__name__
        return "ok"

    results = await asyncio.wait_for(
        asyncio.gather(*(one(i) for i in range(CONCURRENT_CALLS))), _WALL_LIMIT
    )
    return Counter(results)


@pytest.mark.slow
@pytest.mark.anyio
async def test_async_concurrent_calls_with_faults_neither_deadlock_nor_leak_connections(
    server: Server, busy_proxy: FaultProxy, admin_token: str
) -> None:
    ids = [server.create_user_token(server.admin_user_id).id for _ in range(20)]
    sockets_before = open_sockets()
    kinds = (*TRANSIENT, Fault.DELAY)
    busy_proxy.set_rate(FAULT_RATE, kinds, seed=FAULT_SEED)

    async def no_sleep(_seconds: float) -> None:
        await asyncio.sleep(0)

    async with ona_pats.AsyncClient(
        token=admin_token, base_url=busy_proxy.url, timeout=20.0, max_retries=5, sleep=no_sleep
    ) as client:
        outcomes = await _run_calls(client, ids)
        busy_proxy.clear()
        # The client still works after the storm, on the connections it kept.
        assert (await client.users.pats.get(personal_access_token_id=ids[0])).id == ids[0]
        peak = busy_proxy.connections_accepted
    assert sum(outcomes.values()) == CONCURRENT_CALLS
    assert outcomes["ok"] >= CONCURRENT_CALLS * 0.95, outcomes
    assert sum(busy_proxy.faults().values()) > 0
    closed = await _settle(lambda: busy_proxy.connections_open == 0)
    assert closed, f"{busy_proxy.connections_open} of {peak} connections still open after aclose()"
    settled = await _settle(lambda: open_sockets() <= sockets_before)
    assert settled, f"sockets: {sockets_before} before, {open_sockets()} after aclose()"


@pytest.mark.anyio
async def test_async_client_reuses_connections_without_faults(
    server: Server, busy_proxy: FaultProxy, admin_token: str
) -> None:
    """Sequential calls share one keep-alive connection; closing the client closes it."""
    ids = [server.create_user_token(server.admin_user_id).id for _ in range(3)]
    async with ona_pats.AsyncClient(token=admin_token, base_url=busy_proxy.url) as client:
        for _ in range(50):
            await client.users.pats.get(personal_access_token_id=ids[0])
    assert busy_proxy.connections_accepted == 1
    assert await _settle(lambda: busy_proxy.connections_open == 0)


def test_sync_client_reuses_connections_and_closes_them(
    server: Server, busy_proxy: FaultProxy, admin_token: str
) -> None:
    ids = [server.create_user_token(server.admin_user_id).id for _ in range(3)]
    sockets_before = open_sockets()
    with ona_pats.Client(token=admin_token, base_url=busy_proxy.url) as client:
        for _ in range(50):
            client.users.pats.get(personal_access_token_id=ids[0])
    assert busy_proxy.connections_accepted == 1
    deadline = time.monotonic() + _SETTLE
    while busy_proxy.connections_open or open_sockets() > sockets_before:
        assert time.monotonic() < deadline, (busy_proxy.connections_open, open_sockets())
        time.sleep(0.05)
