"""The server under the project's own client, both protocols, sync and async."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ona_pats import (
    AsyncClient,
    Client,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    UnauthenticatedError,
    WireProtocol,
)
from ona_pats.server import IssuedToken, Server, seed_tokens


@pytest.fixture(params=["proto", "json"])
def protocol(request: pytest.FixtureRequest) -> WireProtocol:
    """Each wire protocol of the client in turn."""
    name: WireProtocol = request.param
    return name


def _client(server: Server, token: str, protocol: WireProtocol, *, use_get: bool = False) -> Client:
    return Client(token=token, base_url=server.base_url, protocol=protocol, use_get=use_get)


def _async_client(server: Server, token: str, protocol: WireProtocol) -> AsyncClient:
    return AsyncClient(token=token, base_url=server.base_url, protocol=protocol)


def test_sync_client_full_cycle(server: Server, alice: IssuedToken, protocol: WireProtocol) -> None:
    with _client(server, alice.token, protocol) as client:
        pats = client.users.pats
        secret = pats.create(
            user_id=alice.user_id, description="sync", valid_for=timedelta(days=7), read_only=True
        )
        new = [pat for pat in pats.list() if pat.id != alice.id]
        assert [(pat.description, pat.read_only) for pat in new] == [("sync", True)]
        assert pats.get(personal_access_token_id=new[0].id).id == new[0].id
        lifetime = new[0].expires_at.ToSeconds() - new[0].created_at.ToSeconds()
        assert lifetime == 7 * 24 * 3600
        with _client(server, secret, protocol) as reader, pytest.raises(PermissionDeniedError):
            reader.users.pats.delete(personal_access_token_id=alice.id)
        pats.delete(personal_access_token_id=new[0].id)
        with pytest.raises(NotFoundError):
            pats.get(personal_access_token_id=new[0].id)
        assert [pat.id for pat in pats.list()] == [alice.id]


@pytest.mark.anyio
async def test_async_client_full_cycle(
    server: Server, alice: IssuedToken, protocol: WireProtocol
) -> None:
    async with _async_client(server, alice.token, protocol) as client:
        pats = client.users.pats
        secret = await pats.create(user_id=alice.user_id, description="async")
        new = [pat async for pat in pats.list() if pat.id != alice.id]
        assert [pat.description for pat in new] == ["async"]
        assert (await pats.get(personal_access_token_id=new[0].id)).id == new[0].id
        async with _async_client(server, secret, protocol) as itself:
            await itself.users.pats.delete(personal_access_token_id=new[0].id)
        with pytest.raises(NotFoundError):
            await pats.get(personal_access_token_id=new[0].id)


@pytest.mark.parametrize("use_get", [False, True], ids=["post", "get"])
def test_sync_client_lists_every_page(
    server: Server, alice: IssuedToken, protocol: WireProtocol, use_get: bool
) -> None:
    seed_tokens(server.store, 130, user_ids=[alice.user_id])
    expected = [pat.id for pat in server.store.list([alice.user_id], None, 1000)]
    with _client(server, alice.token, protocol, use_get=use_get) as client:
        pages = list(client.users.pats.list(page_size=40).pages())
    assert [len(page.items) for page in pages] == [40, 40, 40, 11]
    assert [pat.id for page in pages for pat in page.items] == expected


@pytest.mark.anyio
async def test_async_client_lists_every_page(
    server: Server, alice: IssuedToken, protocol: WireProtocol
) -> None:
    seed_tokens(server.store, 60, user_ids=[alice.user_id])
    expected = [pat.id for pat in server.store.list([alice.user_id], None, 1000)]
    async with _async_client(server, alice.token, protocol) as client:
        ids = [pat.id async for pat in client.users.pats.list(page_size=25)]
    assert ids == expected


def test_sync_client_resumes_from_a_saved_token(
    server: Server, alice: IssuedToken, protocol: WireProtocol
) -> None:
    seed_tokens(server.store, 30, user_ids=[alice.user_id])
    with _client(server, alice.token, protocol) as client:
        first = next(iter(client.users.pats.list(page_size=10).pages()))
        rest = list(client.users.pats.list(page_size=10, token=first.next_token))
    ids = [pat.id for pat in first.items] + [pat.id for pat in rest]
    assert len(ids) == len(set(ids)) == 31


def test_sync_client_rotate(server: Server, alice: IssuedToken, protocol: WireProtocol) -> None:
    victim = server.create_user_token(alice.user_id, description="to rotate", read_only=True)
    with _client(server, alice.token, protocol) as client:
        secret = client.users.pats.rotate(personal_access_token_id=victim.id)
        with pytest.raises(NotFoundError):
            client.users.pats.get(personal_access_token_id=victim.id)
    with _client(server, secret, protocol) as successor:
        mine = [pat for pat in successor.users.pats.list() if pat.description == "to rotate"]
    assert [pat.read_only for pat in mine] == [True]


def test_sync_client_sees_each_denial(
    server: Server, alice: IssuedToken, bob: IssuedToken, protocol: WireProtocol
) -> None:
    with _client(server, alice.token, protocol) as client:
        with pytest.raises(PermissionDeniedError):
            list(client.users.pats.list(filter={"user_ids": [bob.user_id]}))
        with pytest.raises(PermissionDeniedError):
            client.users.pats.create(user_id=bob.user_id)
        with pytest.raises(NotFoundError):
            client.users.pats.delete(personal_access_token_id=bob.id)
        with pytest.raises(InvalidArgumentError):
            list(client.users.pats.list(token="forged"))
    with (
        _client(server, "onapat_" + "0" * 59, protocol) as stranger,
        pytest.raises(UnauthenticatedError),
    ):
        list(stranger.users.pats.list())


@pytest.mark.anyio
async def test_async_client_sees_each_denial(
    server: Server, alice: IssuedToken, bob: IssuedToken, protocol: WireProtocol
) -> None:
    reader = server.create_user_token(alice.user_id, read_only=True)
    async with _async_client(server, reader.token, protocol) as client:
        with pytest.raises(PermissionDeniedError):
            await client.users.pats.delete(personal_access_token_id=reader.id)
        with pytest.raises(PermissionDeniedError):
            await client.users.pats.create(user_id=alice.user_id)
        with pytest.raises(NotFoundError):
            await client.users.pats.get(personal_access_token_id=bob.id)


def test_client_errors_carry_the_server_request_id(
    server: Server, alice: IssuedToken, protocol: WireProtocol
) -> None:
    with _client(server, alice.token, protocol) as client, pytest.raises(NotFoundError) as caught:
        client.users.pats.get(personal_access_token_id="3f0f3c1e-8d1c-4a37-9a53-2b1c2f0f9a11")
    assert caught.value.request_id is not None
    assert len(caught.value.request_id) == 32
