# Generated from src/ona_pats/_async/_resources.py by scripts/make_sync.py: edit that file.
"""``client.users.pats``: one method per RPC, plus ``delete_many`` and ``rotate``.

Each method turns its arguments into a request (``_requests``, checked against the schema's
rules), calls the client (``SyncCall``) with the RPC's ``Operation`` and turns the response into
its result (``_results``).
"""

from __future__ import annotations

import builtins
import functools
from collections.abc import Callable, Iterable
from datetime import timedelta
from functools import cached_property
from typing import ParamSpec, TypeVar

from ona_pats import _bulk, _requests, _results
from ona_pats._aliases import PatListFilter
from ona_pats._bulk import DeleteOutcome
from ona_pats._exceptions import OnaPatsError
from ona_pats._pagination import Page
from ona_pats._results import PersonalAccessToken, RawResponse, SyncCall, SyncMethod, SyncRaw
from ona_pats._retries import check_timeout
from ona_pats._stubs import CREATE, DELETE, GET, LIST
from ona_pats._transport import ResponseInfo

from ._pagination import Pager

P = ParamSpec("P")
T = TypeVar("T")


class Pats:
    """``client.users.pats``: personal access tokens."""

    def __init__(self, call: SyncCall) -> None:
        self._call = call

    @cached_property
    def with_raw_response(self) -> PatsWithRawResponse:
        """The same methods, returning the HTTP status and headers too."""
        return PatsWithRawResponse(self)

    def list(
        self,
        *,
        filter: PatListFilter | None = None,
        page_size: int | None = None,
        token: str | None = None,
        limit: int | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        total_timeout: float | None = None,
    ) -> Pager[PersonalAccessToken]:
        """List tokens lazily, page by page; nothing is sent until you iterate.

        A listing is bounded: at most ``MAX_EMPTY_PAGES`` pages without items are followed,
        so ``limit=N`` sends at most ``N + MAX_EMPTY_PAGES`` requests.

        Args:
            filter: ``{"user_ids": [...]}``: only these users' tokens.
            page_size: items per page (0 or unset: the server's default, 25).
            token: a ``next_token`` to resume a listing from.
            limit: the most items to yield in all.
            timeout: each page's time budget in seconds (default: the client's).
            max_retries: each page's retries (default: the client's).
            total_timeout: the whole listing's time budget in seconds, every page and retry
                included (default: none); past it, ``DeadlineExceededError``.

        Returns:
            A pager: iterate it for tokens, ``.pages()`` for pages.

        Raises:
            ValidationError: an argument breaks the schema's rules; nothing was sent.
        """
        template = _requests.list_template(filter, page_size)
        _requests.check_limit(limit)
        call = self._call

        def fetch(page_token: str, not_after: float | None) -> Page[PersonalAccessToken]:
            request = _requests.at_token(template, page_token)
            response, meta = call(LIST, request, timeout, max_retries, not_after)
            return _results.page(response, meta)

        return Pager(
            fetch,
            token=_requests.check_str("pagination.token", token or ""),
            limit=limit,
            total_timeout=check_timeout(total_timeout),
        )

    def get(
        self,
        *,
        personal_access_token_id: str,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> PersonalAccessToken:
        """Get one token's metadata (never its secret).

        Args:
            personal_access_token_id: the token's id (a UUID).
            timeout: this call's time budget in seconds (default: the client's).
            max_retries: this call's retries (default: the client's).

        Returns:
            The ``PersonalAccessToken``.

        Raises:
            ValidationError: the id breaks the schema's rules; nothing was sent.
            APIError: the call failed (``NotFoundError``, ``UnauthenticatedError``, ...).
        """
        request = _requests.get(personal_access_token_id)
        response, meta = self._call(GET, request, timeout, max_retries, None)
        return _results.pat(response, meta)

    def create(
        self,
        *,
        user_id: str,
        description: str = "",
        valid_for: timedelta | None = None,
        read_only: bool = False,
        timeout: float | None = None,
    ) -> str:
        """Create a token and return its secret (shown once; it cannot be read again).

        Args:
            user_id: the owner (a UUID).
            description: what the token is for.
            valid_for: its lifetime, within the schema's longest (default: the server's).
            read_only: whether the token can only read.
            timeout: this call's time budget in seconds (default: the client's).

        Returns:
            The secret.

        Raises:
            ValidationError: an argument breaks the schema's rules; nothing was sent.
            APIError: the call failed. It is retried only if it never reached the server.
        """
        request = _requests.create(user_id, description, valid_for, read_only)
        response, meta = self._call(CREATE, request, timeout, None, None)
        return _results.secret(response, meta)

    def delete(self, *, personal_access_token_id: str, timeout: float | None = None) -> None:
        """Delete (revoke) a token for good.

        Args:
            personal_access_token_id: the token's id (a UUID).
            timeout: this call's time budget in seconds (default: the client's).

        Raises:
            ValidationError: the id breaks the schema's rules; nothing was sent.
            APIError: the call failed. It is retried only if it never reached the server.
        """
        request = _requests.delete(personal_access_token_id)
        self._call(DELETE, request, timeout, None, None)

    def delete_many(
        self,
        ids: Iterable[str],
        *,
        concurrency: int = 8,
        timeout: float | None = None,
        on_outcome: Callable[[DeleteOutcome], None] | None = None,
    ) -> builtins.list[DeleteOutcome]:
        """Delete many tokens, at most ``concurrency`` at a time (a thread pool).

        Each id is deleted once, never retried once sent. One failure does not stop the
        others: each id gets a :class:`DeleteOutcome` saying ``deleted``, ``not_found``,
        ``failed`` (not sent, or refused by the server) or ``unknown`` (it may have reached
        the server, but no answer came back).

        Args:
            ids: the tokens' ids (UUIDs); a repeated id is deleted once.
            concurrency: the most deletes in flight, 1..256.
            timeout: each delete's time budget in seconds (default: the client's).
            on_outcome: called with each outcome as it arrives, on the pool's threads.

        Returns:
            One outcome per distinct id, in the order of ``ids``.

        Raises:
            ValidationError: an id is not a UUID, or a bad ``concurrency``; nothing was sent.
        """
        checked = _bulk.check_ids(ids)
        workers = _bulk.check_concurrency(concurrency)

        def delete(pat_id: str) -> None:
            self.delete(personal_access_token_id=pat_id, timeout=timeout)

        return _bulk.delete_all(delete, checked, workers, on_outcome)

    def rotate(
        self,
        *,
        personal_access_token_id: str,
        valid_for: timedelta | None = None,
        timeout: float | None = None,
    ) -> str:
        """Replace a token: create its successor, then delete it.

        The successor has the same user, description and read-only flag. Each of the three
        calls (get, create, delete) has its own time budget.

        Args:
            personal_access_token_id: the token to replace (a UUID).
            valid_for: the successor's lifetime (default: the old token's, within the
                schema's longest).
            timeout: each call's time budget in seconds (default: the client's).

        Returns:
            The successor's secret.

        Raises:
            ValidationError: an argument breaks the schema's rules; nothing was sent.
            APIError: the get or the create failed; nothing changed.
            RotationError: the successor exists but the old token could not be deleted;
                the new secret is on ``.new_token``.
        """
        lifetime = _requests.check_valid_for(valid_for)
        old = self.get(personal_access_token_id=personal_access_token_id, timeout=timeout)
        secret = self.create(
            user_id=old.user_id,
            description=old.description,
            valid_for=_results.successor_lifetime(old, lifetime),
            read_only=old.read_only,
            timeout=timeout,
        )
        try:
            self.delete(personal_access_token_id=old.id, timeout=timeout)
        except OnaPatsError as exc:
            raise _results.rotation_error(secret, old, exc) from exc
        return secret


class PatsWithRawResponse:
    """``get``, ``create`` and ``delete`` of ``pats``, with their arguments, returning a
    :class:`RawResponse` (the HTTP status and headers, ``.parse()`` for the result).

    ```python
    raw = client.users.pats.with_raw_response.get(personal_access_token_id=pat_id)
    raw.headers.get("x-ratelimit-remaining"), raw.request_id, raw.parse()
    ```
    """

    def __init__(self, pats: Pats) -> None:
        self.get = raw_variant(pats.get)
        self.create = raw_variant(pats.create)
        self.delete = raw_variant(pats.delete)


def raw_variant(method: SyncMethod[P, T]) -> SyncRaw[P, T]:
    """``method``, returning its result with the status and headers of its call."""

    @functools.wraps(method)
    def variant(*args: P.args, **kwargs: P.kwargs) -> RawResponse[T]:
        seen: list[ResponseInfo] = []
        token = _results.SEEN.set(seen)
        try:
            value = method(*args, **kwargs)
        finally:
            _results.SEEN.reset(token)
        return _results.raw(value, seen[-1])

    return variant


class Users:
    """``client.users``."""

    def __init__(self, call: SyncCall) -> None:
        self.pats = Pats(call)
        """Personal access tokens: ``list``, ``get``, ``create``, ``delete``, ``delete_many``,
        ``rotate``."""
