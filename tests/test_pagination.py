"""Pagination: lazy pagers that follow the next token, not the item count, and stay bounded."""

from __future__ import annotations

import time
import uuid

import pytest

from ona_pats import (
    AsyncClient,
    Client,
    ConfigurationError,
    DeadlineExceededError,
    Page,
    Pager,
    PaginationError,
)
from ona_pats._pagination import MAX_EMPTY_PAGES, Cursor
from ona_pats.types import ListPersonalAccessTokensResponse, PersonalAccessToken

from .conftest import USER_ID, ScriptedServer


def _page(ids: list[str], next_token: str) -> ListPersonalAccessTokensResponse:
    response = ListPersonalAccessTokensResponse(
        personal_access_tokens=[PersonalAccessToken(id=i) for i in ids]
    )
    response.pagination.next_token = next_token
    return response


def test_cursor_follows_tokens_and_stops_on_empty_token() -> None:
    cursor = Cursor("", None, None)
    assert cursor.next_request() == ""
    assert cursor.advance((1, 2), "t1") == (1, 2)
    assert cursor.next_request() == "t1"
    assert cursor.advance((), "t2") == ()
    assert cursor.next_request() == "t2"
    cursor.advance((3,), "")
    assert cursor.next_request() is None


def test_cursor_repeated_token_raises() -> None:
    cursor = Cursor("", None, None)
    cursor.advance((1,), "t1")
    with pytest.raises(PaginationError, match="repeated"):
        cursor.advance((2,), "t1")


def test_cursor_limit_cuts_items_and_stops() -> None:
    cursor = Cursor("start", 3, None)
    assert cursor.advance((1, 2), "a") == (1, 2)
    assert cursor.advance((3, 4), "b") == (3,)
    assert cursor.next_request() is None
    assert Cursor("", 0, None).next_request() is None


def test_sync_list_is_lazy(client: Client, scripted_server: ScriptedServer) -> None:
    pager = client.users.pats.list(page_size=10)
    assert scripted_server.requests == []
    list(pager)
    assert len(scripted_server.requests) == 1


def test_sync_list_follows_next_token(client: Client, scripted_server: ScriptedServer) -> None:
    ids = {scripted_server.add_pat() for _ in range(7)}
    assert {p.id for p in client.users.pats.list(page_size=3)} == ids
    assert len(scripted_server.requests) == 3


def test_sync_empty_page_with_next_token_continues(
    client: Client, scripted_server: ScriptedServer
) -> None:
    scripted_server.expect(
        "ListPersonalAccessTokens", _page(["a"], "t1"), _page([], "t2"), _page(["b"], "")
    )
    assert [p.id for p in client.users.pats.list()] == ["a", "b"]


def test_sync_repeated_token_raises(client: Client, scripted_server: ScriptedServer) -> None:
    scripted_server.expect("ListPersonalAccessTokens", _page(["a"], "t1"), _page(["b"], "t1"))
    with pytest.raises(PaginationError):
        list(client.users.pats.list())


def test_sync_pages_expose_items_and_next_token(
    client: Client, scripted_server: ScriptedServer
) -> None:
    for _ in range(5):
        scripted_server.add_pat()
    pages = list(client.users.pats.list(page_size=2).pages())
    assert [len(p.items) for p in pages] == [2, 2, 1]
    assert [p.next_token for p in pages] == ["2", "4", ""]
    assert isinstance(pages[0], Page)
    assert pages[0].headers["content-type"].startswith("application/")


def test_sync_resume_from_token_and_limit(client: Client, scripted_server: ScriptedServer) -> None:
    for _ in range(6):
        scripted_server.add_pat()
    resumed = list(client.users.pats.list(page_size=2, token="2"))
    assert len(resumed) == 4
    assert len(scripted_server.requests) == 2
    limited = list(client.users.pats.list(page_size=2, limit=3))
    assert len(limited) == 3
    assert len(scripted_server.requests) == 4  # the limit stops fetching


def test_sync_page_size_and_filter_are_sent(
    client: Client, scripted_server: ScriptedServer
) -> None:
    seen: list[tuple[int, list[str], str]] = []

    def record(request: object) -> ListPersonalAccessTokensResponse:
        seen.append(
            (request.pagination.page_size, list(request.filter.user_ids), request.pagination.token)  # type: ignore[attr-defined]
        )
        return _page([], "" if len(seen) > 1 else "next")

    scripted_server.expect("ListPersonalAccessTokens", record, record)
    list(client.users.pats.list(filter={"user_ids": [USER_ID]}, page_size=20))
    assert seen == [(20, [USER_ID], ""), (20, [USER_ID], "next")]


