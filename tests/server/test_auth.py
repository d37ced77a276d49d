"""Authentication and authorization: every denial, for both codecs."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from connectrpc.code import Code
from connectrpc.errors import ConnectError

from ona_pats.rpc import UserServiceClientSync
from ona_pats.server import IssuedToken, Server
from ona_pats.server._store import PermissionDenied, Unauthenticated
from ona_pats.types import (
    CreatePersonalAccessTokenRequest,
    DeletePersonalAccessTokenRequest,
    GetPersonalAccessTokenRequest,
    ListPersonalAccessTokensRequest,
    PersonalAccessToken,
)

from .conftest import bearer, list_request

LIST = "/gitpod.v1.UserService/ListPersonalAccessTokens"


def _list(rpc: UserServiceClientSync, token: str, *user_ids: str) -> list[str]:
    response = rpc.list_personal_access_tokens(list_request(*user_ids), headers=bearer(token))
    return [pat.id for pat in response.personal_access_tokens]


def _create(rpc: UserServiceClientSync, token: str, user_id: str, **fields: object) -> str:
    request = CreatePersonalAccessTokenRequest(user_id=user_id, **fields)  # type: ignore[arg-type]
    return rpc.create_personal_access_token(request, headers=bearer(token)).token


def _delete(rpc: UserServiceClientSync, token: str, pat_id: str) -> None:
    request = DeletePersonalAccessTokenRequest(personal_access_token_id=pat_id)
    rpc.delete_personal_access_token(request, headers=bearer(token))


def _get(rpc: UserServiceClientSync, token: str, pat_id: str) -> PersonalAccessToken:
    request = GetPersonalAccessTokenRequest(personal_access_token_id=pat_id)
    return rpc.get_personal_access_token(request, headers=bearer(token)).pat


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="missing"),
        pytest.param({"authorization": ""}, id="empty"),
        pytest.param({"authorization": "Bearer"}, id="scheme-only"),
        pytest.param({"authorization": "Basic dXNlcjpwYXNz"}, id="basic-scheme"),
        pytest.param({"authorization": "Bearer not-a-token"}, id="malformed"),
        pytest.param({"authorization": "Bearer onapat_" + "0" * 59}, id="unknown"),
    ],
)
def test_unauthenticated_without_a_valid_bearer(
    rpc: UserServiceClientSync, headers: dict[str, str]
) -> None:
    with pytest.raises(ConnectError) as caught:
        rpc.list_personal_access_tokens(ListPersonalAccessTokensRequest(), headers=headers)
    assert caught.value.code == Code.UNAUTHENTICATED


def test_wrong_secret_of_a_real_lookup_is_unauthenticated(
    rpc: UserServiceClientSync, alice: IssuedToken
) -> None:
    """The lookup half alone is worth nothing: the keyed hash of the rest must match."""
    forged = alice.token[:-4] + ("AAAA" if not alice.token.endswith("AAAA") else "BBBB")
    with pytest.raises(ConnectError) as caught:
        _list(rpc, forged)
    assert caught.value.code == Code.UNAUTHENTICATED
    assert alice.token not in caught.value.message
    assert forged not in caught.value.message


def test_bearer_scheme_is_case_insensitive(rpc: UserServiceClientSync, alice: IssuedToken) -> None:
    request = ListPersonalAccessTokensRequest()
    headers = {"authorization": f"bearer  {alice.token}"}
    assert rpc.list_personal_access_tokens(request, headers=headers).personal_access_tokens


def test_expired_token_is_unauthenticated(rpc: UserServiceClientSync, server: Server) -> None:
    expired = server.create_user_token(expires_at=datetime.now(UTC) - timedelta(seconds=1))
    with pytest.raises(ConnectError) as caught:
        _list(rpc, expired.token)
    assert caught.value.code == Code.UNAUTHENTICATED
    assert "expired" in caught.value.message


def test_deleted_token_is_unauthenticated(rpc: UserServiceClientSync, alice: IssuedToken) -> None:
    _delete(rpc, alice.token, alice.id)
    with pytest.raises(ConnectError) as caught:
        _list(rpc, alice.token)
    assert caught.value.code == Code.UNAUTHENTICATED


def test_unauthenticated_error_body_over_raw_http(http: httpx.Client) -> None:
    """A plain client gets HTTP 401 and a Connect JSON error body, never a secret."""
    response = http.post(LIST, content=b"{}", headers={"content-type": "application/json"})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/json"
    assert response.json()["code"] == "unauthenticated"


def test_authenticated_calls_update_last_used_once_a_second_at_most(
    rpc: UserServiceClientSync, server: Server, alice: IssuedToken
) -> None:
    """The first use is recorded; a use within the resolution is not written again (a token
    used many times a second costs one write a second); a later one is."""
    from ona_pats.server._store import LAST_USED_RESOLUTION_NS

    assert not _pat(server, alice).HasField("last_used")
    _list(rpc, alice.token)
    first = _pat(server, alice).last_used.ToNanoseconds()
    _get(rpc, alice.token, alice.id)
    if time.time_ns() - first < LAST_USED_RESOLUTION_NS:  # (a stalled machine may take longer)
        assert _pat(server, alice).last_used.ToNanoseconds() == first
    time.sleep(LAST_USED_RESOLUTION_NS / 10**9 + 0.05)
    _get(rpc, alice.token, alice.id)
    second = _pat(server, alice).last_used.ToNanoseconds()
    assert time.time_ns() - 5 * 10**9 < first < second <= time.time_ns()


def _pat(server: Server, token: IssuedToken) -> PersonalAccessToken:
    admin = server.store.authenticate(server.admin_token or "")
    return server.store.get(admin, token.id)


# -- read-only tokens -------------------------------------------------------------------


def test_read_only_token_reads(rpc: UserServiceClientSync, server: Server) -> None:
    reader = server.create_user_token(read_only=True)
    assert _list(rpc, reader.token) == [reader.id]
    assert _get(rpc, reader.token, reader.id).read_only


def test_read_only_token_cannot_create(rpc: UserServiceClientSync, server: Server) -> None:
    reader = server.create_user_token(read_only=True)
    with pytest.raises(ConnectError) as caught:
        _create(rpc, reader.token, reader.user_id, description="escalate", read_only=True)
    assert caught.value.code == Code.PERMISSION_DENIED
    assert _list(rpc, reader.token) == [reader.id]


def test_read_only_token_cannot_delete_even_itself(
    rpc: UserServiceClientSync, server: Server
) -> None:
    reader = server.create_user_token(read_only=True)
    with pytest.raises(ConnectError) as caught:
        _delete(rpc, reader.token, reader.id)
    assert caught.value.code == Code.PERMISSION_DENIED
    assert _list(rpc, reader.token) == [reader.id]


def test_read_only_is_enforced_by_the_store_itself(server: Server) -> None:
    """The write path re-reads the caller's token; a forged ``Caller`` cannot write."""
    reader = server.create_user_token(read_only=True)
    caller = server.store.authenticate(reader.token)
    forged = type(caller)(caller.token_id, caller.user_id, read_only=False, admin=True)
    with pytest.raises(PermissionDenied):
        server.store.delete(forged, reader.id)
    with pytest.raises(PermissionDenied):
        server.store.create(
            forged, user_id=caller.user_id, description="", valid_for_ns=1, read_only=False
        )


