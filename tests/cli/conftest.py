"""Fixtures of the CLI tests: one embedded server on loopback, a fresh user per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ona_pats.server import IssuedToken, Server

from . import _run


@pytest.fixture(scope="session")
def server() -> Iterator[Server]:
    """The embedded server on a free loopback port with a temporary database."""
    with Server(port=0) as srv:
        yield srv


@pytest.fixture
def user(server: Server) -> IssuedToken:
    """A new user's read-write token (``.token``, ``.user_id``), made directly in the store."""
    return server.create_user_token(description="cli test user")


@pytest.fixture
def env(server: Server, user: IssuedToken) -> dict[str, str]:
    """The environment of a CLI run as ``user`` against ``server``."""
    return _run.environment(server.base_url, user.token)
