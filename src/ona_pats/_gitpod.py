"""The Python surface of Ona's API reference: its models and what its clients share.

``Gitpod`` / ``AsyncGitpod`` and their resources and pages are in ``_async/_gitpod.py`` (and
its generated sync half).

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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, TypedDict

from ._aliases import PatListFilter
from ._exceptions import PaginationError
from ._json import to_dict as _message_to_dict
from ._pagination import Page
from ._schema import identity_pb2, user_pb2
from ._timestamps import optional_datetime

if TYPE_CHECKING:
    from ._async._client import AsyncClient
    from ._sync._client import Client


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


@dataclass(frozen=True)
class Subject(_Model):
    """Who created a token: ``id`` (a UUID) and ``principal`` (the enum's name)."""

    id: str | None
    principal: str | None
    _message: identity_pb2.Subject = field(compare=False, repr=False)

    @classmethod
    def from_message(cls, message: identity_pb2.Subject) -> Subject:
        """The model of a ``gitpod.v1.Subject``."""
        principal = identity_pb2.Principal.Name(message.principal)
        return cls(id=message.id, principal=principal, _message=message)


@dataclass(frozen=True)
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
    _message: user_pb2.PersonalAccessToken = field(compare=False, repr=False)

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
class Query:
    """The listing a page belongs to, so that the next one can be fetched."""

    filter: PatListFilter | None
    page_size: int | None
    timeout: float | None


def query_of(
    filter: PatListFilter | None,
    page_size: int | None,
    pagination: PaginationParams | None,
    token: str | None,
    timeout: float | None,
) -> tuple[Query, str]:
    pagination = pagination or {}
    size = pagination.get("page_size", page_size)
    return Query(filter, size, timeout), pagination.get("token", token) or ""


class PageBase:
    """What both page classes share: the fields and the next-page decisions."""

    def __init__(self, page: Page[user_pb2.PersonalAccessToken], query: Query) -> None:
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


class GitpodBase:
    """What both reference-SDK clients share: ``base_url`` and the repr."""

    _client: Client | AsyncClient

    @property
    def base_url(self) -> str:
        """The base URL calls are sent to."""
        return self._client.base_url

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self._client.base_url!r})"
