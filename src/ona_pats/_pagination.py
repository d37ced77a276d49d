"""Lazy pagination: ``Page``, ``Pager``, ``AsyncPager`` and the sans-I/O ``_Cursor``.

Iteration follows the server's ``next_token``, never the item count: an empty page with a
token continues, an empty token ends, a token seen before raises ``PaginationError``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from ._exceptions import PaginationError

T = TypeVar("T")


_NO_HEADERS: Mapping[str, str] = {}


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a listing.

    Attributes:
        items: the items of this page (possibly empty even when more pages follow), as
            received: not copied.
        next_token: the token of the next page; empty on the last page. Pass it as
            ``token=`` to resume the listing later.
        headers: the response headers of this page (rate-limit headers, request id).
    """

    items: Sequence[T]
    next_token: str
    headers: Mapping[str, str] = field(
        default_factory=lambda: _NO_HEADERS, repr=False, compare=False
    )


class _Cursor:
    """Where a listing is: which token to ask for next, when to stop, loop detection."""

    __slots__ = ("_done", "_left", "_seen", "_token")

    def __init__(self, token: str, limit: int | None) -> None:
        self._token = token
        self._left = limit
        self._seen: set[str] = {token} if token else set()
        self._done = limit == 0

    def next_request(self) -> str | None:
        """The token of the next page to fetch, or ``None`` when the listing is over."""
        return None if self._done else self._token

    def advance(self, items: Sequence[T], next_token: str) -> Sequence[T]:
        """Take a fetched page; return its items, cut to what the limit still allows.

        Raises:
            PaginationError: the server sent a token it had sent before.
        """
        if self._left is not None:
            items = items[: self._left]
            self._left -= len(items)
        if next_token in self._seen:
            raise PaginationError(
                f"the server repeated the page token {next_token!r}; stopping instead of looping"
            )
        self._seen.add(next_token)
        self._token = next_token
        self._done = not next_token or self._left == 0
        return items


#: Fetches the page at a token; returns the page (items cut to the limit by the pager).
FetchPage = Callable[[str], Page[T]]
AsyncFetchPage = Callable[[str], Awaitable[Page[T]]]


class Pager(Generic[T]):
    """A lazy listing: nothing is sent until you iterate.

    ```python
    for pat in client.users.pats.list(page_size=50):
        ...
    for page in client.users.pats.list().pages():
        page.items, page.next_token
    ```

    Iterating again starts over from the first token.
    """

    def __init__(self, fetch: FetchPage[T], *, token: str = "", limit: int | None = None) -> None:
        self._fetch = fetch
        self._token = token
        self._limit = limit

    def pages(self) -> Iterator[Page[T]]:
        """Iterate over the pages (each with ``items`` and ``next_token``).

        Raises:
            PaginationError: the server repeated a page token.
            APIError: a page could not be fetched.
        """
        cursor = _Cursor(self._token, self._limit)
        while (token := cursor.next_request()) is not None:
            page = self._fetch(token)
            items = cursor.advance(page.items, page.next_token)
            yield Page(items, page.next_token, page.headers)

    def __iter__(self) -> Iterator[T]:
        for page in self.pages():
            yield from page.items


class AsyncPager(Generic[T]):
    """The async twin of :class:`Pager`: use ``async for``.

    ```python
    async for pat in client.users.pats.list(page_size=50):
        ...
    ```
    """

    def __init__(
        self, fetch: AsyncFetchPage[T], *, token: str = "", limit: int | None = None
    ) -> None:
        self._fetch = fetch
        self._token = token
        self._limit = limit

    async def pages(self) -> AsyncIterator[Page[T]]:
        """Iterate over the pages (each with ``items`` and ``next_token``).

        Raises:
            PaginationError: the server repeated a page token.
            APIError: a page could not be fetched.
        """
        cursor = _Cursor(self._token, self._limit)
        while (token := cursor.next_request()) is not None:
            page = await self._fetch(token)
            items = cursor.advance(page.items, page.next_token)
            yield Page(items, page.next_token, page.headers)

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.pages():
            for item in page.items:
                yield item
