"""Point 7, validation before sending: a ValidationError naming the field, nothing sent."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from connectrpc.code import Code

from ona_pats import AsyncClient, Client, ValidationError

from .conftest import USER_ID, ScriptedServer

CASES: list[Any] = [
    pytest.param(
        lambda p: p.get(personal_access_token_id="nope"), "personal_access_token_id", id="get-id"
    ),
    pytest.param(
        lambda p: p.delete(personal_access_token_id=""), "personal_access_token_id", id="delete-id"
    ),
    pytest.param(lambda p: p.create(user_id="u1"), "user_id", id="create-user-id"),
    pytest.param(
        lambda p: p.create(user_id=USER_ID, valid_for=timedelta(days=91)),
        "valid_for",
        id="valid-for-91-days",
    ),
    pytest.param(
        lambda p: p.create(user_id=USER_ID, valid_for=timedelta(seconds=-1)),
        "valid_for",
        id="valid-for-negative",
    ),
    pytest.param(lambda p: p.list(page_size=101), "pagination.page_size", id="page-size-101"),
    pytest.param(lambda p: p.list(page_size=-1), "pagination.page_size", id="page-size-neg"),
    pytest.param(
        lambda p: p.list(filter={"user_ids": [USER_ID] * 26}),
        "filter.user_ids",
        id="26-user-ids",
    ),
    pytest.param(
        lambda p: p.list(filter={"user_ids": [USER_ID, "bad"]}),
        "filter.user_ids[1]",
        id="bad-user-id",
    ),
    pytest.param(lambda p: p.list(filter={"creator_ids": []}), "filter", id="unknown-filter-key"),
    pytest.param(lambda p: p.list(limit=-5), "limit", id="negative-limit"),
]


@pytest.mark.parametrize(("call", "field"), CASES)
def test_sync_invalid_argument_is_rejected_before_sending(
    client: Client, scripted_server: ScriptedServer, call: Callable[[Any], Any], field: str
) -> None:
    with pytest.raises(ValidationError) as info:
        call(client.users.pats)
    assert info.value.field == field
    assert info.value.code is Code.INVALID_ARGUMENT
    assert str(info.value).startswith(field)
    assert scripted_server.requests == []


async def _maybe_await(call: Callable[[Any], Any], client: AsyncClient) -> None:
    result = call(client.users.pats)
    if inspect.isawaitable(result):
        await result


@pytest.mark.anyio
@pytest.mark.parametrize(("call", "field"), CASES)
async def test_async_invalid_argument_is_rejected_before_sending(
    async_client: AsyncClient,
    scripted_server: ScriptedServer,
    call: Callable[[Any], Any],
    field: str,
) -> None:
    with pytest.raises(ValidationError) as info:
        await _maybe_await(call, async_client)
    assert info.value.field == field
    assert scripted_server.requests == []


def test_limits_are_inclusive(client: Client, scripted_server: ScriptedServer) -> None:
    list(client.users.pats.list(page_size=100, filter={"user_ids": [USER_ID] * 25}))
    client.users.pats.create(user_id=USER_ID.upper(), valid_for=timedelta(days=90))
    assert len(scripted_server.requests) == 2
