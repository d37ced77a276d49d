"""Pagination: stable order, page sizes, signed next tokens, and the URL query parameters."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from connectrpc.code import Code
from connectrpc.errors import ConnectError

from ona_pats.rpc import UserServiceClientSync
from ona_pats.server import IssuedToken, Server, Store, _pagination, seed_tokens
from ona_pats.types import ListPersonalAccessTokensRequest, ListPersonalAccessTokensResponse

from .conftest import bearer, list_request

LIST = "/gitpod.v1.UserService/ListPersonalAccessTokens"
SEEDED = 230


@pytest.fixture
def carol(server: Server) -> IssuedToken:
    """A user with ``SEEDED`` more tokens than just this one."""
    carol = server.create_user_token(description="carol laptop")
    seed_tokens(server.store, SEEDED, user_ids=[carol.user_id], random_seed=7)
    return carol


def _all_ids(server: Server, user_id: str) -> list[str]:
    """Every token id of ``user_id`` in the store's order, read directly."""
    return [pat.id for pat in server.store.list([user_id], None, 10_000)]


def _page(
    rpc: UserServiceClientSync, token: str, request: ListPersonalAccessTokensRequest
) -> ListPersonalAccessTokensResponse:
    return rpc.list_personal_access_tokens(request, headers=bearer(token))


def _walk(rpc: UserServiceClientSync, token: str, page_size: int) -> tuple[list[str], int]:
    ids: list[str] = []
    next_token, pages = "", 0
    while True:
        response = _page(rpc, token, list_request(page_size=page_size, token=next_token))
        ids += [pat.id for pat in response.personal_access_tokens]
        pages += 1
        next_token = response.pagination.next_token
        if not next_token:
            return ids, pages


