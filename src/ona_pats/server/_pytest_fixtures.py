"""The fixtures of the ona-pats pytest plugin (see :mod:`ona_pats._pytest_plugin`).

One embedded server per test session; each test gets its own user, token and clients, so
tests never see each other's tokens. Requesting ``ona_pats_faults`` puts a
:class:`FaultInjector` between the clients of that test and the server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

# The client and the server are imported when a fixture is first used, not when pytest loads
# the plugin: a test run that uses none of them pays nothing.
if TYPE_CHECKING:
    from ona_pats import AsyncClient, Client
    from ona_pats.server import FaultInjector, IssuedToken, Server

__all__ = [
    "ona_pats_async_client",
    "ona_pats_client",
    "ona_pats_faults",
    "ona_pats_server",
    "ona_pats_user",
]


@pytest.fixture(scope="session")
def ona_pats_server() -> Iterator[Server]:
    """The embedded UserService on a free loopback port, with a temporary database."""
    from ona_pats.server import Server

    with Server(port=0) as server:
        yield server


@pytest.fixture
def ona_pats_user(ona_pats_server: Server) -> IssuedToken:
    """A new user with a read-write token: ``.token``, ``.user_id``, ``.id``, ``.pat``."""
    return ona_pats_server.create_user_token(description="pytest")


@pytest.fixture
def ona_pats_faults(ona_pats_server: Server) -> Iterator[FaultInjector]:
    """A fault-injecting proxy that this test's ``ona_pats_client`` and
    ``ona_pats_async_client`` talk through: ``.unavailable(rpc)``, ``.drop(rpc)``."""
    from ona_pats.server import FaultInjector

    with FaultInjector(ona_pats_server.base_url) as faults:
        yield faults


def _base_url(request: pytest.FixtureRequest, server: Server) -> str:
    if "ona_pats_faults" in request.fixturenames:
        faults: FaultInjector = request.getfixturevalue("ona_pats_faults")
        return faults.base_url
    return server.base_url


@pytest.fixture
def ona_pats_client(
    request: pytest.FixtureRequest, ona_pats_server: Server, ona_pats_user: IssuedToken
) -> Iterator[Client]:
    """A :class:`~ona_pats.Client` holding ``ona_pats_user``'s token; closed after the test."""
    from ona_pats import Client

    with Client(token=ona_pats_user.token, base_url=_base_url(request, ona_pats_server)) as client:
        yield client


@pytest.fixture
def ona_pats_async_client(
    request: pytest.FixtureRequest, ona_pats_server: Server, ona_pats_user: IssuedToken
) -> Iterator[AsyncClient]:
    """An :class:`~ona_pats.AsyncClient` holding ``ona_pats_user``'s token, for async tests
    (any event loop); closed after the test."""
    from ona_pats import AsyncClient

    client = AsyncClient(token=ona_pats_user.token, base_url=_base_url(request, ona_pats_server))
    yield client
    asyncio.run(client.aclose())
