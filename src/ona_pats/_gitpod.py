"""``Gitpod`` / ``AsyncGitpod``: the Python surface of Ona's API reference, over our clients.

Code written against the reference SDK (``from gitpod import Gitpod``) runs with one change,
the import line. This is a thin adapter: every call goes through :class:`~ona_pats.Client` /
:class:`~ona_pats.AsyncClient` (one transport, one retry loop, our typed errors); it only
reshapes arguments and results into the reference's models (``Optional[datetime]``
timestamps, ``principal`` as the enum's name, ``to_dict()`` / ``to_json()``).

One difference, on purpose: iterating a page (or ``iter_pages()``) follows ``next_token``
through empty pages, as the API defines the end of a listing; the reference SDK stops at the
first empty page.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self, TypedDict

from ._aliases import PatListFilter
from ._client import AsyncClient, Client
from ._config import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT
from ._exceptions import PaginationError
from ._json import to_dict as _message_to_dict
from ._pagination import AsyncPager, Page, Pager
from ._schema import identity_pb2, user_pb2
from ._timestamps import optional_datetime

if TYPE_CHECKING:
    import httpx


class PaginationParams(TypedDict, total=False):
    """The ``pagination`` argument of ``list``: ``{"token": ..., "page_size": ...}``."""

    token: str
    page_size: int


_Mode = Literal["python", "json"]


class _Model:
    """``to_dict()`` / ``to_json()`` in the API reference's shape (camelCase, RFC 3339)."""

    _message: Any

    def to_dict(self, *, mode: _Mode = "python") -> dict[str, Any]:
        """The model as a dict with the API's field names.

        Args:
            mode: ``"python"`` keeps ``datetime`` values; ``"json"`` gives what
                ``json.loads(to_json())`` gives (RFC 3339 strings).
        """
        data: dict[str, Any] = _message_to_dict(self._message)
        if mode == "json":
            return data
        return _with_datetimes(data, self._message)

    def to_json(self, *, indent: int | None = 2) -> str:
        """The model as JSON text in the API reference's shape (RFC 3339 UTC timestamps)."""
        return json.dumps(_message_to_dict(self._message), indent=indent, ensure_ascii=False)


def _with_datetimes(data: dict[str, Any], message: Any) -> dict[str, Any]:
    for descriptor in message.DESCRIPTOR.fields:
        if descriptor.json_name not in data:
            continue
        if descriptor.message_type is not None and descriptor.message_type.name == "Timestamp":
            data[descriptor.json_name] = optional_datetime(message, descriptor.name)
        elif descriptor.message_type is not None and isinstance(data[descriptor.json_name], dict):
            child = getattr(message, descriptor.name)
            data[descriptor.json_name] = _with_datetimes(data[descriptor.json_name], child)
    return data


@dataclass(frozen=True, repr=False)
class Subject(_Model):
    """Who created a token: ``id`` (a UUID) and ``principal`` (the enum's name)."""

    id: str | None
    principal: str | None
    _message: identity_pb2.Subject = field(compare=False)

    @classmethod
    def from_message(cls, message: identity_pb2.Subject) -> Subject:
        """The model of a ``gitpod.v1.Subject``."""
        principal = identity_pb2.Principal.Name(message.principal)
        return cls(id=message.id, principal=principal, _message=message)

    def __repr__(self) -> str:
        return f"Subject(id={self.id!r}, principal={self.principal!r})"


@dataclass(frozen=True, repr=False)
class PersonalAccessToken(_Model):
    """A personal access token's metadata, typed as the API reference documents it."""

    id: str | None
    user_id: str | None
    description: str | None
    creator: Subject | None
    created_at: datetime | None
    expires_at: datetime | None
    last_used: datetime | None
    read_only: bool | None
    _message: user_pb2.PersonalAccessToken = field(compare=False)

    @classmethod
    def from_message(cls, message: user_pb2.PersonalAccessToken) -> PersonalAccessToken:
        """The model of a ``gitpod.v1.PersonalAccessToken``; unset timestamps are ``None``."""
        creator = Subject.from_message(message.creator) if message.HasField("creator") else None
        return cls(
            id=message.id,
            user_id=message.user_id,
            description=message.description,
            creator=creator,
            created_at=optional_datetime(message, "created_at"),
            expires_at=optional_datetime(message, "expires_at"),
            last_used=optional_datetime(message, "last_used"),
            read_only=message.read_only,
            _message=message,
        )

    def __repr__(self) -> str:
        return (
            f"PersonalAccessToken(id={self.id!r}, user_id={self.user_id!r}, "
            f"description={self.description!r}, expires_at={self.expires_at!r})"
        )


