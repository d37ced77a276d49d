"""``Users`` / ``AsyncUsers`` and ``Pats`` / ``AsyncPats``: one method per RPC, plus ``rotate``.

Request building, validation and response checks are plain functions shared by both twins.
"""

from __future__ import annotations

import builtins
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cached_property
from typing import Any, Generic, TypeAlias, TypeVar

from . import _bulk, _requests, _stubs
from ._aliases import PatListFilter
from ._bulk import DeleteOutcome
from ._exceptions import InvalidResponseError, OnaPatsError, RotationError
from ._pagination import AsyncPager, Page, Pager
from ._requests import MAX_VALID_FOR, check_limit, check_str, check_valid_for
from ._retries import check_timeout
from ._schema import user_pb2
from ._transport import ResponseInfo

T = TypeVar("T")
#: ``Client._call``: (operation, request, timeout, max_retries) -> (response, metadata).
#: The last argument is a ``time.monotonic()`` the call must end by (a listing's deadline).
SyncCall: TypeAlias = Callable[
    [_stubs.Operation, Any, float | None, int | None, float | None],
    tuple[Any, ResponseInfo],
]
#: ``AsyncClient._call``.
AsyncCall: TypeAlias = Callable[
    [_stubs.Operation, Any, float | None, int | None, float | None],
    Awaitable[tuple[Any, ResponseInfo]],
]
PersonalAccessToken = user_pb2.PersonalAccessToken


@dataclass(frozen=True, slots=True)
class RawResponse(Generic[T]):
    """A response with its HTTP status and headers, from ``pats.with_raw_response``.

    ```python
    raw = client.users.pats.with_raw_response.get(personal_access_token_id=pat_id)
    raw.headers.get("x-ratelimit-remaining"), raw.request_id
    pat = raw.parse()
    ```

    Attributes:
        http_status: the HTTP status (200).
        headers: the response headers.
    """

    http_status: int | None
    headers: Mapping[str, str] = field(repr=False)
    _parsed: T = field(repr=False)

    @property
    def request_id(self) -> str | None:
        """The request id the server sent back, if any."""
        return self.headers.get("x-request-id") or self.headers.get("request-id")

    def parse(self) -> T:
        """Return what the plain method would have returned."""
        return self._parsed


def _raw(value: T, meta: ResponseInfo) -> RawResponse[T]:
    return RawResponse(meta.http_status, meta.headers, value)


# --- request building and response checks, shared by both twins -------------------------


def _page(
    response: user_pb2.ListPersonalAccessTokensResponse, meta: ResponseInfo
) -> Page[PersonalAccessToken]:
    return Page(response.personal_access_tokens, response.pagination.next_token, meta.headers)


def _pat(response: user_pb2.GetPersonalAccessTokenResponse, meta: ResponseInfo) -> Any:
    if not response.HasField("pat"):
        raise InvalidResponseError(
            "the Get response has no pat", http_status=meta.http_status, headers=meta.headers
        )
    return response.pat


def _secret(response: user_pb2.CreatePersonalAccessTokenResponse, meta: ResponseInfo) -> str:
    if not response.token:
        raise InvalidResponseError(
            "the Create response has no token", http_status=meta.http_status, headers=meta.headers
        )
    return response.token


def _successor_lifetime(old: PersonalAccessToken, valid_for: timedelta | None) -> timedelta | None:
    if valid_for is not None or not (old.HasField("created_at") and old.HasField("expires_at")):
        return valid_for
    lifetime = old.expires_at.ToDatetime() - old.created_at.ToDatetime()
    return min(lifetime, MAX_VALID_FOR) if lifetime > timedelta(0) else None


def _rotation_error(secret: str, old: PersonalAccessToken, exc: OnaPatsError) -> RotationError:
    return RotationError(new_token=secret, old_token_id=old.id, cause=exc)


# --- sync --------------------------------------------------------------------------------