@pytest.mark.parametrize("page_size", [1, 7, 50, 100, 0])
def test_pages_cover_every_token_once_in_order(
    rpc: UserServiceClientSync, server: Server, carol: IssuedToken, page_size: int
) -> None:
    ids, pages = _walk(rpc, carol.token, page_size)
    assert ids == _all_ids(server, carol.user_id)
    assert len(ids) == SEEDED + 1
    size = page_size or 25
    assert pages == -(-(SEEDED + 1) // size)


def test_order_is_created_at_then_id(
    rpc: UserServiceClientSync, server: Server, carol: IssuedToken
) -> None:
    pats = []
    next_token = ""
    while True:
        response = _page(rpc, carol.token, list_request(page_size=100, token=next_token))
        pats += list(response.personal_access_tokens)
        if not (next_token := response.pagination.next_token):
            break
    keys = [(pat.created_at.ToNanoseconds(), pat.id) for pat in pats]
    assert keys == sorted(keys)


def test_default_page_size_is_25(rpc: UserServiceClientSync, carol: IssuedToken) -> None:
    response = _page(rpc, carol.token, ListPersonalAccessTokensRequest())
    assert len(response.personal_access_tokens) == 25
    assert response.pagination.next_token


def test_last_page_has_no_next_token(rpc: UserServiceClientSync, alice: IssuedToken) -> None:
    response = _page(rpc, alice.token, list_request(page_size=1))
    assert [pat.id for pat in response.personal_access_tokens] == [alice.id]
    assert response.pagination.next_token == ""


def test_deleting_and_creating_between_pages_loses_and_repeats_nothing(
    rpc: UserServiceClientSync, server: Server, carol: IssuedToken
) -> None:
    before = _all_ids(server, carol.user_id)
    first = _page(rpc, carol.token, list_request(page_size=10))
    seen = [pat.id for pat in first.personal_access_tokens]
    caller = server.store.authenticate(carol.token)
    # Delete the last item sent (the cursor's own row), one already sent and one ahead.
    for gone in (seen[-1], seen[0], before[15]):
        server.store.delete(caller, gone)
    server.create_user_token(carol.user_id, description="new between pages")
    rest, next_token = [], first.pagination.next_token
    while next_token:
        response = _page(rpc, carol.token, list_request(page_size=10, token=next_token))
        rest += [pat.id for pat in response.personal_access_tokens]
        next_token = response.pagination.next_token
    expected = [pat for pat in before[10:] if pat != before[15]]
    assert rest[: len(expected)] == expected
    assert len(rest) == len(expected) + 1  # the new token comes last
    assert len(set(seen + rest)) == len(seen + rest)


# -- tampering ---------------------------------------------------------------------------


def _next_token(rpc: UserServiceClientSync, token: str, *user_ids: str) -> str:
    response = _page(rpc, token, list_request(*user_ids, page_size=2))
    assert response.pagination.next_token
    return response.pagination.next_token


def _flip(token: str, index: int) -> str:
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[index] ^= 0x01
    return base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()


TAMPERED: dict[str, Callable[[str], str]] = {
    "truncated-by-one": lambda t: t[:-1],
    "truncated-to-half": lambda t: t[: len(t) // 2],
    "extended": lambda t: t + "A",
    "flipped-position-bit": lambda t: _flip(t, 5),
    "flipped-mac-bit": lambda t: _flip(t, -1),
    "forged-random": lambda t: base64.urlsafe_b64encode(bytes(len(t) * 3 // 4)).decode()[: len(t)],
    "not-base64": lambda t: "!" * len(t),
    "padded": lambda t: t + "==",
    "whitespace": lambda t: " " + t,
    "non-ascii": lambda t: "é" * len(t),
    "huge": lambda t: t * 500,
    "json-looking": lambda t: json.dumps({"created_at": 0, "id": "x"}),
}


@pytest.mark.parametrize("tamper", sorted(TAMPERED))
def test_tampered_next_token_is_invalid_argument(
    rpc: UserServiceClientSync, carol: IssuedToken, tamper: str
) -> None:
    bad = TAMPERED[tamper](_next_token(rpc, carol.token))
    with pytest.raises(ConnectError) as caught:
        _page(rpc, carol.token, list_request(page_size=2, token=bad))
    assert caught.value.code == Code.INVALID_ARGUMENT
    assert caught.value.message.startswith("pagination.token: ")


def test_token_of_another_users_listing_is_invalid_argument(
    rpc: UserServiceClientSync, server: Server, carol: IssuedToken
) -> None:
    """A token is bound to its caller: replaying carol's token as dave is refused."""
    dave = server.create_user_token()
    seed_tokens(server.store, 5, user_ids=[dave.user_id])
    with pytest.raises(ConnectError) as caught:
        _page(rpc, dave.token, list_request(token=_next_token(rpc, carol.token)))
    assert caught.value.code == Code.INVALID_ARGUMENT


def test_token_of_another_filter_is_invalid_argument(
    rpc: UserServiceClientSync, server: Server, carol: IssuedToken
) -> None:
    assert server.admin_token is not None
    everyone = _next_token(rpc, server.admin_token)
    with pytest.raises(ConnectError) as caught:
        _page(rpc, server.admin_token, list_request(carol.user_id, token=everyone))
    assert caught.value.code == Code.INVALID_ARGUMENT
    assert "different listing" in caught.value.message


def test_token_of_another_database_is_invalid_argument(
    rpc: UserServiceClientSync, server: Server, carol: IssuedToken
) -> None:
    with Server() as other:
        twin = other.create_user_token(carol.user_id)
        seed_tokens(other.store, 5, user_ids=[carol.user_id])
        with UserServiceClientSync(other.base_url) as other_rpc:
            foreign = _next_token(other_rpc, twin.token)
    with pytest.raises(ConnectError) as caught:
        _page(rpc, carol.token, list_request(token=foreign))
    assert caught.value.code == Code.INVALID_ARGUMENT


def test_stale_token_is_invalid_argument(
    rpc: UserServiceClientSync,
    server: Server,
    carol: IssuedToken,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = _next_token(rpc, carol.token)
    store: Store = server.store
    monkeypatch.setattr(store, "clock", lambda: time.time_ns() + 25 * 3600 * 10**9)
    with pytest.raises(ConnectError) as caught:
        _page(rpc, carol.token, list_request(token=token))
    assert caught.value.code == Code.INVALID_ARGUMENT
    assert "expired" in caught.value.message


def test_token_survives_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "pats.sqlite3"
    with Server(db) as first:
        carol = first.create_user_token()
        seed_tokens(first.store, 10, user_ids=[carol.user_id])
        with UserServiceClientSync(first.base_url) as rpc:
            token = _next_token(rpc, carol.token)
    with Server(db) as second, UserServiceClientSync(second.base_url) as rpc:
        response = _page(rpc, carol.token, list_request(page_size=100, token=token))
    assert len(response.personal_access_tokens) == 9


# -- the URL query parameters (``token``, ``pageSize``) ------------------------------------


def test_plain_json_client_pages_through_every_token_with_query_parameters(
    server: Server, http: httpx.Client, carol: IssuedToken
) -> None:
    """Issue 5's must-show: POST with ``?token=...&pageSize=...`` and a JSON body, page by page.

    This is how the public-API SDKs send the continuation token; no Connect library involved.
    """
    headers = {**bearer(carol.token), "content-type": "application/json"}
    body = json.dumps({"filter": {"userIds": [carol.user_id]}})
    ids: list[str] = []
    params = {"pageSize": "40"}
    while True:
        response = http.post(LIST, params=params, content=body, headers=headers)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/json"
        page = response.json()
        assert len(page["personalAccessTokens"]) <= 40
        ids += [pat["id"] for pat in page["personalAccessTokens"]]
        next_token = page.get("pagination", {}).get("nextToken", "")
        if not next_token:
            break
        params = {"token": next_token, "pageSize": "40"}
    assert ids == _all_ids(server, carol.user_id)
    assert len(ids) == len(set(ids)) == SEEDED + 1


def test_binary_client_pages_with_query_parameters(
    server: Server, http: httpx.Client, carol: IssuedToken
) -> None:
    headers = {**bearer(carol.token), "content-type": "application/proto"}
    ids: list[str] = []
    params = {"pageSize": "100"}
    while True:
        response = http.post(LIST, params=params, content=b"", headers=headers)
        assert response.status_code == 200, response.text
        page = ListPersonalAccessTokensResponse.FromString(response.content)
        ids += [pat.id for pat in page.personal_access_tokens]
        if not page.pagination.next_token:
            break
        params = {"token": page.pagination.next_token, "pageSize": "100"}
    assert ids == _all_ids(server, carol.user_id)


def test_connect_get_honours_query_parameters(
    server: Server, http: httpx.Client, carol: IssuedToken
) -> None:
    """Connect GET carries the message in ``message=``; ``token``/``pageSize`` ride along."""
    ids: list[str] = []
    extra = {"pageSize": "64"}
    while True:
        query = urlencode({"encoding": "json", "message": "{}", **extra})
        response = http.get(f"{LIST}?{query}", headers=bearer(carol.token))
        assert response.status_code == 200, response.text
        page = response.json()
        ids += [pat["id"] for pat in page["personalAccessTokens"]]
        if not (next_token := page.get("pagination", {}).get("nextToken")):
            break
        extra = {"pageSize": "64", "token": next_token}
    assert ids == _all_ids(server, carol.user_id)


@pytest.mark.parametrize(
    ("params", "body", "field"),
    [
        pytest.param({"pageSize": "abc"}, {}, "pageSize", id="page-size-not-integer"),
        pytest.param({"pageSize": "101"}, {}, "pageSize", id="page-size-over-max"),
        pytest.param({"pageSize": "-1"}, {}, "pageSize", id="page-size-negative"),
        pytest.param({"pageSize": "1e3"}, {}, "pageSize", id="page-size-float"),
        pytest.param(
            {"pageSize": "10"},
            {"pagination": {"pageSize": 20}},
            "pageSize",
            id="page-size-conflicts-with-body",
        ),
        pytest.param({"token": "forged"}, {}, "token", id="token-forged"),
    ],
)
def test_bad_query_parameters_are_invalid_argument(
    http: httpx.Client,
    carol: IssuedToken,
    params: dict[str, str],
    body: dict[str, object],
    field: str,
) -> None:
    headers = {**bearer(carol.token), "content-type": "application/json"}
    response = http.post(LIST, params=params, content=json.dumps(body), headers=headers)
    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "invalid_argument"
    assert error["message"].startswith(f"{field}: ")


def test_query_page_size_agreeing_with_body_is_fine(http: httpx.Client, carol: IssuedToken) -> None:
    headers = {**bearer(carol.token), "content-type": "application/json"}
    body = json.dumps({"pagination": {"pageSize": 3}})
    response = http.post(LIST, params={"pageSize": "3"}, content=body, headers=headers)
    assert len(response.json()["personalAccessTokens"]) == 3


def test_empty_query_parameters_fall_back_to_the_body(
    http: httpx.Client, carol: IssuedToken
) -> None:
    headers = {**bearer(carol.token), "content-type": "application/json"}
    body = json.dumps({"pagination": {"pageSize": 3}})
    response = http.post(LIST, params={"pageSize": "", "token": ""}, content=body, headers=headers)
    assert len(response.json()["personalAccessTokens"]) == 3


# -- the token format, without a server ---------------------------------------------------


def test_page_token_round_trips_and_is_opaque() -> None:
    key, listing = b"k" * 32, _pagination.scope("u", ["a", "b"])
    position = _pagination.Position(
        1_700_000_000_123_456_789, "0b5f6c0e-3f57-4e55-9d34-5d2d2b6c9d1e"
    )
    token = _pagination.encode(key, position, listing, now=10**18)
    assert _pagination.decode(key, token, listing, now=10**18 + 1) == position
    assert position.id not in token
    assert str(position.created_at) not in token


def test_page_token_scope_ignores_filter_order_and_repeats() -> None:
    assert _pagination.scope("u", ["a", "b", "a"]) == _pagination.scope("u", ["b", "a"])
    assert _pagination.scope("u", None) != _pagination.scope("u", [])
    assert _pagination.scope("u", ["a"]) != _pagination.scope("v", ["a"])


def test_page_token_from_the_future_is_refused() -> None:
    key, listing = b"k" * 32, _pagination.scope("u", None)
    position = _pagination.Position(1, "0b5f6c0e-3f57-4e55-9d34-5d2d2b6c9d1e")
    token = _pagination.encode(key, position, listing, now=10**18 + 3600 * 10**9)
    with pytest.raises(_pagination.PageTokenError, match="expired"):
        _pagination.decode(key, token, listing, now=10**18)