@dataclass(frozen=True)
class Pagination:
    """The ``pagination`` of a page: ``next_token`` is empty on the last page."""

    next_token: str


@dataclass(frozen=True)
class PageInfo:
    """What ``next_page_info()`` returns: the request body that fetches the next page."""

    json: Mapping[str, Any]


@dataclass(frozen=True)
class PatGetResponse:
    """What ``get()`` returns: the token is ``.pat``."""

    pat: PersonalAccessToken


def _models(items: Sequence[user_pb2.PersonalAccessToken]) -> list[PersonalAccessToken]:
    return [PersonalAccessToken.from_message(item) for item in items]


@dataclass(frozen=True)
class _Query:
    """The listing a page belongs to, so that the next one can be fetched."""

    filter: PatListFilter | None
    page_size: int | None
    timeout: float | None


def _query(
    filter: PatListFilter | None,
    page_size: int | None,
    pagination: PaginationParams | None,
    token: str | None,
    timeout: float | None,
) -> tuple[_Query, str]:
    pagination = pagination or {}
    size = pagination.get("page_size", page_size)
    return _Query(filter, size, timeout), pagination.get("token", token) or ""


class _PageBase:
    """What both page classes share: the fields and the next-page decisions."""

    def __init__(self, page: Page[user_pb2.PersonalAccessToken], query: _Query) -> None:
        self.personal_access_tokens: list[PersonalAccessToken] = _models(page.items)
        """The tokens of this page (possibly none, even when more pages follow)."""
        self.pagination = Pagination(page.next_token)
        """``.next_token``: the token of the next page, empty on the last page."""
        self._query = query

    def has_next_page(self) -> bool:
        """Whether another page follows (the server sent a next token)."""
        return bool(self.pagination.next_token)

    def next_page_info(self) -> PageInfo | None:
        """The request body of the next page, or ``None`` on the last page."""
        if not self.has_next_page():
            return None
        return PageInfo(json={"pagination": {"token": self.pagination.next_token}})

    def _next_token(self) -> str:
        if not self.has_next_page():
            raise PaginationError("no next page: this is the last page; check has_next_page()")
        return self.pagination.next_token


class SyncPersonalAccessTokensPage(_PageBase):
    """One page of ``client.users.pats.list()``; iterating it yields every token of every
    page from here on.

    ```python
    page = client.users.pats.list(pagination={"page_size": 20})
    page.personal_access_tokens, page.pagination.next_token
    for pat in page:  # this page and all that follow
        ...
    ```
    """

    def __init__(
        self, page: Page[user_pb2.PersonalAccessToken], query: _Query, client: Client
    ) -> None:
        super().__init__(page, query)
        self._client = client

    def _pager(self, token: str) -> Pager[user_pb2.PersonalAccessToken]:
        query = self._query
        return self._client.users.pats.list(
            filter=query.filter, page_size=query.page_size, token=token, timeout=query.timeout
        )

    def get_next_page(self) -> SyncPersonalAccessTokensPage:
        """Fetch the next page.

        Raises:
            PaginationError: this is the last page.
            APIError: the page could not be fetched.
        """
        page = next(iter(self._pager(self._next_token()).pages()))
        return SyncPersonalAccessTokensPage(page, self._query, self._client)

    def iter_pages(self) -> Iterator[SyncPersonalAccessTokensPage]:
        """This page, then every page that follows (through empty ones)."""
        yield self
        if self.has_next_page():
            for page in self._pager(self.pagination.next_token).pages():
                yield SyncPersonalAccessTokensPage(page, self._query, self._client)

    def __iter__(self) -> Iterator[PersonalAccessToken]:
        for page in self.iter_pages():
            yield from page.personal_access_tokens