class PatsWithRawResponse:
    """``pats`` methods that return a :class:`RawResponse` (status, headers, ``.parse()``)."""

    def __init__(self, call: SyncCall) -> None:
        self._call = call

    def get(
        self,
        *,
        personal_access_token_id: str,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> RawResponse[PersonalAccessToken]:
        """Get one token's metadata, with the response's status and headers.

        Args:
            personal_access_token_id: the token's id (a UUID).
            timeout: this call's time budget in seconds (default: the client's).
            max_retries: this call's retries (default: the client's).

        Returns:
            A raw response whose ``parse()`` returns the ``PersonalAccessToken``.

        Raises:
            ValidationError: the id is not a UUID; nothing was sent.
            APIError: the call failed (``NotFoundError``, ``UnauthenticatedError``, ...).
        """
        request = _requests.get(personal_access_token_id)
        response, meta = self._call(_stubs.GET, request, timeout, max_retries, None)
        return _raw(_pat(response, meta), meta)

    def create(
        self,
        *,
        user_id: str,
        description: str = "",
        valid_for: timedelta | None = None,
        read_only: bool = False,
        timeout: float | None = None,
    ) -> RawResponse[str]:
        """Create a token, with the response's status and headers.

        Args:
            user_id: the owner (a UUID).
            description: what the token is for.
            valid_for: its lifetime, at most 90 days (default: the server's).
            read_only: whether the token can only read.
            timeout: this call's time budget in seconds (default: the client's).

        Returns:
            A raw response whose ``parse()`` returns the secret.

        Raises:
            ValidationError: an invalid argument; nothing was sent.
            APIError: the call failed. It is retried only if it never reached the server.
        """
        request = _requests.create(user_id, description, valid_for, read_only)
        response, meta = self._call(_stubs.CREATE, request, timeout, None, None)
        return _raw(_secret(response, meta), meta)

    def delete(
        self, *, personal_access_token_id: str, timeout: float | None = None
    ) -> RawResponse[None]:
        """Delete (revoke) a token, with the response's status and headers.

        Args:
            personal_access_token_id: the token's id (a UUID).
            timeout: this call's time budget in seconds (default: the client's).

        Returns:
            A raw response whose ``parse()`` returns ``None``.

        Raises:
            ValidationError: the id is not a UUID; nothing was sent.
            APIError: the call failed. It is retried only if it never reached the server.
        """
        request = _requests.delete(personal_access_token_id)
        _, meta = self._call(_stubs.DELETE, request, timeout, None, None)
        return _raw(None, meta)


class Pats:
    """``client.users.pats``: personal access tokens."""

    def __init__(self, call: SyncCall) -> None:
        self._call = call

    @cached_property
    def with_raw_response(self) -> PatsWithRawResponse:
        """The same methods, returning the HTTP status and headers too."""
        return PatsWithRawResponse(self._call)

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
            filter: ``{"user_ids": [...]}``, at most 25 user ids.
            page_size: items per page, 0..100 (0 or unset: the server's default, 25).
            token: a ``next_token`` to resume a listing from.
            limit: the most items to yield in all.
            timeout: each page's time budget in seconds (default: the client's).
            max_retries: each page's retries (default: the client's).
            total_timeout: the whole listing's time budget in seconds, every page and retry
                included (default: none); past it, ``DeadlineExceededError``.

        Returns:
            A :class:`Pager`: iterate for tokens, ``.pages()`` for pages.

        Raises:
            ValidationError: an invalid argument; nothing was sent.
        """
        template = _requests.list_template(filter, page_size)
        check_limit(limit)
        call = self._call

        def fetch(page_token: str, not_after: float | None) -> Page[PersonalAccessToken]:
            request = _requests.at_token(template, page_token)
            response, meta = call(_stubs.LIST, request, timeout, max_retries, not_after)
            return _page(response, meta)

        return Pager(
            fetch,
            token=check_str("pagination.token", token or ""),
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
            ValidationError: the id is not a UUID; nothing was sent.
            APIError: the call failed (``NotFoundError``, ``UnauthenticatedError``, ...).
        """
        request = _requests.get(personal_access_token_id)
        response, meta = self._call(_stubs.GET, request, timeout, max_retries, None)
        return _pat(response, meta)  # type: ignore[no-any-return]

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
            valid_for: its lifetime, at most 90 days (default: the server's).
            read_only: whether the token can only read.
            timeout: this call's time budget in seconds (default: the client's).

        Returns:
            The secret.

        Raises:
            ValidationError: an invalid argument; nothing was sent.
            APIError: the call failed. It is retried only if it never reached the server.
        """
        request = _requests.create(user_id, description, valid_for, read_only)
        response, meta = self._call(_stubs.CREATE, request, timeout, None, None)
        return _secret(response, meta)

    def delete(self, *, personal_access_token_id: str, timeout: float | None = None) -> None:
        """Delete (revoke) a token for good.

        Args:
            personal_access_token_id: the token's id (a UUID).
            timeout: this call's time budget in seconds (default: the client's).

        Raises:
            ValidationError: the id is not a UUID; nothing was sent.
            APIError: the call failed. It is retried only if it never reached the server.
        """
        request = _requests.delete(personal_access_token_id)
        self._call(_stubs.DELETE, request, timeout, None, None)

    def delete_many(
        self,
        ids: Iterable[str],
        *,
        concurrency: int = 8,
        timeout: float | None = None,
        on_outcome: Callable[[DeleteOutcome], None] | None = None,
    ) -> builtins.list[DeleteOutcome]:
        """Delete many tokens, at most ``concurrency`` at a time (on a thread pool).

        Each id is deleted once, never retried once sent. One failure does not stop the
        others: each id gets a :class:`DeleteOutcome` saying ``deleted``, ``not_found``,
        ``failed`` (not sent, or refused by the server) or ``unknown`` (it may have reached
        the server, but no answer came back).

        Args:
            ids: the tokens' ids (UUIDs); a repeated id is deleted once.
            concurrency: the most deletes in flight, 1..256.
            timeout: each delete's time budget in seconds (default: the client's).
            on_outcome: called with each outcome as it arrives, from the pool's threads.

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
            valid_for: the successor's lifetime (default: the old token's, at most 90 days).
            timeout: each call's time budget in seconds (default: the client's).

        Returns:
            The successor's secret.

        Raises:
            ValidationError: an invalid argument; nothing was sent.
            APIError: the get or the create failed; nothing changed.
            RotationError: the successor exists but the old token could not be deleted;
                the new secret is on ``.new_token``.
        """
        old = self.get(personal_access_token_id=personal_access_token_id, timeout=timeout)
        secret = self.create(
            user_id=old.user_id,
            description=old.description,
            valid_for=_successor_lifetime(old, check_valid_for(valid_for)),
            read_only=old.read_only,
            timeout=timeout,
        )
        try:
            self.delete(personal_access_token_id=old.id, timeout=timeout)
        except OnaPatsError as exc:
            raise _rotation_error(secret, old, exc) from exc
        return secret


class Users:
    """``client.users``."""

    def __init__(self, call: SyncCall) -> None:
        self.pats = Pats(call)
        """Personal access tokens: ``list``, ``get``, ``create``, ``delete``, ``delete_many``,
        ``rotate``."""


# --- async -------------------------------------------------------------------------------


class AsyncPatsWithRawResponse:
    """Async ``pats`` methods that return a :class:`RawResponse`."""

    def __init__(self, call: AsyncCall) -> None:
        self._call = call

    async def get(
        self,
        *,
        personal_access_token_id: str,
        timeout: float | None = None,
        max_retries: int | None = None,
    ) -> RawResponse[PersonalAccessToken]:
        """Get one token's metadata, with the response's status and headers.

        Args:
            personal_access_token_id: the token's id (a UUID).
            timeout: this call's time budget in seconds (default: the client's).
            max_retries: this call's retries (default: the client's).

        Returns:
            A raw response whose ``parse()`` returns the ``PersonalAccessToken``.

        Raises:
            ValidationError: the id is not a UUID; nothing was sent.
            APIError: the call failed.
        """
        request = _requests.get(personal_access_token_id)
        response, meta = await self._call(_stubs.GET, request, timeout, max_retries, None)
        return _raw(_pat(response, meta), meta)

    async def create(
        self,
        *,
        user_id: str,
        description: str = "",
        valid_for: timedelta | None = None,
        read_only: bool = False,
        timeout: float | None = None,
    ) -> RawResponse[str]:
        """Create a token, with the response's status and headers.

        Args:
            user_id: the owner (a UUID).
            description: what the token is for.
            valid_for: its lifetime, at most 90 days (default: the server's).
            read_only: whether the token can only read.
            timeout: this call's time budget in seconds (default: the client's).

        Returns:
            A raw response whose ``parse()`` returns the secret.

        Raises:
            ValidationError: an invalid argument; nothing was sent.
            APIError: the call failed. It is retried only if it never reached the server.
        """
        request = _requests.create(user_id, description, valid_for, read_only)
        response, meta = await self._call(_stubs.CREATE, request, timeout, None, None)
        return _raw(_secret(response, meta), meta)

    async def delete(
        self, *, personal_access_token_id: str, timeout: float | None = None
    ) -> RawResponse[None]:
        """Delete (revoke) a token, with the response's status and headers.

        Args:
            personal_access_token_id: the token's id (a UUID).
            timeout: this call's time budget in seconds (default: the client's).

        Returns:
            A raw response whose ``parse()`` returns ``None``.

        Raises:
            ValidationError: the id is not a UUID; nothing was sent.
            APIError: the call failed. It is retried only if it never reached the server.
        """
        request = _requests.delete(personal_access_token_id)
        _, meta = await self._call(_stubs.DELETE, request, timeout, None, None)
        return _raw(None, meta)


class AsyncPats:
    """``client.users.pats`` of the :class:`AsyncClient`."""

    def __init__(self, call: AsyncCall) -> None:
        self._call = call

    @cached_property
    def with_raw_response(self) -> AsyncPatsWithRawResponse:
        """The same methods, returning the HTTP status and headers too."""
        return AsyncPatsWithRawResponse(self._call)

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
    ) -> AsyncPager[PersonalAccessToken]:
        """List tokens lazily, page by page; use ``async for``.

        A listing is bounded: at most ``MAX_EMPTY_PAGES`` pages without items are followed,
        so ``limit=N`` sends at most ``N + MAX_EMPTY_PAGES`` requests.

        Args:
            filter: ``{"user_ids": [...]}``, at most 25 user ids.
            page_size: items per page, 0..100 (0 or unset: the server's default, 25).
            token: a ``next_token`` to resume a listing from.
            limit: the most items to yield in all.
            timeout: each page's time budget in seconds (default: the client's).
            max_retries: each page's retries (default: the client's).
            total_timeout: the whole listing's time budget in seconds, every page and retry
                included (default: none); past it, ``DeadlineExceededError``.

        Returns:
            An :class:`AsyncPager`: ``async for`` tokens, ``.pages()`` for pages.

        Raises:
            ValidationError: an invalid argument; nothing was sent.
        """
        template = _requests.list_template(filter, page_size)
        check_limit(limit)
        call = self._call

        async def fetch(page_token: str, not_after: float | None) -> Page[PersonalAccessToken]:
            request = _requests.at_token(template, page_token)
            response, meta = await call(_stubs.LIST, request, timeout, max_retries, not_after)
            return _page(response, meta)

        return AsyncPager(
            fetch,
            token=check_str("pagination.token", token or ""),
            limit=limit,
            total_timeout=check_timeout(total_timeout),
        )

    async def get(
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
            ValidationError: the id is not a UUID; nothing was sent.
            APIError: the call failed.
        """
        request = _requests.get(personal_access_token_id)
        response, meta = await self._call(_stubs.GET, request, timeout, max_retries, None)
        return _pat(response, meta)  # type: ignore[no-any-return]

    async def create(
        self,
        *,
        user_id: str,
        description: str = "",
        valid_for: timedelta | None = None,
        read_only: bool = False,
        timeout: float | None = None,
    ) -> str:
        """Create a token and return its secret (shown once).

        Args:
            user_id: the owner (a UUID).
            description: what the token is for.
            valid_for: its lifetime, at most 90 days (default: the server's).
            read_only: whether the token can only read.
            timeout: this call's time budget in seconds (default: the client's).

        Returns:
            The secret.

        Raises:
            ValidationError: an invalid argument; nothing was sent.
            APIError: the call failed. It is retried only if it never reached the server.
        """
        request = _requests.create(user_id, description, valid_for, read_only)
        response, meta = await self._call(_stubs.CREATE, request, timeout, None, None)
        return _secret(response, meta)

    async def delete(self, *, personal_access_token_id: str, timeout: float | None = None) -> None:
        """Delete (revoke) a token for good.

        Args:
            personal_access_token_id: the token's id (a UUID).
            timeout: this call's time budget in seconds (default: the client's).

        Raises:
            ValidationError: the id is not a UUID; nothing was sent.
            APIError: the call failed. It is retried only if it never reached the server.
        """
        request = _requests.delete(personal_access_token_id)
        await self._call(_stubs.DELETE, request, timeout, None, None)

    async def delete_many(
        self,
        ids: Iterable[str],
        *,
        concurrency: int = 8,
        timeout: float | None = None,
        on_outcome: Callable[[DeleteOutcome], None] | None = None,
    ) -> builtins.list[DeleteOutcome]:
        """Delete many tokens, at most ``concurrency`` at a time (worker tasks).

        As :meth:`Pats.delete_many`; ``on_outcome`` is called on the event loop.
        """
        checked = _bulk.check_ids(ids)
        workers = _bulk.check_concurrency(concurrency)

        async def delete(pat_id: str) -> None:
            await self.delete(personal_access_token_id=pat_id, timeout=timeout)

        return await _bulk.adelete_all(delete, checked, workers, on_outcome)

    async def rotate(
        self,
        *,
        personal_access_token_id: str,
        valid_for: timedelta | None = None,
        timeout: float | None = None,
    ) -> str:
        """Replace a token: create its successor, then delete it.

        Args:
            personal_access_token_id: the token to replace (a UUID).
            valid_for: the successor's lifetime (default: the old token's, at most 90 days).
            timeout: each call's time budget in seconds (default: the client's).

        Returns:
            The successor's secret.

        Raises:
            ValidationError: an invalid argument; nothing was sent.
            APIError: the get or the create failed; nothing changed.
            RotationError: the successor exists but the old token could not be deleted.
        """
        old = await self.get(personal_access_token_id=personal_access_token_id, timeout=timeout)
        secret = await self.create(
            user_id=old.user_id,
            description=old.description,
            valid_for=_successor_lifetime(old, check_valid_for(valid_for)),
            read_only=old.read_only,
            timeout=timeout,
        )
        try:
            await self.delete(personal_access_token_id=old.id, timeout=timeout)
        except OnaPatsError as exc:
            raise _rotation_error(secret, old, exc) from exc
        return secret


class AsyncUsers:
    """``client.users`` of the :class:`AsyncClient`."""

    def __init__(self, call: AsyncCall) -> None:
        self.pats = AsyncPats(call)
        """Personal access tokens: ``list``, ``get``, ``create``, ``delete``, ``delete_many``,
        ``rotate``."""