@pytest.mark.anyio
async def test_async_list_follows_next_token(
    async_client: AsyncClient, scripted_server: ScriptedServer
) -> None:
    ids = {scripted_server.add_pat() for _ in range(5)}
    assert {p.id async for p in async_client.users.pats.list(page_size=2)} == ids


@pytest.mark.anyio
async def test_async_empty_page_with_next_token_continues(
    async_client: AsyncClient, scripted_server: ScriptedServer
) -> None:
    scripted_server.expect(
        "ListPersonalAccessTokens", _page([], "t1"), _page([], "t2"), _page(["z"], "")
    )
    assert [p.id async for p in async_client.users.pats.list()] == ["z"]


@pytest.mark.anyio
async def test_async_repeated_token_raises(
    async_client: AsyncClient, scripted_server: ScriptedServer
) -> None:
    scripted_server.expect("ListPersonalAccessTokens", _page(["a"], "x"), _page(["b"], "x"))
    with pytest.raises(PaginationError):
        [p async for p in async_client.users.pats.list()]


@pytest.mark.anyio
async def test_async_pages_and_limit(
    async_client: AsyncClient, scripted_server: ScriptedServer
) -> None:
    for _ in range(5):
        scripted_server.add_pat()
    pages = [p async for p in async_client.users.pats.list(page_size=2, limit=3).pages()]
    assert [len(p.items) for p in pages] == [2, 1]


def _endless(request: object) -> ListPersonalAccessTokensResponse:
    """An empty page with a new next token, every time."""
    del request
    return _page([], uuid.uuid4().hex)


def _slow_page(request: object) -> ListPersonalAccessTokensResponse:
    """A page with one item after 0.15 s, with a new next token, every time."""
    del request
    time.sleep(0.15)
    return _page([uuid.uuid4().hex], uuid.uuid4().hex)


@pytest.mark.parametrize("limit", [None, 10])
def test_sync_endless_empty_pages_stop(
    client: Client, scripted_server: ScriptedServer, limit: int | None
) -> None:
    """A server answering empty pages with new tokens cannot keep a listing going.

    Before the bound, this listing never ended (the CLI sent 43,509 requests in 20 s).
    """
    scripted_server.expect("ListPersonalAccessTokens", *[_endless] * 100)
    with pytest.raises(PaginationError, match="pages without items"):
        list(client.users.pats.list(limit=limit))
    assert len(scripted_server.requests) == MAX_EMPTY_PAGES + 1


@pytest.mark.anyio
async def test_async_endless_empty_pages_stop(
    async_client: AsyncClient, scripted_server: ScriptedServer
) -> None:
    scripted_server.expect("ListPersonalAccessTokens", *[_endless] * 100)
    with pytest.raises(PaginationError, match="pages without items"):
        [p async for p in async_client.users.pats.list(limit=10)]
    assert len(scripted_server.requests) == MAX_EMPTY_PAGES + 1


def test_limit_bounds_the_requests_of_a_listing() -> None:
    """``limit=N`` sends at most ``N + MAX_EMPTY_PAGES`` requests, whatever the server does."""
    requests = 0

    def fetch(token: str, not_after: float | None) -> Page[str]:
        nonlocal requests
        requests += 1
        items = [] if requests % 2 else ["x"]
        return Page(items, f"t{requests}")

    assert len(list(Pager(fetch, limit=5))) == 5
    assert requests <= 5 + MAX_EMPTY_PAGES


def test_sync_total_timeout_bounds_the_whole_listing(
    client: Client, scripted_server: ScriptedServer
) -> None:
    """Each page is quick, the listing is endless: ``total_timeout`` ends it, with the
    listing's own deadline passed down to each page's call."""
    scripted_server.expect("ListPersonalAccessTokens", *[_slow_page] * 100)
    started = time.monotonic()
    with pytest.raises(DeadlineExceededError):
        list(client.users.pats.list(total_timeout=0.5))
    assert time.monotonic() - started < 2.0
    assert 2 <= len(scripted_server.requests) <= 5


@pytest.mark.anyio
async def test_async_total_timeout_bounds_the_whole_listing(
    async_client: AsyncClient, scripted_server: ScriptedServer
) -> None:
    scripted_server.expect("ListPersonalAccessTokens", *[_slow_page] * 100)
    started = time.monotonic()
    with pytest.raises(DeadlineExceededError):
        [p async for p in async_client.users.pats.list(total_timeout=0.5)]
    assert time.monotonic() - started < 2.0


def test_total_timeout_is_checked(client: Client) -> None:
    with pytest.raises(ConfigurationError, match="timeout"):
        client.users.pats.list(total_timeout=-1)