class AsyncPersonalAccessTokensPage(_PageBase):
    """The async twin of :class:`SyncPersonalAccessTokensPage`: ``async for`` yields tokens."""

    def __init__(
        self, page: Page[user_pb2.PersonalAccessToken], query: _Query, client: AsyncClient
    ) -> None:
        super().__init__(page, query)
        self._client = client

    def _pager(self, token: str) -> AsyncPager[user_pb2.PersonalAccessToken]:
        query = self._query
        return self._client.users.pats.list(
            filter=query.filter, page_size=query.page_size, token=token, timeout=query.timeout
        )

    async def get_next_page(self) -> AsyncPersonalAccessTokensPage:
        """Fetch the next page.

        Raises:
            PaginationError: this is the last page.
            APIError: the page could not be fetched.
        """
        async for page in self._pager(self._next_token()).pages():
            return AsyncPersonalAccessTokensPage(page, self._query, self._client)
        raise PaginationError("the server sent no next page")  # pragma: no cover

    async def iter_pages(self) -> AsyncIterator[AsyncPersonalAccessTokensPage]:
        """This page, then every page that follows (through empty ones)."""
        yield self
        if self.has_next_page():
            async for page in self._pager(self.pagination.next_token).pages():
                yield AsyncPersonalAccessTokensPage(page, self._query, self._client)

    async def __aiter__(self) -> AsyncIterator[PersonalAccessToken]:
        async for page in self.iter_pages():
            for pat in page.personal_access_tokens:
                yield pat


class PatsResource:
    """``client.users.pats`` of :class:`Gitpod`: ``list``, ``get``, ``delete``."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def list(
        self,
        *,
        token: str | None = None,
        page_size: int | None = None,
        filter: PatListFilter | None = None,
        pagination: PaginationParams | None = None,
        timeout: float | None = None,
    ) -> SyncPersonalAccessTokensPage:
        """Fetch the first page of a listing (``pagination`` wins over ``token``/``page_size``).

        Raises:
            ValidationError: an invalid argument; nothing was sent.
            APIError: the page could not be fetched.
        """
        query, start = _query(filter, page_size, pagination, token, timeout)
        pager = self._client.users.pats.list(
            filter=query.filter, page_size=query.page_size, token=start, timeout=timeout
        )
        return SyncPersonalAccessTokensPage(next(iter(pager.pages())), query, self._client)

    def get(self, *, personal_access_token_id: str, timeout: float | None = None) -> PatGetResponse:
        """Get one token; the result's ``.pat`` is it.

        Raises:
            ValidationError: the id is not a UUID; nothing was sent.
            APIError: the call failed (``NotFoundError``, ...).
        """
        pat = self._client.users.pats.get(
            personal_access_token_id=personal_access_token_id, timeout=timeout
        )
        return PatGetResponse(PersonalAccessToken.from_message(pat))

    def delete(self, *, personal_access_token_id: str, timeout: float | None = None) -> object:
        """Delete (revoke) a token; returns an empty object, as the reference SDK does.

        Raises:
            ValidationError: the id is not a UUID; nothing was sent.
            APIError: the call failed.
        """
        self._client.users.pats.delete(
            personal_access_token_id=personal_access_token_id, timeout=timeout
        )
        return {}


class AsyncPatsResource:
    """``client.users.pats`` of :class:`AsyncGitpod`."""

    def __init__(self, client: AsyncClient) -> None:
        self._client = client

    async def list(
        self,
        *,
        token: str | None = None,
        page_size: int | None = None,
        filter: PatListFilter | None = None,
        pagination: PaginationParams | None = None,
        timeout: float | None = None,
    ) -> AsyncPersonalAccessTokensPage:
        """Fetch the first page of a listing (``pagination`` wins over ``token``/``page_size``).

        Raises:
            ValidationError: an invalid argument; nothing was sent.
            APIError: the page could not be fetched.
        """
        query, start = _query(filter, page_size, pagination, token, timeout)
        pager = self._client.users.pats.list(
            filter=query.filter, page_size=query.page_size, token=start, timeout=timeout
        )
        async for page in pager.pages():
            return AsyncPersonalAccessTokensPage(page, query, self._client)
        raise PaginationError("the server sent no page")  # pragma: no cover

    async def get(
        self, *, personal_access_token_id: str, timeout: float | None = None
    ) -> PatGetResponse:
        """Get one token; the result's ``.pat`` is it."""
        pat = await self._client.users.pats.get(
            personal_access_token_id=personal_access_token_id, timeout=timeout
        )
        return PatGetResponse(PersonalAccessToken.from_message(pat))

    async def delete(
        self, *, personal_access_token_id: str, timeout: float | None = None
    ) -> object:
        """Delete (revoke) a token; returns an empty object, as the reference SDK does."""
        await self._client.users.pats.delete(
            personal_access_token_id=personal_access_token_id, timeout=timeout
        )
        return {}


