"""A minimal in-memory UserService on the generated ASGI app, to test the fault proxy itself.

The guarantee tests run against the real embedded server (``ona_pats.server``); this stub only
lets the proxy's own tests run without it, with a known, simple pagination scheme.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import uvicorn
from connectrpc.code import Code
from connectrpc.errors import ConnectError
from connectrpc.request import RequestContext

from ona_pats.rpc import UserServiceASGIApplication
from ona_pats.types import (
    CreatePersonalAccessTokenRequest,
    CreatePersonalAccessTokenResponse,
    DeletePersonalAccessTokenRequest,
    DeletePersonalAccessTokenResponse,
    GetPersonalAccessTokenRequest,
    GetPersonalAccessTokenResponse,
    ListPersonalAccessTokensRequest,
    ListPersonalAccessTokensResponse,
    PersonalAccessToken,
)

USER_ID = "7a0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d"


class StubUserService:
    """Tokens in a dict; the next token is the decimal offset of the next item."""

    def __init__(self, count: int = 0) -> None:
        self.pats: dict[str, PersonalAccessToken] = {}
        for i in range(count):
            pat = PersonalAccessToken(id=str(uuid.UUID(int=i + 1)), user_id=USER_ID)
            pat.description = f"token {i}"
            pat.created_at.FromSeconds(1_700_000_000 + i)
            self.pats[pat.id] = pat

    async def create_personal_access_token(
        self, request: CreatePersonalAccessTokenRequest, ctx: RequestContext[Any, Any], /
    ) -> CreatePersonalAccessTokenResponse:
        pat = PersonalAccessToken(id=str(uuid.uuid4()), user_id=request.user_id)
        self.pats[pat.id] = pat
        return CreatePersonalAccessTokenResponse(token=f"secret-{pat.id}")

    async def get_personal_access_token(
        self, request: GetPersonalAccessTokenRequest, ctx: RequestContext[Any, Any], /
    ) -> GetPersonalAccessTokenResponse:
        pat = self.pats.get(request.personal_access_token_id)
        if pat is None:
            raise ConnectError(Code.NOT_FOUND, "no such token")
        return GetPersonalAccessTokenResponse(pat=pat)

    async def list_personal_access_tokens(
        self, request: ListPersonalAccessTokensRequest, ctx: RequestContext[Any, Any], /
    ) -> ListPersonalAccessTokensResponse:
        token = request.pagination.token
        if token and not token.isdigit():
            raise ConnectError(Code.INVALID_ARGUMENT, "pagination.token: malformed")
        start = int(token or 0)
        size = request.pagination.page_size or 25
        items = list(self.pats.values())[start : start + size]
        response = ListPersonalAccessTokensResponse(personal_access_tokens=items)
        if start + size < len(self.pats):
            response.pagination.next_token = str(start + size)
        return response

    async def delete_personal_access_token(
        self, request: DeletePersonalAccessTokenRequest, ctx: RequestContext[Any, Any], /
    ) -> DeletePersonalAccessTokenResponse:
        if self.pats.pop(request.personal_access_token_id, None) is None:
            raise ConnectError(Code.NOT_FOUND, "no such token")
        return DeletePersonalAccessTokenResponse()


@contextlib.contextmanager
def serve_asgi(app: Any) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port in a thread; yield its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="stub-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@contextlib.contextmanager
def stub_server(count: int = 0) -> Iterator[tuple[str, StubUserService]]:
    """The stub service with ``count`` tokens, served on loopback."""
    service = StubUserService(count)
    with serve_asgi(UserServiceASGIApplication(service)) as url:
        yield url, service


class EndlessPages(StubUserService):
    """A listing that never ends: every page has a new next token (and one item, or none)."""

    def __init__(self, delay: float, empty: bool) -> None:
        super().__init__()
        self.delay = delay
        self.empty = empty

    async def list_personal_access_tokens(
        self, request: ListPersonalAccessTokensRequest, ctx: RequestContext[Any, Any], /
    ) -> ListPersonalAccessTokensResponse:
        import asyncio

        await asyncio.sleep(self.delay)
        response = ListPersonalAccessTokensResponse()
        if not self.empty:
            response.personal_access_tokens.add(id=str(uuid.uuid4()), user_id=USER_ID)
        response.pagination.next_token = uuid.uuid4().hex
        return response


@contextlib.contextmanager
def serve_list_pages(delay: float, empty: bool = False) -> Iterator[str]:
    """Serve :class:`EndlessPages` on loopback; yield its base URL."""
    with serve_asgi(UserServiceASGIApplication(EndlessPages(delay, empty))) as url:
        yield url