# -- one user, one set of tokens ---------------------------------------------------------


def test_user_lists_only_own_tokens(
    rpc: UserServiceClientSync, alice: IssuedToken, bob: IssuedToken
) -> None:
    assert _list(rpc, alice.token) == [alice.id]
    assert _list(rpc, alice.token, alice.user_id) == [alice.id]
    assert _list(rpc, bob.token) == [bob.id]


@pytest.mark.parametrize("with_self", [False, True], ids=["other-only", "self-and-other"])
def test_naming_another_user_in_filter_is_denied(
    rpc: UserServiceClientSync, alice: IssuedToken, bob: IssuedToken, with_self: bool
) -> None:
    """Denied rather than silently narrowed, so a partial answer never looks complete."""
    users = [alice.user_id, bob.user_id] if with_self else [bob.user_id]
    with pytest.raises(ConnectError) as caught:
        _list(rpc, alice.token, *users)
    assert caught.value.code == Code.PERMISSION_DENIED
    assert caught.value.message.startswith("filter.user_ids")


def test_other_users_token_is_not_found_for_get_and_delete(
    rpc: UserServiceClientSync, alice: IssuedToken, bob: IssuedToken
) -> None:
    """Another user's token is reported exactly like one that does not exist."""
    for call in (_get, _delete):
        with pytest.raises(ConnectError) as caught:
            call(rpc, alice.token, bob.id)
        assert caught.value.code == Code.NOT_FOUND
    assert _list(rpc, bob.token) == [bob.id]


