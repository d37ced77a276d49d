# Generated from src/ona_pats/_async/_pagination.py by scripts/make_sync.py: edit that file.
"""The pager: a lazy listing, one page fetched per step of the iteration."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Generic, TypeVar

from ona_pats._pagination import Cursor, FetchPage, Page

T = TypeVar("T")


class Pager(Generic[T]):
    """A lazy listing: nothing is sent until you iterate it.

    ```python
    for pat in client.users.pats.list(page_size=50):
        ...
    for page in client.users.pats.list().pages():
        page.items, page.next_token
    ```

    Iterating again starts over from the first token.
    """

    def __init__(
        self,
        fetch: FetchPage[T],
        *,
        token: str = "",
        limit: int | None = None,
        total_timeout: float | None = None,
    ) -> None:
        self._fetch = fetch
        self._token = token
        self._limit = limit
        self._total_timeout = total_timeout

    def pages(self) -> Iterator[Page[T]]:
        """Iterate over the pages (each with ``items`` and ``next_token``).

        Raises:
            PaginationError: the server repeated a page token, or sent more than
                ``MAX_EMPTY_PAGES`` pages without items.
            DeadlineExceededError: the listing's ``total_timeout`` expired.
            APIError: a page could not be fetched.
        """
        cursor = Cursor(self._token, self._limit, self._total_timeout)
        while (token := cursor.next_request()) is not None:
            page = self._fetch(token, cursor.not_after)
            items = cursor.advance(page.items, page.next_token)
            yield Page(items, page.next_token, page.headers)

    def __iter__(self) -> Iterator[T]:
        for page in self.pages():
            for item in page.items:
                yield item
