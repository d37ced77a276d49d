"""Request validation exactly as the official schema's buf.validate rules say."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from connectrpc.code import Code
from connectrpc.errors import ConnectError
from google.protobuf.duration_pb2 import Duration

from ona_pats.rpc import UserServiceClientSync
from ona_pats.server import IssuedToken, Server
from ona_pats.types import (
    CreatePersonalAccessTokenRequest,
    DeletePersonalAccessTokenRequest,
    GetPersonalAccessTokenRequest,
)

from .conftest import bearer, list_request

DAY = 24 * 3600
Call = Callable[[UserServiceClientSync, IssuedToken], object]


def _create(*, user_id: str | None = None, **fields: Any) -> Call:
    def call(rpc: UserServiceClientSync, caller: IssuedToken) -> object:
        request = CreatePersonalAccessTokenRequest(
            user_id=caller.user_id if user_id is None else user_id, **fields
        )
        return rpc.create_personal_access_token(request, headers=bearer(caller.token))

    return call


def _get(pat_id: str) -> Call:
    def call(rpc: UserServiceClientSync, caller: IssuedToken) -> object:
        request = GetPersonalAccessTokenRequest(personal_access_token_id=pat_id)
        return rpc.get_personal_access_token(request, headers=bearer(caller.token))

    return call


def _delete(pat_id: str) -> Call:
    def call(rpc: UserServiceClientSync, caller: IssuedToken) -> object:
        request = DeletePersonalAccessTokenRequest(personal_access_token_id=pat_id)
        return rpc.delete_personal_access_token(request, headers=bearer(caller.token))

    return call


def _list(user_ids: list[str] | None = None, page_size: int = 0) -> Call:
    def call(rpc: UserServiceClientSync, caller: IssuedToken) -> object:
        users = [caller.user_id] if user_ids is None else user_ids
        request = list_request(*users, page_size=page_size)
        return rpc.list_personal_access_tokens(request, headers=bearer(caller.token))

    return call


UUIDS = [str(uuid.uuid4()) for _ in range(26)]


INVALID = [
    pytest.param(_create(user_id=""), "user_id", id="create-user-id-empty"),
    pytest.param(_create(user_id="alice"), "user_id", id="create-user-id-not-uuid"),
    pytest.param(_create(user_id=UUIDS[0] + "0"), "user_id", id="create-user-id-too-long"),
    pytest.param(_create(user_id=UUIDS[0].replace("-", "")), "user_id", id="create-no-dashes"),
    pytest.param(
        _create(valid_for=Duration(seconds=90 * DAY + 1)), "valid_for", id="valid-for-over-90d"
    ),
    pytest.param(
        _create(valid_for=Duration(seconds=90 * DAY, nanos=1)),
        "valid_for",
        id="valid-for-90d-and-1ns",
    ),
    pytest.param(_create(valid_for=Duration(seconds=-1)), "valid_for", id="valid-for-negative"),
    pytest.param(
        _create(valid_for=Duration(seconds=-1, nanos=0)), "valid_for", id="valid-for-minus-1s"
    ),
    pytest.param(_get(""), "personal_access_token_id", id="get-id-empty"),
    pytest.param(_get("../etc/passwd"), "personal_access_token_id", id="get-id-path"),
    pytest.param(_delete("x" * 36), "personal_access_token_id", id="delete-id-not-uuid"),
    pytest.param(_list(UUIDS[:26]), "filter.user_ids", id="filter-26-user-ids"),
    pytest.param(_list([UUIDS[0], "bob"]), "filter.user_ids[1]", id="filter-item-not-uuid"),
    pytest.param(_list(page_size=101), "pagination.page_size", id="page-size-101"),
    pytest.param(_list(page_size=-1), "pagination.page_size", id="page-size-negative"),
]


@pytest.mark.parametrize(("call", "field"), INVALID)
def test_invalid_argument_names_the_field(
    rpc: UserServiceClientSync, alice: IssuedToken, call: Call, field: str
) -> None:
    with pytest.raises(ConnectError) as caught:
        call(rpc, alice)
    assert caught.value.code == Code.INVALID_ARGUMENT
    assert caught.value.message.startswith(f"{field}: ")


def test_invalid_duration_encoding_is_rejected(server: Server, alice: IssuedToken) -> None:
    """Mixed-sign seconds and nanos are not a Duration (binary lets a client send them)."""
    call = _create(valid_for=Duration(seconds=1, nanos=-1))
    with UserServiceClientSync(server.base_url) as rpc, pytest.raises(ConnectError) as caught:
        call(rpc, alice)
    assert caught.value.code == Code.INVALID_ARGUMENT
    assert caught.value.message.startswith("valid_for: ")


VALID = [
    pytest.param(_create(valid_for=Duration(seconds=90 * DAY)), id="valid-for-exactly-90d"),
    pytest.param(_create(valid_for=Duration(seconds=0)), id="valid-for-zero-means-default"),
    pytest.param(_create(valid_for=Duration(nanos=1)), id="valid-for-1ns"),
    pytest.param(_list(UUIDS[:24]), id="filter-25-user-ids-with-self"),
    pytest.param(_list([]), id="filter-empty"),
    pytest.param(_list(page_size=100), id="page-size-100"),
    pytest.param(_list(page_size=1), id="page-size-1"),
]


@pytest.mark.parametrize("call", VALID)
def test_boundaries_are_accepted(
    server: Server, rpc: UserServiceClientSync, alice: IssuedToken, call: Call
) -> None:
    """Within the limits; naming other users is then denied by policy, not validation."""
    code: Code | None = None
    try:
        call(rpc, alice)
    except ConnectError as exc:
        code = exc.code
    assert code in {None, Code.PERMISSION_DENIED}


def test_25_user_ids_pass_validation_for_the_admin(
    rpc: UserServiceClientSync, admin: dict[str, str]
) -> None:
    request = list_request(*UUIDS[:25])
    response = rpc.list_personal_access_tokens(request, headers=admin)
    assert list(response.personal_access_tokens) == []


def test_default_and_explicit_lifetimes(
    rpc: UserServiceClientSync, server: Server, alice: IssuedToken
) -> None:
    _create(description="unset")(rpc, alice)
    _create(description="zero", valid_for=Duration(seconds=0))(rpc, alice)
    _create(description="an hour", valid_for=Duration(seconds=3600))(rpc, alice)
    listed = _list()(rpc, alice).personal_access_tokens  # type: ignore[attr-defined]
    lifetimes = [(pat.expires_at.ToSeconds() - pat.created_at.ToSeconds()) for pat in listed[1:]]
    assert lifetimes == [30 * DAY, 30 * DAY, 3600]


def test_uppercase_uuid_finds_the_token(rpc: UserServiceClientSync, alice: IssuedToken) -> None:
    pat = _get(alice.id.upper())(rpc, alice).pat  # type: ignore[attr-defined]
    assert pat.id == alice.id


@pytest.mark.parametrize("call", [_get, _delete], ids=["get", "delete"])
def test_unknown_id_is_not_found(
    rpc: UserServiceClientSync, alice: IssuedToken, call: Callable[[str], Call]
) -> None:
    with pytest.raises(ConnectError) as caught:
        call(str(uuid.uuid4()))(rpc, alice)
    assert caught.value.code == Code.NOT_FOUND


def test_description_is_capped(server: Server, alice: IssuedToken) -> None:
    """Before, 4 MiB descriptions were stored and made every later admin listing fail."""
    from ona_pats import Client, InvalidArgumentError
    from ona_pats.server._validation import MAX_DESCRIPTION_CHARS

    with Client(token=alice.token, base_url=server.base_url) as client:
        client.users.pats.create(user_id=alice.user_id, description="é" * MAX_DESCRIPTION_CHARS)
        with pytest.raises(InvalidArgumentError, match="description"):
            client.users.pats.create(
                user_id=alice.user_id, description="x" * (MAX_DESCRIPTION_CHARS + 1)
            )
        with pytest.raises(InvalidArgumentError, match="description"):
            client.users.pats.create(user_id=alice.user_id, description="x" * (3 << 20))
