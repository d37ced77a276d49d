"""Lazy pagination: ``Page`` and the sans-I/O ``Cursor`` that the pagers drive.

The pagers (``AsyncPager`` in ``_async/_pagination.py``, ``Pager`` generated from it) only
fetch; every decision is the cursor's.

Iteration follows the server's ``next_token``, never the item count: an empty page with a
token continues, an empty token ends, a token seen before raises ``PaginationError``.

Every listing is bounded: at most :data:`MAX_EMPTY_PAGES` pages that yield nothing (then
``PaginationError``), so ``limit=N`` sends at most ``N + MAX_EMPTY_PAGES`` requests; and an
optional ``total_timeout`` bounds the whole listing's time (each page keeps its own
``timeout`` within it).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from ._exceptions import DeadlineExceededError, PaginationError

T = TypeVar("T")

#: Pages with no items (but a next token) that one listing accepts before it stops with
#: ``PaginationError``: a server answering empty pages forever cannot keep it going.
MAX_EMPTY_PAGES = 16


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


class Cursor:
    """Where a listing is: the next token, when to stop, loops, empty pages, the deadline."""

    __slots__ = ("_done", "_empty", "_end", "_left", "_pages", "_seen", "_token", "_total")

    def __init__(self, token: str, limit: int | None, total_timeout: float | None) -> None:
        self._token = token
        self._left = limit
        self._seen: set[str] = {token} if token else set()
        self._done = limit == 0
        self._empty = 0
        self._pages = 0
        self._total = total_timeout
        self._end = None if total_timeout is None else time.monotonic() + total_timeout

    @property
    def not_after(self) -> float | None:
        """The ``time.monotonic()`` by which the listing must end (``None``: no limit)."""
        return self._end

    def next_request(self) -> str | None:
        """The token of the next page to fetch, or ``None`` when the listing is over.

        Raises:
            DeadlineExceededError: the listing's ``total_timeout`` is spent.
        """
        if self._done:
            return None
        if self._end is not None and time.monotonic() >= self._end:
            raise DeadlineExceededError(
                f"the listing's total_timeout of {self._total} s expired after {self._pages} pages"
            )
        return self._token

    def advance(self, items: Sequence[T], next_token: str) -> Sequence[T]:
        """Take a fetched page; return its items, cut to what the limit still allows.

        Raises:
            PaginationError: the server sent a token it had sent before, or more than
                ``MAX_EMPTY_PAGES`` pages without items.
        """
        self._pages += 1
        if not items and next_token:
            self._empty += 1
            if self._empty > MAX_EMPTY_PAGES:
                raise PaginationError(
                    f"the server sent {self._empty} pages without items, each with a next "
                    f"token; stopping (at most {MAX_EMPTY_PAGES} are followed in one listing)"
                )
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


#: Fetches the page at a token, to end by a ``time.monotonic()`` (``None``: no listing
#: deadline); returns the page (items cut to the limit by the pager).
FetchPage = Callable[[str, float | None], Page[T]]
AsyncFetchPage = Callable[[str, float | None], Awaitable[Page[T]]]
