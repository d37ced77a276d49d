"""The reference SDK's Python surface (``from gitpod import Gitpod``) runs against this project
with only its import line changed: the seed's example verbatim, multi-page listings through
``iter_pages()``, ``get``/``delete``, the documented model types, and our typed errors."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from connectrpc.request import RequestContext

import ona_pats
from ona_pats import (
    AsyncGitpod,
    Gitpod,
    NotFoundError,
    PaginationError,
    SyncPersonalAccessTokensPage,
    optional_datetime,
)
from ona_pats.rpc import UserServiceASGIApplication
from ona_pats.server import Server
from ona_pats.types import (
    ListPersonalAccessTokensRequest,
    ListPersonalAccessTokensResponse,
    PersonalAccessToken,
)

from ._fake import ScriptedService, serve_asgi
from .conftest import TOKEN
from .test_pagination import _page

SEED_USER = "f53d2330-3795-4c5d-a1f3-453121af9c60"
#: A verbatim copy of ../shared/seeds/ona-docs-list-personal-access-tokens-python.txt.
SEED_PAGE = Path(__file__).resolve().parents[1] / "testdata" / "seeds"
MISSING_ID = "00000000-0000-4000-8000-000000000000"


def _seed_example() -> str:
    """The Python example of the ListPersonalAccessTokens page, as published."""
    text = (SEED_PAGE / "ona-docs-list-personal-access-tokens-python.txt").read_text()
    start = text.index("import os\nfrom gitpod import Gitpod")
    end = text.index("print(page.id)", start) + len("print(page.id)")
    return text[start:end] + "\n"


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with Server(port=0) as srv:
        for index in range(45):
            srv.create_user_token(SEED_USER, description=f"seed token {index}")
        yield srv


@pytest.fixture
def gitpod_env(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment the seed example reads: GITPOD_API_KEY (the admin, who may filter by any
    user) and the base URL."""
    for name in ("ONA_API_KEY", "ONA_BASE_URL", "GITPOD_BASE_URL", "GITPOD_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    assert server.admin_token is not None
    monkeypatch.setenv("GITPOD_API_KEY", server.admin_token)
    monkeypatch.setenv("GITPOD_BASE_URL", server.base_url)


def test_the_seed_example_runs_with_only_its_import_changed(gitpod_env: None) -> None:
    """Before, it failed three ways: ``Gitpod(bearer_token=...)``, ``list(pagination=...)`` and
    ``page.personal_access_tokens[0]``."""
    example = _seed_example()
    changed = example.replace("from gitpod import Gitpod", "from ona_pats import Gitpod")
    assert [
        a for a, b in zip(example.splitlines(), changed.splitlines(), strict=True) if a != b
    ] == ["from gitpod import Gitpod"]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(changed, "seed-example", "exec"), {"__name__": "seed"})  # noqa: S102
    printed = out.getvalue().strip()
    assert printed
    with Gitpod() as client:
        ids = {pat.id for pat in client.users.pats.list(filter={"user_ids": [SEED_USER]})}
    assert printed in ids


def test_multi_page_listing_through_iter_pages(gitpod_env: None) -> None:
    with Gitpod() as client:
        first = client.users.pats.list(
            filter={"user_ids": [SEED_USER]}, pagination={"page_size": 20}
        )
        assert isinstance(first, SyncPersonalAccessTokensPage)
        assert len(first.personal_access_tokens) == 20
        assert first.has_next_page()
        info = first.next_page_info()
        assert info is not None
        assert info.json == {"pagination": {"token": first.pagination.next_token}}
        pages = list(first.iter_pages())
        assert [len(p.personal_access_tokens) for p in pages] == [20, 20, 5]
        assert not pages[-1].has_next_page()
        assert pages[-1].next_page_info() is None
        everything = [pat.id for pat in first]
        assert len(everything) == len(set(everything)) == 45
        second = first.get_next_page()
        assert [p.id for p in second.personal_access_tokens] == [
            p.id for p in pages[1].personal_access_tokens
        ]
        with pytest.raises(PaginationError):
            pages[-1].get_next_page()


def test_token_and_page_size_arguments_as_the_reference_takes_them(gitpod_env: None) -> None:
    with Gitpod() as client:
        first = client.users.pats.list(page_size=10, filter={"user_ids": [SEED_USER]})
        resumed = client.users.pats.list(
            token=first.pagination.next_token, page_size=10, filter={"user_ids": [SEED_USER]}
        )
    assert len(first.personal_access_tokens) == 10
    assert {p.id for p in first.personal_access_tokens}.isdisjoint(
        p.id for p in resumed.personal_access_tokens
    )


