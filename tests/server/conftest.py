"""Fixtures of the server tests: a fresh embedded server per test, users, raw Connect clients."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from connectrpc.codec import Codec
from connectrpc.compat import google_protobuf_binary_codec

from ona_pats._json import ProtoJSONCodec
from ona_pats.rpc import UserServiceClientSync
from ona_pats.server import IssuedToken, Server
from ona_pats.types import ListPersonalAccessTokensRequest, PaginationRequest

#: The two codecs every Connect client may pick, by the name tests use in ids.
CODECS: dict[str, Codec[Any, Any]] = {
    "proto": google_protobuf_binary_codec(),
    "json": ProtoJSONCodec(),
}


def bearer(token: str) -> dict[str, str]:
    """The ``Authorization`` header for ``token``."""
    return {"authorization": f"Bearer {token}"}


@pytest.fixture
def anyio_backend() -> str:
    """Run ``@pytest.mark.anyio`` tests on asyncio only."""
    return "asyncio"


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    """The embedded server of a test module (temporary database, free loopback port).

    Tests share it, each with its own new users; one that needs the whole database to
    itself (the admin's view of everything) uses ``fresh_server``.
    """
    with Server() as srv:
        yield srv


@pytest.fixture
def fresh_server() -> Iterator[Server]:
    """An embedded server of this test alone."""
    with Server() as srv:
        yield srv


@pytest.fixture
def admin(server: Server) -> dict[str, str]:
    """The bootstrap admin token's headers."""
    assert server.admin_token is not None
    return bearer(server.admin_token)


@pytest.fixture
def alice(server: Server) -> IssuedToken:
    """A read-write token of a new user, alice."""
    return server.create_user_token(description="alice laptop")


@pytest.fixture
def bob(server: Server) -> IssuedToken:
    """A read-write token of another new user, bob."""
    return server.create_user_token(description="bob laptop")


@pytest.fixture(params=sorted(CODECS))
def codec_name(request: pytest.FixtureRequest) -> str:
    """Each codec in turn: ``json`` and ``proto``."""
    name: str = request.param
    return name


@pytest.fixture
def rpc(server: Server, codec_name: str) -> Iterator[UserServiceClientSync]:
    """The generated sync Connect client with the codec of ``codec_name`` (gzip requests)."""
    with UserServiceClientSync(server.base_url, codec=CODECS[codec_name]) as client:
        yield client


@pytest.fixture
def http(server: Server) -> Iterator[httpx.Client]:
    """A raw HTTP client aimed at the server, for what a Connect client would hide."""
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        yield client


def list_request(
    *user_ids: str, page_size: int = 0, token: str = ""
) -> ListPersonalAccessTokensRequest:
    """A ListPersonalAccessTokens request for ``user_ids`` (none: no filter)."""
    return ListPersonalAccessTokensRequest(
        filter=ListPersonalAccessTokensRequest.Filter(user_ids=user_ids),
        pagination=PaginationRequest(page_size=page_size, token=token),
    )
