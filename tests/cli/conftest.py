"""Fixtures of the CLI tests: the plugin's embedded server (``ona_pats_server``, one per
session), a fresh user per test, and the environment of a CLI run as that user."""

from __future__ import annotations

import pytest

from ona_pats.server import IssuedToken, Server

from . import _run


@pytest.fixture(scope="session")
def server(ona_pats_server: Server) -> Server:
    """The embedded server on a free loopback port with a temporary database."""
    return ona_pats_server


@pytest.fixture
def user(server: Server) -> IssuedToken:
    """A new user's read-write token (``.token``, ``.user_id``), made directly in the store."""
    return server.create_user_token(description="cli test user")


@pytest.fixture
def env(server: Server, user: IssuedToken) -> dict[str, str]:
    """The environment of a CLI run as ``user`` against ``server``."""
    return _run.environment(server.base_url, user.token)
