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
_RSS_GROWTH = 48 * _MIB
# Open fds are measured in two parts. Each client's pool holds up to two connections to the
# server, even though its calls are sequential: its connector opens a new connection as soon as
# no idle one is at hand and races it against the one that is about to come back
# (hyperium/hyper#4134), and the loser stays pooled. How soon each pool reaches its second
# connection depends on scheduling: a few seconds at full speed, the whole run on a loaded
# machine (1 CPU: never). So the sockets of established connections to the server (both ends
# are in this process) are bounded by that cap, not compared over time ...
_FD_CEILING = 2 * 2 * SOAK_CLIENTS + 64  # two connections per client, plus the server's own
# ... and every other fd (SQLite files, the listener, event loops, sockets closing or leaked
# outside a live connection) must stay steady after the warm-up.
_FD_GROWTH = 16
_ESTABLISHED = "01"  # TCP_ESTABLISHED in /proc/net/tcp: include/net/tcp_states.h
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
    unpooled_fds: list[tuple[float, int]] = field(default_factory=list)  # outside connections


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


def _established_inodes(port: int) -> set[str]:
    """The socket inodes of either end of every established TCP connection to ``port``."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for row in Path(table).read_text().splitlines()[1:]:
            local, remote, state, inode = (row.split()[i] for i in (1, 2, 3, 9))
            ports = {int(local.rsplit(":", 1)[1], 16), int(remote.rsplit(":", 1)[1], 16)}
            if state == _ESTABLISHED and port in ports:
                inodes.add(inode)
    return inodes


async def _sample(samples: _Samples, port: int, deadline: float) -> None:
    """Sample until ``deadline``: while the clients work, not while they close their
    connections (the server's ends wait in CLOSE_WAIT for a moment then, outside any pool)."""
    start = time.monotonic()
    while time.monotonic() < deadline:
        now = time.monotonic() - start
        samples.rss.append((now, rss_bytes()))
        fds = open_fds()
        pooled = _established_inodes(port)
        samples.fds.append((now, len(fds)))
        unpooled = [fd for fd in fds if fd.removeprefix("socket:[").removesuffix("]") not in pooled]
        samples.unpooled_fds.append((now, len(unpooled)))
        await asyncio.sleep(min(0.25, max(0.0, deadline - time.monotonic())))


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
        deadline = time.monotonic() + SOAK_SECONDS
        sampler = asyncio.create_task(_sample(samples, srv.port, deadline))
        await asyncio.gather(*(_work(srv.base_url, w, deadline, errors) for w in workers))
        await sampler

    assert errors == []
    calls = sum(w.calls for w in workers)
    assert calls >= SOAK_CLIENTS * 4, f"only {calls} calls in {SOAK_SECONDS}s"

    # Final reconciliation, after a restart on the same file: nothing lost, nothing revived.
    with Server(db) as again:
        for worker in workers:
            async with ona_pats.AsyncClient(token=worker.token, base_url=again.base_url) as c:
                assert await _listing(c, worker) == worker.alive, f"worker {worker.index}"

    warm = SOAK_SECONDS * 0.3
    rss_warm, rss_end = _peak(samples.rss, 0, warm), _peak(samples.rss, warm, SOAK_SECONDS * 2)
    unpooled = samples.unpooled_fds
    fds_warm, fds_end = _peak(unpooled, 0, warm), _peak(unpooled, warm, SOAK_SECONDS * 2)
    peak_fds = max(v for _, v in samples.fds)
    print(  # a summary for long runs (-s); the assertions below are the verdict
        f"soak: {SOAK_CLIENTS} clients, {calls} calls in {SOAK_SECONDS:.0f}s, "
        f"RSS {rss_warm / _MIB:.0f}->{rss_end / _MIB:.0f} MiB, fds {fds_before}->{peak_fds} "
        f"(outside connections {fds_warm}->{fds_end})"
    )
    assert rss_end - rss_warm < _RSS_GROWTH, (
        f"RSS {rss_warm / _MIB:.0f} -> {rss_end / _MIB:.0f} MiB"
    )
    assert fds_end - fds_warm <= _FD_GROWTH, f"fds outside connections {fds_warm} -> {fds_end}"
    assert peak_fds - fds_before <= _FD_CEILING, f"{peak_fds - fds_before} fds for the soak"
    deadline = time.monotonic() + 5
    while open_sockets() > sockets_before and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert open_sockets() <= sockets_before, "sockets left open after every client closed"
