"""Soak through faults: 50 concurrent clients create, list, get and delete against the embedded
server through the fault proxy at a 1 % rate of transient faults (dropped connections before or
after the server saw the request, cut responses, 503 and 429) for ``ONA_PATS_FAULT_SOAK_SECONDS``
(30 s by default). The server never answers 5xx itself; a final reconciliation without faults
finds no token lost (every acknowledged create that was not deleted is there) and none
duplicated (every create attempt has its own description, seen at most once), and deleted
tokens stay deleted. Calls whose outcome the client cannot know (a write cut after the server
saw it) may have happened or not; the p99 latency of the calls is printed."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest

import ona_pats
from ona_pats.server import Server

from ._audit import AUDIT
from ._faultproxy import TRANSIENT, FaultProxy
from ._settings import FAULT_SEED, FAULT_SOAK_SECONDS, SOAK_CLIENTS

_RATE = 0.01
_KEEP = 3


@dataclass
class _Worker:
    index: int
    user_id: str
    token: str
    alive: dict[str, str] = field(default_factory=dict)  # acknowledged, not deleted
    deleted: set[str] = field(default_factory=set)  # acknowledged deletes
    uncertain: set[str] = field(default_factory=set)  # outcome unknown to the client
    latencies: list[float] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)

    @property
    def prefix(self) -> str:
        return f"fsoak-{self.index}-"


async def _timed(worker: _Worker, call: object) -> object:
    started = time.monotonic()
    try:
        return await call  # type: ignore[misc]
    finally:
        worker.latencies.append(time.monotonic() - started)


async def _work(url: str, worker: _Worker, deadline: float) -> None:
    async with ona_pats.AsyncClient(token=worker.token, base_url=url, timeout=30.0) as client:
        pats = client.users.pats
        n = 0
        while time.monotonic() < deadline:
            n += 1
            description = f"{worker.prefix}{n}"
            try:
                secret = await _timed(
                    worker,
                    pats.create(
                        user_id=worker.user_id,
                        description=description,
                        valid_for=timedelta(days=1),
                    ),
                )
                AUDIT.secret(str(secret))
            except ona_pats.APIError as exc:
                _note(worker, exc, description)
                continue
            try:
                listed = await _timed(worker, _list(pats, worker.prefix))
                assert isinstance(listed, dict)
                worker.alive[description] = listed[description]
                await _timed(worker, pats.get(personal_access_token_id=listed[description]))
                if len(worker.alive) > _KEEP:
                    victim = sorted(worker.alive)[0]
                    pat_id = worker.alive.pop(victim)
                    try:
                        await _timed(worker, pats.delete(personal_access_token_id=pat_id))
                        worker.deleted.add(victim)
                    except ona_pats.APIError as exc:
                        _note(worker, exc, victim)
            except ona_pats.APIError as exc:
                _note(worker, exc, description)


async def _list(pats: ona_pats.AsyncPats, prefix: str) -> dict[str, str]:
    return {
        p.description: p.id
        async for p in pats.list(page_size=5)
        if p.description.startswith(prefix)
    }


def _note(worker: _Worker, exc: ona_pats.APIError, description: str) -> None:
    """A failed call: its write may or may not have happened; a server error is unexpected."""
    AUDIT.exception(exc)
    worker.uncertain.add(description)
    if isinstance(exc, ona_pats.InternalError | ona_pats.UnknownError) and not isinstance(
        exc, ona_pats.InvalidResponseError
    ):
        worker.unexpected.append(f"{type(exc).__name__}: {exc}")


@pytest.mark.slow
@pytest.mark.anyio
async def test_soak_through_one_percent_faults_loses_and_duplicates_nothing(
    tmp_path: Path,
) -> None:
    with Server(tmp_path / "fsoak.sqlite3") as srv, FaultProxy(srv.base_url) as proxy:
        AUDIT.secret(srv.admin_token)
        proxy.set_rate(_RATE, TRANSIENT, seed=FAULT_SEED)
        workers = []
        for i in range(SOAK_CLIENTS):
            issued = srv.create_user_token(description=f"fsoak auth {i}")
            AUDIT.secret(issued.token)
            workers.append(_Worker(i, issued.user_id, issued.token))
        deadline = time.monotonic() + FAULT_SOAK_SECONDS
        await asyncio.gather(*(_work(proxy.url, w, deadline) for w in workers))
        proxy.clear()
        server_errors = [e for e in proxy.exchanges if e.fault is None and (e.status or 0) >= 500]
        faults = sum(1 for e in proxy.exchanges if e.fault is not None)
        exchanges = len(proxy.exchanges)

        for worker in workers:
            async with ona_pats.AsyncClient(token=worker.token, base_url=srv.base_url) as c:
                seen = Counter(
                    [
                        p.description
                        async for p in c.users.pats.list()
                        if p.description.startswith(worker.prefix)
                    ]
                )
            assert all(count == 1 for count in seen.values()), f"duplicated: {seen}"
            lost = set(worker.alive) - set(seen) - worker.uncertain
            assert not lost, f"worker {worker.index} lost {sorted(lost)}"
            revived = (worker.deleted & set(seen)) - worker.uncertain
            assert not revived, f"worker {worker.index}: deleted yet listed {sorted(revived)}"

    assert server_errors == []
    assert [u for w in workers for u in w.unexpected] == []
    latencies = sorted(t for w in workers for t in w.latencies)
    assert len(latencies) >= SOAK_CLIENTS * 10
    assert faults > 0, "the proxy injected faults"
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    print(  # the soak line: a figure to read with -s, not a verdict
        f"fault soak: {SOAK_CLIENTS} clients, {FAULT_SOAK_SECONDS:.0f} s, {exchanges} requests, "
        f"{faults} faults ({_RATE:.0%}), {len(latencies)} calls, "
        f"p50 {statistics.median(latencies) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms"
    )
