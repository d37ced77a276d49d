"""The ``gitpod.v1.UserService`` implementation: authenticate, validate, then ask the store.

Everything that touches SQLite runs in a worker thread (``asyncio.to_thread``), so the event
loop never waits for the database: a request that needs none (no token, a malformed body) is
answered at once while another waits for a busy database.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import sqlite3
from collections.abc import Awaitable, Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, TypeVar

from connectrpc.code import Code
from connectrpc.errors import ConnectError
from connectrpc.request import RequestContext

from ona_pats._schema import pagination_pb2, user_pb2

from . import _pagination, _validation
from ._store import (
    RETRY_AFTER_S,
    Caller,
    LastAdmin,
    NotFound,
    PermissionDenied,
    Store,
    StoreError,
    Unauthenticated,
    listing_filter,
)

#: The request's URL query parameters, set by the ASGI middleware in ``_app.py``: connectrpc
#: hands handlers the headers but not the URL, and ListPersonalAccessTokens reads
#: ``token`` / ``pageSize`` from it.
QUERY_PARAMS: contextvars.ContextVar[Mapping[str, Sequence[str]]] = contextvars.ContextVar(
    "ona_pats_query_params", default=MappingProxyType({})
)
#: The caller the ASGI middleware authenticated before the body was read (``None``: not yet).
AUTHENTICATED: contextvars.ContextVar[Caller | None] = contextvars.ContextVar(
    "ona_pats_authenticated", default=None
)
_BEARER = "bearer"
_Handler = TypeVar("_Handler", bound=Callable[..., Awaitable[Any]])

_CreateReq = user_pb2.CreatePersonalAccessTokenRequest
_CreateRes = user_pb2.CreatePersonalAccessTokenResponse
_GetReq = user_pb2.GetPersonalAccessTokenRequest
_GetRes = user_pb2.GetPersonalAccessTokenResponse
_ListReq = user_pb2.ListPersonalAccessTokensRequest
_ListRes = user_pb2.ListPersonalAccessTokensResponse
_DeleteReq = user_pb2.DeletePersonalAccessTokenRequest
_DeleteRes = user_pb2.DeletePersonalAccessTokenResponse
_Ctx = RequestContext[Any, Any]


#: The store's refusals, by type, and the Connect code each is answered with.
_CODES: dict[type[StoreError], Code] = {
    Unauthenticated: Code.UNAUTHENTICATED,
    PermissionDenied: Code.PERMISSION_DENIED,
    NotFound: Code.NOT_FOUND,
    LastAdmin: Code.FAILED_PRECONDITION,
}


def connect_error(exc: StoreError) -> ConnectError:
    """The Connect error a refusal of the store is answered with."""
    return ConnectError(_CODES[type(exc)], str(exc))


def _database_errors(handler: _Handler) -> _Handler:
    """Report the store's refusals and SQLite failures as Connect errors."""

    @functools.wraps(handler)
    async def wrapper(self: Any, request: Any, ctx: RequestContext[Any, Any]) -> Any:
        try:
            return await handler(self, request, ctx)
        except StoreError as exc:
            raise connect_error(exc) from None
        except sqlite3.OperationalError as exc:  # locked or busy beyond busy_timeout
            ctx.response_headers["retry-after"] = str(RETRY_AFTER_S)
            raise ConnectError(Code.UNAVAILABLE, "the token database is busy; retry") from exc
        except sqlite3.Error as exc:
            raise ConnectError(Code.INTERNAL, "the token database failed") from exc

    return wrapper  # type: ignore[return-value]


