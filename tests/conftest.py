"""Shared fixtures: the scripted server (``tests/_fake.py``: the fake service on the loopback
harness) for each test, and clients of it in each protocol."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ona_pats import AsyncClient, Client

from ._fake import USER_ID, RawHTTP, Recorded, ScriptedServer

__all__ = [
    "MISSING_ID",
    "OTHER_USER_ID",
    "TOKEN",
    "USER_ID",
    "RawHTTP",
    "Recorded",
    "ScriptedServer",
]

TOKEN = "test-token-5f0c2a9e-secret"
OTHER_USER_ID = "0b6f1d6e-8c1c-4b7e-9f43-2d6a4f1e2c11"
MISSING_ID = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="session")
def _server_process() -> Iterator[ScriptedServer]:
    server = ScriptedServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def scripted_server(_server_process: ScriptedServer) -> Iterator[ScriptedServer]:
    """The loopback server, reset for this test: empty store, no queued actions."""
    _server_process.script.reset()
    yield _server_process
    _server_process.script.reset()


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove every environment variable the client reads."""
    for name in (
        "ONA_API_KEY",
        "GITPOD_API_KEY",
        "GITPOD_TOKEN",
        "ONA_BASE_URL",
        "GITPOD_BASE_URL",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
    ):
        monkeypatch.delenv(name, raising=False)


class Sleeps(list[float]):
    """An injected sleep that records the delays instead of waiting."""

    def __call__(self, delay: float) -> None:
        self.append(delay)


class AsyncSleeps(list[float]):
    """The async twin of :class:`Sleeps`."""

    async def __call__(self, delay: float) -> None:
        self.append(delay)


@pytest.fixture
def sleeps() -> Sleeps:
    """A recording sleep for ``Client(sleep=...)``."""
    return Sleeps()


@pytest.fixture
def async_sleeps() -> AsyncSleeps:
    """A recording sleep for ``AsyncClient(sleep=...)``."""
    return AsyncSleeps()


@pytest.fixture(params=["proto", "json"])
def protocol(request: pytest.FixtureRequest) -> str:
    """Both wire protocols."""
    return str(request.param)


@pytest.fixture
def client(
    scripted_server: ScriptedServer, protocol: str, sleeps: Sleeps, no_env: None
) -> Iterator[Client]:
    """A sync client of the scripted server, in each protocol, that never really sleeps."""
    with Client(
        token=TOKEN,
        base_url=scripted_server.url,
        protocol=protocol,  # type: ignore[arg-type]
        sleep=sleeps,
    ) as c:
        yield c


@pytest.fixture
async def async_client(
    scripted_server: ScriptedServer, protocol: str, async_sleeps: AsyncSleeps, no_env: None
) -> Any:
    """An async client of the scripted server, in each protocol, that never really sleeps."""
    async with AsyncClient(
        token=TOKEN,
        base_url=scripted_server.url,
        protocol=protocol,  # type: ignore[arg-type]
        sleep=async_sleeps,
    ) as c:
        yield c


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on asyncio only."""
    return "asyncio"
