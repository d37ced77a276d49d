"""Type-checked, never executed: the public API's types as mypy and pyright (Pylance) see them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import assert_type

import httpx
from connectrpc.code import Code

import ona_pats
from ona_pats import (
    APIError,
    AsyncClient,
    AsyncPager,
    Client,
    NotFoundError,
    Page,
    Pager,
    RawResponse,
    RotationError,
    ValidationError,
)
from ona_pats.types import PersonalAccessToken

USER = "f53d2330-3795-4c5d-a1f3-453121af9c60"


def sync_api() -> None:
    with Client(token="t", base_url="http://127.0.0.1:1", protocol="json") as client:
        pats = client.users.pats
        listing = pats.list(filter={"user_ids": [USER]}, page_size=20)
        assert_type(listing, Pager[PersonalAccessToken])
        for pat in pats.list():
            assert_type(pat, PersonalAccessToken)
        for page in pats.list(limit=5).pages():
            assert_type(page, Page[PersonalAccessToken])
            assert_type(page.items, Sequence[PersonalAccessToken])
            assert_type(page.next_token, str)
        assert_type(pats.get(personal_access_token_id=USER), PersonalAccessToken)
        assert_type(pats.create(user_id=USER, valid_for=timedelta(days=1)), str)
        assert_type(pats.delete(personal_access_token_id=USER), None)
        assert_type(pats.rotate(personal_access_token_id=USER), str)
        raw = pats.with_raw_response.get(personal_access_token_id=USER, timeout=1.0)
        assert_type(raw, RawResponse[PersonalAccessToken])
        assert_type(raw.headers, Mapping[str, str])
        assert_type(raw.http_status, int | None)
        assert_type(raw.parse(), PersonalAccessToken)
    with httpx.Client() as http:
        Client(http_client=http, max_retries=0, timeout=None, sleep=lambda _: None)


async def async_api() -> None:
    async with AsyncClient(token="t") as client:
        pats = client.users.pats
        assert_type(pats.list(), AsyncPager[PersonalAccessToken])
        async for pat in pats.list():
            assert_type(pat, PersonalAccessToken)
        async for page in pats.list().pages():
            assert_type(page, Page[PersonalAccessToken])
        assert_type(await pats.get(personal_access_token_id=USER), PersonalAccessToken)
        assert_type(await pats.create(user_id=USER), str)
        assert_type(await pats.rotate(personal_access_token_id=USER), str)
        raw = await pats.with_raw_response.create(user_id=USER)
        assert_type(raw.parse(), str)


def errors() -> None:
    try:
        Client()
    except NotFoundError as exc:
        assert_type(exc.code, Code)
        assert_type(exc.http_status, int | None)
        assert_type(exc.request_id, str | None)
        assert_type(exc.headers, Mapping[str, str])
    except ValidationError as exc:
        assert_type(exc.field, str)
    except RotationError as exc:
        assert_type(exc.new_token, str)
    except APIError as exc:
        assert_type(exc.message, str)
    except ona_pats.OnaPatsError:
        pass


def gitpod_surface() -> None:
    from datetime import datetime

    with ona_pats.Gitpod(bearer_token="t") as client:
        page = client.users.pats.list(pagination={"page_size": 20}, filter={"user_ids": [USER]})
        assert_type(page, ona_pats.SyncPersonalAccessTokensPage)
        assert_type(page.pagination.next_token, str)
        for pat in page:
            assert_type(pat.last_used, datetime | None)
            assert_type(pat.to_json(), str)
        for each in page.iter_pages():
            assert_type(each.has_next_page(), bool)
        assert_type(client.users.pats.get(personal_access_token_id=USER).pat.id, str | None)
    assert_type(ona_pats.optional_datetime(PersonalAccessToken(), "last_used"), datetime | None)