def test_items_have_the_documented_python_types(server: Server, gitpod_env: None) -> None:
    issued = server.create_user_token(SEED_USER, description="never used")
    with Gitpod() as client:
        pat = client.users.pats.get(personal_access_token_id=issued.id).pat
    assert isinstance(pat.created_at, datetime)
    assert pat.created_at.tzinfo is not None
    assert isinstance(pat.expires_at, datetime)
    assert pat.last_used is None, "a token never used has no last_used (not 1970-01-01)"
    assert pat.creator is not None
    assert pat.creator.principal == "PRINCIPAL_USER"
    assert pat.read_only is False
    data = json.loads(pat.to_json())
    assert set(data) >= {"id", "userId", "description", "creator", "createdAt", "expiresAt"}
    assert data["creator"]["principal"] == "PRINCIPAL_USER"
    assert data["createdAt"].endswith("Z")
    assert pat.to_dict(mode="json") == data
    assert isinstance(pat.to_dict()["createdAt"], datetime)
    assert issued.token not in repr(pat)


def test_get_and_delete(server: Server, gitpod_env: None) -> None:
    issued = server.create_user_token(SEED_USER, description="to delete")
    with Gitpod() as client:
        assert client.users.pats.get(personal_access_token_id=issued.id).pat.id == issued.id
        assert client.users.pats.delete(personal_access_token_id=issued.id) == {}
        with pytest.raises(NotFoundError):
            client.users.pats.get(personal_access_token_id=issued.id)


def test_bearer_token_and_base_url_arguments(server: Server, no_env: None) -> None:
    assert server.admin_token is not None
    with Gitpod(bearer_token=server.admin_token, base_url=server.base_url) as client:
        assert client.users.pats.list().personal_access_tokens
    with pytest.raises(ona_pats.ConfigurationError):
        Gitpod(base_url=server.base_url)


def test_async_gitpod(gitpod_env: None) -> None:
    async def main() -> list[str]:
        async with AsyncGitpod() as client:
            first = await client.users.pats.list(
                filter={"user_ids": [SEED_USER]}, pagination={"page_size": 20}
            )
            pages = [page async for page in first.iter_pages()]
            assert [len(p.personal_access_tokens) for p in pages][:2] == [20, 20]
            second = await first.get_next_page()
            assert len(second.personal_access_tokens) == 20
            got = await client.users.pats.get(
                personal_access_token_id=first.personal_access_tokens[0].id or ""
            )
            assert got.pat.id == first.personal_access_tokens[0].id
            with pytest.raises(NotFoundError):
                await client.users.pats.delete(personal_access_token_id=MISSING_ID)
            return [pat.id or "" async for pat in first]

    ids = asyncio.run(main())
    assert len(ids) == len(set(ids)) >= 45


def test_optional_datetime_is_presence_aware() -> None:
    """A message field is always truthy and reads 1970-01-01 when unset; this says None."""
    pat = PersonalAccessToken(id="x")
    assert bool(pat.last_used)  # the trap
    assert optional_datetime(pat, "last_used") is None
    pat.last_used.FromSeconds(1_700_000_000)
    pat.last_used.nanos = 123_456_789
    when = optional_datetime(pat, "last_used")
    assert when is not None
    assert when.timestamp() == pytest.approx(1_700_000_000.123456)
    with pytest.raises(ona_pats.ValidationError):
        optional_datetime(pat, "last_used", truncate=False)


class _ThreePages(ScriptedService):
    """A listing of two tokens over three pages, the middle one empty."""

    def __init__(self) -> None:
        super().__init__()
        self.pages = iter([_page(["a"], "t1"), _page([], "t2"), _page(["b"], "")])

    async def list_personal_access_tokens(
        self, request: ListPersonalAccessTokensRequest, ctx: RequestContext[Any, Any], /
    ) -> ListPersonalAccessTokensResponse:
        return next(self.pages)


def test_empty_pages_are_followed_unlike_the_reference(no_env: None) -> None:
    """Iterating follows ``next_token`` through an empty page (the reference SDK stops)."""
    with (
        serve_asgi(UserServiceASGIApplication(_ThreePages())) as url,
        Gitpod(bearer_token=TOKEN, base_url=url) as client,
    ):
        assert [p.id for p in client.users.pats.list()] == ["a", "b"]