class UserService:
    """The PAT methods of ``gitpod.v1.UserService`` over a :class:`Store`.

    Args:
        store: where tokens live and where authorization is enforced.
    """

    def __init__(self, store: Store) -> None:
        self._store = store

    @_database_errors
    async def create_personal_access_token(self, request: _CreateReq, ctx: _Ctx) -> _CreateRes:
        """Create a token and return its secret, the only time it is ever sent."""
        return await asyncio.to_thread(self._create, _bearer(ctx), request)

    def _create(self, bearer: str, request: _CreateReq) -> _CreateRes:
        caller = self._caller(bearer)
        _validation.check(request)
        user_id = request.user_id
        lifetime = _validation.valid_for_ns(request.valid_for, request.HasField("valid_for"))
        issued = self._store.create(
            caller,
            user_id=user_id,
            description=_validation.description(request.description),
            valid_for_ns=lifetime,
            read_only=request.read_only,
        )
        return user_pb2.CreatePersonalAccessTokenResponse(token=issued.token)

    @_database_errors
    async def get_personal_access_token(self, request: _GetReq, ctx: _Ctx) -> _GetRes:
        """Return one token's metadata, never its secret."""
        return await asyncio.to_thread(self._get, _bearer(ctx), request)

    def _get(self, bearer: str, request: _GetReq) -> _GetRes:
        caller = self._caller(bearer)
        _validation.check(request)
        pat_id = request.personal_access_token_id
        return user_pb2.GetPersonalAccessTokenResponse(pat=self._store.get(caller, pat_id))

    @_database_errors
    async def list_personal_access_tokens(self, request: _ListReq, ctx: _Ctx) -> _ListRes:
        """Return one page of the tokens the caller may see, in creation order."""
        return await asyncio.to_thread(self._list, _bearer(ctx), request, QUERY_PARAMS.get())

    def _list(
        self,
        bearer: str,
        request: _ListReq,
        query: Mapping[str, Sequence[str]],
    ) -> _ListRes:
        caller = self._caller(bearer)
        _validation.check(request)
        size = _validation.page_size(request.pagination.page_size, query)
        token, token_field = _validation.page_token(request.pagination.token, query)
        users = listing_filter(caller, list(request.filter.user_ids))
        listing = _pagination.scope(caller.user_id, users)
        now = self._store.clock()
        after = self._open_page_token(token, token_field, listing, now) if token else None
        items = self._store.list(users, after, size + 1)
        next_token = ""
        if len(items) > size:
            last = items[size - 1]
            position = _pagination.Position(_ns(last), last.id)
            next_token = _pagination.encode(self._store.page_key, position, listing, now)
        return user_pb2.ListPersonalAccessTokensResponse(
            pagination=pagination_pb2.PaginationResponse(next_token=next_token),
            personal_access_tokens=items[:size],
        )

    @_database_errors
    async def delete_personal_access_token(self, request: _DeleteReq, ctx: _Ctx) -> _DeleteRes:
        """Delete (revoke) one token."""
        return await asyncio.to_thread(self._delete, _bearer(ctx), request)

    def _delete(self, bearer: str, request: _DeleteReq) -> _DeleteRes:
        caller = self._caller(bearer)
        _validation.check(request)
        pat_id = request.personal_access_token_id
        self._store.delete(caller, pat_id)
        return user_pb2.DeletePersonalAccessTokenResponse()

    def _caller(self, bearer: str) -> Caller:
        """The caller the middleware authenticated, else the store's answer now."""
        return AUTHENTICATED.get() or self._store.authenticate(bearer)

    def _open_page_token(
        self, token: str, field: str, listing: bytes, now: int
    ) -> _pagination.Position:
        try:
            return _pagination.decode(self._store.page_key, token, listing, now)
        except _pagination.PageTokenError as exc:
            raise _validation.invalid(field, str(exc)) from None


def _bearer(ctx: RequestContext[Any, Any]) -> str:
    """The bearer secret of the request (checked by the store, off the loop).

    Raises:
        ConnectError: ``unauthenticated`` when there is none; no database is needed for that.
    """
    return _credentials(ctx.request_headers.get("authorization", ""))


def bearer_of(scope: Mapping[str, Any]) -> str:
    """The bearer secret of an ASGI request's ``Authorization`` header.

    Raises:
        ConnectError: ``unauthenticated`` when there is none.
    """
    header = next((v for k, v in scope["headers"] if k.lower() == b"authorization"), b"")
    return _credentials(header.decode("latin-1"))


def _credentials(header: str) -> str:
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != _BEARER or not credentials.strip():
        raise ConnectError(
            Code.UNAUTHENTICATED, "missing bearer token: send 'Authorization: Bearer <token>'"
        )
    return credentials.strip()


def _ns(pat: user_pb2.PersonalAccessToken) -> int:
    return pat.created_at.seconds * 10**9 + pat.created_at.nanos
