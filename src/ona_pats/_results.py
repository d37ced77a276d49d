"""What the resources' calls return, and the typed seam between the resources and the client.

The resources (``_async/_resources.py`` and its generated sync half) call the client through
:class:`AsyncCall` / :class:`SyncCall`: an :class:`~ona_pats._stubs.Operation` and its request
in, the response message and its :class:`ResponseInfo` out, typed by the operation. The plain
functions here turn a response into what a method returns.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Generic, ParamSpec, Protocol, TypeAlias, TypeVar

from ._exceptions import InvalidResponseError, OnaPatsError, RotationError
from ._pagination import Page
from ._requests import MAX_VALID_FOR
from ._schema import user_pb2
from ._stubs import Operation, Req, Res
from ._transport import ResponseInfo

T = TypeVar("T")
P = ParamSpec("P")
PersonalAccessToken = user_pb2.PersonalAccessToken
#: A resource method, and its ``with_raw_response`` variant (``_async/_resources.raw_variant``).
SyncMethod: TypeAlias = Callable[P, T]
AsyncMethod: TypeAlias = Callable[P, Awaitable[T]]
SyncRaw: TypeAlias = Callable[P, "RawResponse[T]"]
AsyncRaw: TypeAlias = Callable[P, Awaitable["RawResponse[T]"]]
#: The responses of the calls a ``with_raw_response`` method makes (None: none is watching).
SEEN: ContextVar[list[ResponseInfo] | None] = ContextVar("ona_pats_seen", default=None)


#: A call's arguments after the request: its timeout and retries (``None``: the client's), and
#: the ``time.monotonic()`` it must end by (a listing's ``total_timeout``; ``None``: none).
_Secs: TypeAlias = float | None


class SyncCall(Protocol):
    """``Client._call``: one call, with its retries."""

    def __call__(
        self, op: Operation[Req, Res], r: Req, t: _Secs, n: int | None, end: _Secs, /
    ) -> tuple[Res, ResponseInfo]: ...


class AsyncCall(Protocol):
    """``AsyncClient._call``: one call, with its retries."""

    def __call__(
        self, op: Operation[Req, Res], r: Req, t: _Secs, n: int | None, end: _Secs, /
    ) -> Awaitable[tuple[Res, ResponseInfo]]: ...


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


def note(meta: ResponseInfo) -> None:
    """Hand a successful call's response to the ``with_raw_response`` method making it, if any."""
    seen = SEEN.get()
    if seen is not None:
        seen.append(meta)


def raw(value: T, meta: ResponseInfo) -> RawResponse[T]:
    """``value`` with the status and headers of its response."""
    return RawResponse(meta.http_status, meta.headers, value)


def page(
    response: user_pb2.ListPersonalAccessTokensResponse, meta: ResponseInfo
) -> Page[PersonalAccessToken]:
    """One page of a listing."""
    return Page(response.personal_access_tokens, response.pagination.next_token, meta.headers)


def pat(
    response: user_pb2.GetPersonalAccessTokenResponse, meta: ResponseInfo
) -> PersonalAccessToken:
    """The token of a Get response (the schema requires one).

    Raises:
        InvalidResponseError: the response has none.
    """
    if not response.HasField("pat"):
        raise InvalidResponseError(
            "the Get response has no pat", http_status=meta.http_status, headers=meta.headers
        )
    return response.pat


def secret(response: user_pb2.CreatePersonalAccessTokenResponse, meta: ResponseInfo) -> str:
    """The secret of a Create response (the schema requires one).

    Raises:
        InvalidResponseError: the response has none.
    """
    if not response.token:
        raise InvalidResponseError(
            "the Create response has no token", http_status=meta.http_status, headers=meta.headers
        )
    return response.token


def successor_lifetime(old: PersonalAccessToken, valid_for: timedelta | None) -> timedelta | None:
    """The lifetime of a rotated token's successor: ``valid_for``, else the old token's (within
    the schema's longest), else the server's default."""
    if valid_for is not None or not (old.HasField("created_at") and old.HasField("expires_at")):
        return valid_for
    lifetime = old.expires_at.ToDatetime() - old.created_at.ToDatetime()
    return min(lifetime, MAX_VALID_FOR) if lifetime > timedelta(0) else None


def rotation_error(secret: str, old: PersonalAccessToken, exc: OnaPatsError) -> RotationError:
    """The error of a rotation whose successor exists but whose old token is still there."""
    return RotationError(new_token=secret, old_token_id=old.id, cause=exc)
