"""Concurrent clients: creating and deleting while another paginates loses and repeats nothing."""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor

import anyio
import pytest

from ona_pats.rpc import UserServiceClient, UserServiceClientSync
from ona_pats.server import IssuedToken, Server, seed_tokens
from ona_pats.types import CreatePersonalAccessTokenRequest, DeletePersonalAccessTokenRequest

from .conftest import CODECS, bearer, list_request

SEEDED = 400
WRITERS = 6


@pytest.fixture
def dana(server: Server) -> IssuedToken:
    """A user with ``SEEDED`` tokens besides this one."""
    dana = server.create_user_token(description="dana laptop")
    seed_tokens(server.store, SEEDED, user_ids=[dana.user_id])
    return dana


def _ids(server: Server, user_id: str) -> list[str]:
    return [pat.id for pat in server.store.list([user_id], None, 100_000)]


def _writer(
    server: Server, dana: IssuedToken, victims: list[str], deleted: list[str], stop: threading.Event
) -> int:
    """Create a token, delete one of the original ones, repeat until told to stop."""
    created = 0
    with UserServiceClientSync(server.base_url, codec=CODECS["proto"]) as rpc:
        while not stop.is_set() and victims:
            request = CreatePersonalAccessTokenRequest(user_id=dana.user_id, description="racer")
            rpc.create_personal_access_token(request, headers=bearer(dana.token))
            created += 1
            try:
                victim = victims.pop()
            except IndexError:
                break
            delete = DeletePersonalAccessTokenRequest(personal_access_token_id=victim)
            rpc.delete_personal_access_token(delete, headers=bearer(dana.token))
            deleted.append(victim)
    return created


@pytest.mark.parametrize("codec", sorted(CODECS))
def test_paginating_while_others_create_and_delete(
    server: Server, dana: IssuedToken, codec: str
) -> None:
    before = _ids(server, dana.user_id)
    victims = [pat for pat in before if pat != dana.id]
    random.Random(5).shuffle(victims)
    victims = victims[: SEEDED // 2]
    deleted: list[str] = []
    stop = threading.Event()
    with ThreadPoolExecutor(WRITERS) as pool:
        writers = [
            pool.submit(_writer, server, dana, victims, deleted, stop) for _ in range(WRITERS)
        ]
        seen: list[str] = []
        with UserServiceClientSync(server.base_url, codec=CODECS[codec]) as rpc:
            next_token = ""
            while True:
                request = list_request(page_size=9, token=next_token)
                page = rpc.list_personal_access_tokens(request, headers=bearer(dana.token))
                seen += [pat.id for pat in page.personal_access_tokens]
                if not (next_token := page.pagination.next_token):
                    break
        stop.set()
        created = sum(writer.result() for writer in writers)
    after = set(_ids(server, dana.user_id))
    assert created > 0
    assert deleted
    assert len(seen) == len(set(seen)), "an item was repeated"
    survivors = set(before) - set(deleted)
    assert survivors <= set(seen), "an item that existed throughout was lost"
    assert set(seen) <= set(before) | after, "an item came from nowhere"
    assert len(after) == len(before) - len(deleted) + created


@pytest.mark.anyio
async def test_async_clients_in_parallel_all_succeed(server: Server, dana: IssuedToken) -> None:
    """Fifty concurrent async calls of every kind; each answers, none errors."""
    headers = bearer(dana.token)
    results: list[int] = []
    async with UserServiceClient(server.base_url) as rpc:

        async def lister() -> None:
            page = await rpc.list_personal_access_tokens(
                list_request(page_size=50), headers=headers
            )
            results.append(len(page.personal_access_tokens))

        async def creator() -> None:
            request = CreatePersonalAccessTokenRequest(user_id=dana.user_id, description="async")
            await rpc.create_personal_access_token(request, headers=headers)
            results.append(1)

        async with anyio.create_task_group() as group:
            for i in range(50):
                group.start_soon(lister if i % 2 else creator)
    assert len(results) == 50
    assert len(_ids(server, dana.user_id)) == SEEDED + 1 + 25
