"""The reference SDK's client (``from gitpod import AsyncGitpod``) over our own client.

The models and the shared page logic are ``_gitpod.py``'s; this is the part that calls.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Self

from ona_pats._aliases import PatListFilter
from ona_pats._config import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT
from ona_pats._exceptions import PaginationError
from ona_pats._gitpod import (
    GitpodBase,
    PageBase,
    PaginationParams,
    PatGetResponse,
    PersonalAccessToken,
    Query,
    query_of,
)
from ona_pats._pagination import Page
from ona_pats._schema import user_pb2

from ._client import AsyncClient
from ._pagination import AsyncPager

if TYPE_CHECKING:
    import httpx


class AsyncPersonalAccessTokensPage(PageBase):
    """One page of ``client.users.pats.list()``; iterating it yields every token of every
    page from here on.

    ```python
    page = await client.users.pats.list(pagination={"page_size": 20})
    page.personal_access_tokens, page.pagination.next_token
    async for pat in page:  # this page and all that follow
        ...
    ```
    """

    def __init__(
        self, page: Page[user_pb2.PersonalAccessToken], query: Query, client: AsyncClient
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


class AsyncPatsResource:
    """``client.users.pats``: ``list``, ``get``, ``delete``."""

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
        query, start = query_of(filter, page_size, pagination, token, timeout)
        pager = self._client.users.pats.list(
            filter=query.filter, page_size=query.page_size, token=start, timeout=timeout
        )
        async for page in pager.pages():
            return AsyncPersonalAccessTokensPage(page, query, self._client)
        raise PaginationError("the server sent no page")  # pragma: no cover

    async def get(
        self, *, personal_access_token_id: str, timeout: float | None = None
    ) -> PatGetResponse:
        """Get one token; the result's ``.pat`` is it.

        Raises:
            ValidationError: the id is not a UUID; nothing was sent.
            APIError: the call failed (``NotFoundError``, ...).
        """
        pat = await self._client.users.pats.get(
            personal_access_token_id=personal_access_token_id, timeout=timeout
        )
        return PatGetResponse(PersonalAccessToken.from_message(pat))

    async def delete(
        self, *, personal_access_token_id: str, timeout: float | None = None
    ) -> object:
        """Delete (revoke) a token; returns an empty object, as the reference SDK does.

        Raises:
            ValidationError: the id is not a UUID; nothing was sent.
            APIError: the call failed.
        """
        await self._client.users.pats.delete(
            personal_access_token_id=personal_access_token_id, timeout=timeout
        )
        return {}


class AsyncUsersResource:
    """``client.users``."""

    def __init__(self, client: AsyncClient) -> None:
        self.pats = AsyncPatsResource(client)


class AsyncGitpod(GitpodBase):
    """The reference SDK's client (``from gitpod import AsyncGitpod``), over :class:`AsyncClient`.

    ```python
    from ona_pats import AsyncGitpod

    client = AsyncGitpod()  # bearer_token from ONA_API_KEY or GITPOD_API_KEY
    page = await client.users.pats.list(pagination={"page_size": 20})
    print(page.personal_access_tokens[0].id)
    ```

    Args:
        bearer_token: the API token; default ``ONA_API_KEY``, then ``GITPOD_API_KEY``.
        base_url: default ``ONA_BASE_URL``, then ``GITPOD_BASE_URL``, then Ona's API.
        timeout: seconds one call may take in all (``None``: no limit).
        max_retries: retries of List and Get on transient failures.
        default_headers: headers added to every request.
        http_client: an ``httpx.AsyncClient`` to send through; you close it.

    Raises:
        ConfigurationError: no token, or an unusable base URL.
    """

    _client: AsyncClient

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
        self._client = AsyncClient(
            token=bearer_token,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
            http_client=http_client,
        )
        self.users = AsyncUsersResource(self._client)

    async def close(self) -> None:
        """Close the connections this client opened."""
        await self._client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()
