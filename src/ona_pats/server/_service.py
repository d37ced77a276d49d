"""The ``gitpod.v1.UserService`` implementation: authenticate, validate, then ask the store.

Everything that touches SQLite runs in a worker thread (``asyncio.to_thread``), so the event
loop never waits for the database: a request that needs none (no token, a malformed body) is
answered at once while another waits for a busy database.
"""

from __future__ import annotations

import asyncio
import contextvars
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, TypeVar

from connectrpc.code import Code
from connectrpc.errors import ConnectError
from connectrpc.request import RequestContext
from google.protobuf.message import Message

from ona_pats import _schema
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
_Req = TypeVar("_Req", bound=Message)
_Res = TypeVar("_Res", bound=Message)

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


class UserService:
    """The PAT methods of ``gitpod.v1.UserService`` over a :class:`Store`.

    Args:
        store: where tokens live and where authorization is enforced.
    """

    def __init__(self, store: Store) -> None:
        self._store = store

    async def create_personal_access_token(
        self, request: _schema.CreateReq, ctx: _Ctx
    ) -> _schema.CreateRes:
        """Create a token and return its secret, the only time it is ever sent."""
        return await self._run(self._create, request, ctx)

    async def get_personal_access_token(self, request: _schema.GetReq, ctx: _Ctx) -> _schema.GetRes:
        """Return one token's metadata, never its secret."""
        return await self._run(self._get, request, ctx)

    async def list_personal_access_tokens(
        self, request: _schema.ListReq, ctx: _Ctx
    ) -> _schema.ListRes:
        """Return one page of the tokens the caller may see, in creation order."""
        return await self._run(self._list, request, ctx)

    async def delete_personal_access_token(
        self, request: _schema.DeleteReq, ctx: _Ctx
    ) -> _schema.DeleteRes:
        """Delete (revoke) one token."""
        return await self._run(self._delete, request, ctx)

    async def _run(self, work: Callable[[Caller, _Req], _Res], request: _Req, ctx: _Ctx) -> _Res:
        """Authenticate, validate, then ``work`` in a worker thread (which sees this context's
        variables); the store's refusals and SQLite failures become Connect errors."""
        bearer = _bearer(ctx)

        def run() -> _Res:
            caller = self._caller(bearer)
            _validation.check(request)
            return work(caller, request)

        try:
            return await asyncio.to_thread(run)
        except StoreError as exc:
            raise connect_error(exc) from None
        except sqlite3.OperationalError as exc:  # locked or busy beyond busy_timeout
            ctx.response_headers["retry-after"] = str(RETRY_AFTER_S)
            raise ConnectError(Code.UNAVAILABLE, "the token database is busy; retry") from exc
        except sqlite3.Error as exc:
            raise ConnectError(Code.INTERNAL, "the token database failed") from exc

    def _create(self, caller: Caller, request: _schema.CreateReq) -> _schema.CreateRes:
        lifetime = _validation.valid_for_ns(request.valid_for, request.HasField("valid_for"))
        issued = self._store.create(
            caller,
            user_id=request.user_id,
            description=_validation.description(request.description),
            valid_for_ns=lifetime,
            read_only=request.read_only,
        )
        return user_pb2.CreatePersonalAccessTokenResponse(token=issued.token)

    def _get(self, caller: Caller, request: _schema.GetReq) -> _schema.GetRes:
        pat_id = request.personal_access_token_id
        return user_pb2.GetPersonalAccessTokenResponse(pat=self._store.get(caller, pat_id))

    def _list(self, caller: Caller, request: _schema.ListReq) -> _schema.ListRes:
        query = QUERY_PARAMS.get()
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

    def _delete(self, caller: Caller, request: _schema.DeleteReq) -> _schema.DeleteRes:
        self._store.delete(caller, request.personal_access_token_id)
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
