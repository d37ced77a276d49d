"""Soak: 50 concurrent clients create, list, get and delete against the embedded server.

For ``ONA_PATS_SOAK_SECONDS`` (about 12 s in CI; set it to 600 for a real soak), each client
works on its own user's tokens and checks after every write that its listing shows exactly
what it wrote. At the end, after a restart of the server on the same SQLite file, a final
reconciliation finds every token that was created and not deleted, and none other. No error
of any kind is expected, and the process's memory (RSS) and file descriptors stay steady.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest

import ona_pats
from ona_pats.server import Server

from ._audit import AUDIT
from ._settings import FAULT_SEED, SOAK_CLIENTS, SOAK_SECONDS
from ._support import open_fds, open_sockets, rss_bytes

_MIB = 1024 * 1024
# Allowed growth between the warm-up (first half) and the end (second half) of the run. Open
# fds move with how many pooled connections each client holds at the moment (one, sometimes
# two while an idle one expires), so they may drift by a few per client but never with the
# number of calls; a long run (ONA_PATS_SOAK_SECONDS) shows a slow leak as a breach.
_RSS_GROWTH = 48 * _MIB
_FD_GROWTH = 16 + SOAK_CLIENTS // 2
# What the clients can legitimately hold at once: two connections each, with both ends of
# every connection in this process, plus the server's own (SQLite, listener, threads).
_FD_CEILING = 4 * SOAK_CLIENTS + 64
_KEEP = 4  # tokens each client keeps alive before it deletes one


@dataclass
class _Worker:
    index: int
    user_id: str
    token: str
    alive: dict[str, str] = field(default_factory=dict)  # description -> id
    calls: int = 0

    @property
    def prefix(self) -> str:
        return f"soak-{self.index}-"


@dataclass
class _Samples:
    rss: list[tuple[float, int]] = field(default_factory=list)
    fds: list[tuple[float, int]] = field(default_factory=list)


async def _listing(client: ona_pats.AsyncClient, worker: _Worker) -> dict[str, str]:
    worker.calls += 1
    return {
        pat.description: pat.id
        async for pat in client.users.pats.list(page_size=3)
        if pat.description.startswith(worker.prefix)
    }


async def _work(server_url: str, worker: _Worker, deadline: float, errors: list[str]) -> None:
    rng = random.Random(FAULT_SEED + worker.index)
    async with ona_pats.AsyncClient(
        token=worker.token, base_url=server_url, timeout=30.0
    ) as client:
        n = 0
        while time.monotonic() < deadline:
            n += 1
            description = f"{worker.prefix}{n}"
            try:
                secret = await client.users.pats.create(
                    user_id=worker.user_id, description=description, valid_for=timedelta(days=1)
                )
                AUDIT.secret(secret)
                listed = await _listing(client, worker)
                new_id = listed.get(description)
                assert new_id is not None, f"{description} missing right after its create"
                worker.alive[description] = new_id
                assert listed == worker.alive, (sorted(listed), sorted(worker.alive))
                got = await client.users.pats.get(personal_access_token_id=new_id)
                assert got.description == description
                if len(worker.alive) > _KEEP:
                    victim = rng.choice(sorted(worker.alive))
                    await client.users.pats.delete(personal_access_token_id=worker.alive[victim])
                    del worker.alive[victim]
                worker.calls += 3
            except Exception as exc:
                AUDIT.exception(exc)
                errors.append(f"worker {worker.index} op {n}: {type(exc).__name__}: {exc}")
                return


async def _sample(samples: _Samples, stop: asyncio.Event) -> None:
    start = time.monotonic()
    while not stop.is_set():
        now = time.monotonic() - start
        samples.rss.append((now, rss_bytes()))
        samples.fds.append((now, len(open_fds())))
        try:
            await asyncio.wait_for(stop.wait(), 0.25)
        except TimeoutError:
            continue


def _peak(series: list[tuple[float, int]], start: float, end: float) -> int:
    return max((v for t, v in series if start <= t <= end), default=0)


@pytest.fixture
def quiet_logs() -> Iterator[None]:
    """Per-request DEBUG records would be kept by pytest's log capture for the whole run and
    read as a leak; the soak measures the library, so the root logger waits at WARNING."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.WARNING)
    noisy = [logging.getLogger(n) for n in ("pyqwest", "pyqwest.access", "ona_pats", "uvicorn")]
    levels = [logger.level for logger in noisy]
    for logger in noisy:
        logger.setLevel(logging.WARNING)
    yield
    root.setLevel(level)
    for logger, old in zip(noisy, levels, strict=True):
        logger.setLevel(old)


@pytest.mark.slow
@pytest.mark.anyio
@pytest.mark.usefixtures("quiet_logs")
async def test_soak_many_clients_no_errors_no_lost_writes_steady_resources(
    tmp_path: Path,
) -> None:
    db = tmp_path / "soak.sqlite3"
    sockets_before = open_sockets()
    fds_before = len(open_fds())
    errors: list[str] = []
    samples = _Samples()
    with Server(db) as srv:
        AUDIT.secret(srv.admin_token)
        workers = []
        for i in range(SOAK_CLIENTS):
            issued = srv.create_user_token(description=f"soak auth {i}")
            AUDIT.secret(issued.token)
            workers.append(_Worker(i, issued.user_id, issued.token))
        stop = asyncio.Event()
        sampler = asyncio.create_task(_sample(samples, stop))
        deadline = time.monotonic() + SOAK_SECONDS
        await asyncio.gather(*(_work(srv.base_url, w, deadline, errors) for w in workers))
        stop.set()
        await sampler

    assert errors == []
    calls = sum(w.calls for w in workers)
    assert calls >= SOAK_CLIENTS * 4, f"only {calls} calls in {SOAK_SECONDS}s"

    # Final reconciliation, after a restart on the same file: nothing lost, nothing revived.
    with Server(db) as again:
        for worker in workers:
            async with ona_pats.AsyncClient(token=worker.token, base_url=again.base_url) as c:
                assert await _listing(c, worker) == worker.alive, f"worker {worker.index}"

    warm = SOAK_SECONDS * 0.5
    rss_warm, rss_end = _peak(samples.rss, 0, warm), _peak(samples.rss, warm, SOAK_SECONDS * 2)
    fds_warm, fds_end = _peak(samples.fds, 0, warm), _peak(samples.fds, warm, SOAK_SECONDS * 2)
    print(  # a summary for long runs (-s); the assertions below are the verdict
        f"soak: {SOAK_CLIENTS} clients, {calls} calls in {SOAK_SECONDS:.0f}s, "
        f"RSS {rss_warm / _MIB:.0f}->{rss_end / _MIB:.0f} MiB, fds {fds_warm}->{fds_end}"
    )
    assert rss_end - rss_warm < _RSS_GROWTH, (
        f"RSS {rss_warm / _MIB:.0f} -> {rss_end / _MIB:.0f} MiB"
    )
    assert fds_end - fds_warm <= _FD_GROWTH, f"fds {fds_warm} -> {fds_end}"
    peak_fds = max(v for _, v in samples.fds)
    assert peak_fds - fds_before <= _FD_CEILING, f"{peak_fds - fds_before} fds for the soak"
    deadline = time.monotonic() + 5
    while open_sockets() > sockets_before and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert open_sockets() <= sockets_before, "sockets left open after every client closed"
