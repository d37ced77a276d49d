"""The bootstrap admin survives rotation: the admin user's tokens are admin tokens, and the
last admin token cannot be deleted (``failed_precondition``, with what to do instead)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from ona_pats import Client, FailedPreconditionError, PermissionDeniedError
from ona_pats.server import Server


@pytest.fixture
def fresh() -> Iterator[Server]:
    with Server(port=0) as srv:
        yield srv


def _sees_everyone(server: Server, token: str, other_user: str) -> bool:
    with Client(token=token, base_url=server.base_url) as client:
        listed = client.users.pats.list(filter={"user_ids": [other_user]})
        return all(pat.user_id == other_user for pat in listed)


def test_rotating_the_admin_token_keeps_an_admin(fresh: Server) -> None:
    """Before, the successor was an ordinary token and the database had no admin left."""
    admin_token = fresh.admin_token
    assert admin_token is not None
    someone = fresh.create_user_token(str(uuid.uuid4()))
    with Client(token=admin_token, base_url=fresh.base_url) as client:
        admin_pat = next(iter(client.users.pats.list(filter={"user_ids": [fresh.admin_user_id]})))
        successor = client.users.pats.rotate(personal_access_token_id=admin_pat.id)
    assert _sees_everyone(fresh, successor, someone.user_id)
    with Client(token=successor, base_url=fresh.base_url) as client:
        ids = [p.id for p in client.users.pats.list(filter={"user_ids": [fresh.admin_user_id]})]
    assert admin_pat.id not in ids


def test_the_last_admin_token_cannot_be_deleted(fresh: Server) -> None:
    admin_token = fresh.admin_token
    assert admin_token is not None
    with Client(token=admin_token, base_url=fresh.base_url) as client:
        admin_pat = next(iter(client.users.pats.list(filter={"user_ids": [fresh.admin_user_id]})))
        with pytest.raises(FailedPreconditionError, match="last admin token"):
            client.users.pats.delete(personal_access_token_id=admin_pat.id)
        # Still the admin.
        assert client.users.pats.get(personal_access_token_id=admin_pat.id).id == admin_pat.id


def test_tokens_the_admin_makes_for_others_are_not_admin(fresh: Server) -> None:
    admin_token = fresh.admin_token
    assert admin_token is not None
    other, third = str(uuid.uuid4()), str(uuid.uuid4())
    fresh.create_user_token(third)
    with Client(token=admin_token, base_url=fresh.base_url) as client:
        secret = client.users.pats.create(user_id=other)
    with (
        Client(token=secret, base_url=fresh.base_url) as client,
        pytest.raises(PermissionDeniedError),
    ):
        list(client.users.pats.list(filter={"user_ids": [third]}))