class UsersResource:
    """``client.users`` of :class:`Gitpod`."""

    def __init__(self, client: Client) -> None:
        self.pats = PatsResource(client)


class AsyncUsersResource:
    """``client.users`` of :class:`AsyncGitpod`."""

    def __init__(self, client: AsyncClient) -> None:
        self.pats = AsyncPatsResource(client)


class _GitpodBase:
    """What both reference-SDK clients share: the options they pass on, ``base_url``, repr."""

    _client: Client | AsyncClient

    @staticmethod
    def _options(
        bearer_token: str | None,
        base_url: str | None,
        timeout: float | None,
        max_retries: int,
        default_headers: Mapping[str, str] | None,
    ) -> dict[str, Any]:
        return {
            "token": bearer_token,
            "base_url": base_url,
            "timeout": timeout,
            "max_retries": max_retries,
            "default_headers": default_headers,
        }

    @property
    def base_url(self) -> str:
        """The base URL calls are sent to."""
        return self._client.base_url

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self._client.base_url!r})"


class Gitpod(_GitpodBase):
    """The reference SDK's client (``from gitpod import Gitpod``), over :class:`Client`.

    ```python
    from ona_pats import Gitpod

    client = Gitpod()  # bearer_token from ONA_API_KEY or GITPOD_API_KEY
    page = client.users.pats.list(pagination={"page_size": 20})
    print(page.personal_access_tokens[0].id)
    ```

    Args:
        bearer_token: the API token; default ``ONA_API_KEY``, then ``GITPOD_API_KEY``.
        base_url: default ``ONA_BASE_URL``, then ``GITPOD_BASE_URL``, then Ona's API.
        timeout: seconds one call may take in all (``None``: no limit).
        max_retries: retries of List and Get on transient failures.
        default_headers: headers added to every request.
        http_client: an ``httpx.Client`` to send through; you close it.

    Raises:
        ConfigurationError: no token, or an unusable base URL.
    """

    def __init__(
        self,
        *,
        bearer_token: str | None = None,
        base_url: str | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        options = self._options(bearer_token, base_url, timeout, max_retries, default_headers)
        self._client: Client = Client(**options, http_client=http_client)
        client = self._client
        self.users = UsersResource(client)

    def close(self) -> None:
        """Close the connections this client opened."""
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncGitpod(_GitpodBase):
    """The reference SDK's async client (``from gitpod import AsyncGitpod``).

    Takes the arguments of :class:`Gitpod`, with an ``httpx.AsyncClient`` as ``http_client``.
    """

    def __init__(
        self,
        *,
        bearer_token: str | None = None,
        base_url: str | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Mapping[str, str] | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        options = self._options(bearer_token, base_url, timeout, max_retries, default_headers)
        self._client: AsyncClient = AsyncClient(**options, http_client=http_client)
        client = self._client
        self.users = AsyncUsersResource(client)

    async def close(self) -> None:
        """Close the connections this client opened."""
        await self._client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