def test_user_cannot_create_for_another_user(
    rpc: UserServiceClientSync, alice: IssuedToken, bob: IssuedToken
) -> None:
    with pytest.raises(ConnectError) as caught:
        _create(rpc, alice.token, bob.user_id)
    assert caught.value.code == Code.PERMISSION_DENIED
    assert caught.value.message.startswith("user_id")


def test_user_creates_gets_and_deletes_own_tokens(
    rpc: UserServiceClientSync, alice: IssuedToken
) -> None:
    secret = _create(rpc, alice.token, alice.user_id, description="ci", read_only=True)
    assert secret.startswith("onapat_")
    new_id = next(pat for pat in _list(rpc, alice.token) if pat != alice.id)
    pat = _get(rpc, alice.token, new_id)
    assert (pat.description, pat.read_only, pat.user_id) == ("ci", True, alice.user_id)
    assert pat.creator.id == alice.user_id
    assert _list(rpc, secret) == [alice.id, new_id]
    _delete(rpc, alice.token, new_id)
    assert _list(rpc, alice.token) == [alice.id]


# -- the bootstrap admin -----------------------------------------------------------------


def test_admin_lists_everyone_and_filters_by_any_user(fresh_server: Server) -> None:
    alice, bob = fresh_server.create_user_token(), fresh_server.create_user_token()
    assert fresh_server.admin is not None
    token = fresh_server.admin.token
    with UserServiceClientSync(fresh_server.base_url) as rpc:
        assert _list(rpc, token) == [fresh_server.admin.id, alice.id, bob.id]
        assert _list(rpc, token, bob.user_id, alice.user_id) == [alice.id, bob.id]
        assert _list(rpc, token, str(uuid.uuid4())) == []


def test_admin_creates_for_and_deletes_tokens_of_any_user(
    rpc: UserServiceClientSync, server: Server, alice: IssuedToken
) -> None:
    assert server.admin_token is not None
    secret = _create(rpc, server.admin_token, alice.user_id, description="from admin")
    created = [pat for pat in _list(rpc, secret) if pat != alice.id]
    assert len(created) == 1
    pat = _get(rpc, server.admin_token, created[0])
    assert pat.creator.id == server.admin_user_id
    _delete(rpc, server.admin_token, alice.id)
    assert _list(rpc, secret) == created


def test_token_expiring_mid_call_cannot_write(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Authenticated a moment before expiry, the write still re-checks and refuses."""
    soon = server.create_user_token(valid_for=timedelta(seconds=60))
    caller = server.store.authenticate(soon.token)
    monkeypatch.setattr(server.store, "clock", lambda: time.time_ns() + 61 * 10**9)
    with pytest.raises(Unauthenticated):
        server.store.delete(caller, soon.id)


def test_read_only_token_use_still_updates_last_used(
    rpc: UserServiceClientSync, server: Server
) -> None:
    reader = server.create_user_token(read_only=True)
    _list(rpc, reader.token)
    assert _pat(server, reader).HasField("last_used")
