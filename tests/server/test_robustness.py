"""Random and malformed requests never make the server fail internally."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ona_pats.server import IssuedToken, Server

from .conftest import bearer

BASE = "/gitpod.v1.UserService/"
METHODS = [
    "CreatePersonalAccessToken",
    "GetPersonalAccessToken",
    "ListPersonalAccessTokens",
    "DeletePersonalAccessToken",
]
NAMES = [
    "userId",
    "user_id",
    "description",
    "validFor",
    "readOnly",
    "personalAccessTokenId",
    "pagination",
    "pageSize",
    "token",
    "filter",
    "userIds",
]
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(NAMES) | st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
_QUERY = st.dictionaries(
    st.sampled_from(["token", "pageSize", "encoding", "message", "base64", "compression"]),
    st.text(max_size=30),
    max_size=3,
)
_FINE = {200, 400, 401, 403, 404, 405, 408, 413, 415}
_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def http(server: Server) -> Iterator[httpx.Client]:
    """A raw HTTP client shared by the examples."""
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        yield client


@pytest.fixture(scope="module")
def owner(server: Server) -> IssuedToken:
    """The token the examples authenticate with."""
    return server.create_user_token()


def _check(response: httpx.Response) -> None:
    assert response.status_code in _FINE, response.text
    if response.headers.get("content-type") == "application/json" and response.status_code >= 400:
        assert response.json()["code"] not in {"internal", "unknown"}, response.text


@_SETTINGS
@given(method=st.sampled_from(METHODS), body=_JSON, query=_QUERY)
def test_random_json_is_answered_not_crashed_on(
    http: httpx.Client, owner: IssuedToken, method: str, body: object, query: dict[str, str]
) -> None:
    headers = {**bearer(owner.token), "content-type": "application/json"}
    _check(http.post(BASE + method, params=query, content=json.dumps(body), headers=headers))


@_SETTINGS
@given(method=st.sampled_from(METHODS), body=st.binary(max_size=200), query=_QUERY)
def test_random_bytes_are_answered_not_crashed_on(
    http: httpx.Client, owner: IssuedToken, method: str, body: bytes, query: dict[str, str]
) -> None:
    headers = {**bearer(owner.token), "content-type": "application/proto"}
    _check(http.post(BASE + method, params=query, content=body, headers=headers))


@_SETTINGS
@given(method=st.sampled_from(METHODS[1:3]), query=_QUERY)
def test_random_connect_get_queries_are_answered_not_crashed_on(
    http: httpx.Client, owner: IssuedToken, method: str, query: dict[str, str]
) -> None:
    _check(http.get(BASE + method, params=query, headers=bearer(owner.token)))


_HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=120)


@_SETTINGS
@given(
    authorization=_HEADER_TEXT
    | _HEADER_TEXT.map(lambda text: f"Bearer {text}")
    | st.binary(max_size=40).map(lambda raw: f"Bearer onapat_{raw.hex()}")
)
def test_random_authorization_headers_are_unauthenticated(
    http: httpx.Client, authorization: str
) -> None:
    # h11 refuses a value with surrounding whitespace; servers strip it anyway.
    headers = {"authorization": authorization.strip(), "content-type": "application/json"}
    response = http.post(BASE + "ListPersonalAccessTokens", content=b"{}", headers=headers)
    assert response.status_code == 401
