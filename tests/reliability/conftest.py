"""Fixtures of the reliability tests: the embedded server behind the fault proxy, and audits."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ona_pats.server import Server

from . import _audit
from ._audit import AUDIT
from ._faultproxy import FaultProxy
from ._support import proxied


def pytest_configure(config: pytest.Config) -> None:
    _audit.pytest_configure(config)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    """An embedded server per module (temporary SQLite file, free loopback port)."""
    with Server() as srv:
        AUDIT.secret(srv.admin_token)
        yield srv


@pytest.fixture(scope="module")
def admin_token(server: Server) -> str:
    token = server.admin_token
    assert token is not None
    return token


@pytest.fixture
def proxy(server: Server) -> Iterator[FaultProxy]:
    """The fault proxy in front of :func:`server`, injecting nothing until told."""
    with proxied(server.base_url) as proxy:
        yield proxy


@pytest.fixture
def no_sleep() -> list[float]:
    """A record of the backoff sleeps a client asked for, none of them taken."""
    return []
