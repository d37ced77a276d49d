"""The fault proxy itself: keep-alive, counting, and each fault as seen by a plain HTTP client."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator

import httpx
import pytest

from ona_pats.types import (
    GetPersonalAccessTokenRequest,
    ListPersonalAccessTokensRequest,
    ListPersonalAccessTokensResponse,
)
from tests._fake import fake_server

from ._faultproxy import BAD_TIMESTAMPS, Fault, FaultProxy

LIST = "/gitpod.v1.UserService/ListPersonalAccessTokens"
GET = "/gitpod.v1.UserService/GetPersonalAccessToken"
PROTO = {"content-type": "application/proto"}
JSON = {"content-type": "application/json"}


@pytest.fixture
def proxy() -> Iterator[FaultProxy]:
    with fake_server(30) as (url, _service), FaultProxy(url, delay=0.5) as proxy:
        yield proxy


@pytest.fixture
def http(proxy: FaultProxy) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=proxy.url, timeout=5) as client:
        yield client


def _list(http: httpx.Client, token: str = "", size: int = 10) -> httpx.Response:
    request = ListPersonalAccessTokensRequest()
    request.pagination.page_size = size
    request.pagination.token = token
    return http.post(LIST, content=request.SerializeToString(), headers=PROTO)


def test_keep_alive_reuses_one_connection(proxy: FaultProxy, http: httpx.Client) -> None:
    for _ in range(5):
        assert _list(http).status_code == 200
    assert proxy.connections_accepted == 1
    assert proxy.upstream_connections == 1
    assert proxy.count("ListPersonalAccessTokens", forwarded=True) == 5


def test_connections_are_counted_open_and_closed(proxy: FaultProxy) -> None:
    with httpx.Client(base_url=proxy.url) as client:
        _list(client)
        assert proxy.connections_open == 1
    _wait(lambda: proxy.connections_open == 0)


@pytest.mark.parametrize(
    "fault", [Fault.DROP_BEFORE_REQUEST, Fault.DROP_AFTER_FORWARD, Fault.DROP_MID_RESPONSE]
)
def test_drops_break_the_exchange(proxy: FaultProxy, http: httpx.Client, fault: Fault) -> None:
    proxy.inject(fault)
    with pytest.raises(httpx.TransportError):
        _list(http)
    forwarded = proxy.count("ListPersonalAccessTokens", forwarded=True)
    assert forwarded == (0 if fault is Fault.DROP_BEFORE_REQUEST else 1)
    assert _list(http).status_code == 200  # the next request works on a new connection


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        (Fault.UNAVAILABLE_503, 503, "unavailable"),
        (Fault.RATE_LIMITED_429, 429, "resource_exhausted"),
    ],
)
def test_retry_after_answers(
    proxy: FaultProxy, http: httpx.Client, fault: Fault, status: int, code: str
) -> None:
    proxy.retry_after = "3"
    proxy.inject(fault)
    response = _list(http)
    assert (response.status_code, response.headers["retry-after"]) == (status, "3")
    assert response.json()["code"] == code
    assert proxy.count("ListPersonalAccessTokens", forwarded=True) == 0


def test_delay_holds_then_forwards(proxy: FaultProxy, http: httpx.Client) -> None:
    proxy.inject(Fault.DELAY)
    with pytest.raises(httpx.ReadTimeout):
        http.post(LIST, content=b"", headers=PROTO, timeout=0.1)
    _wait(lambda: proxy.count("ListPersonalAccessTokens", forwarded=True) == 1)


def test_truncate_and_content_type_and_html(proxy: FaultProxy, http: httpx.Client) -> None:
    whole = _list(http).content
    proxy.inject(Fault.TRUNCATE)
    assert _list(http).content == whole[: len(whole) // 2]
    proxy.inject(Fault.WRONG_CONTENT_TYPE)
    assert _list(http).headers["content-type"] == "text/plain"
    proxy.inject(Fault.HTML_ERROR_PAGE)
    response = _list(http)
    assert (response.status_code, response.headers["content-type"]) == (502, "text/html")


@pytest.mark.parametrize("fault", [Fault.OVERSIZED, Fault.OVERSIZED_CHUNKED])
def test_oversized_body(proxy: FaultProxy, http: httpx.Client, fault: Fault) -> None:
    proxy.oversized_bytes = 3 * 1024 * 1024 + 7
    proxy.inject(fault)
    assert len(_list(http).content) == proxy.oversized_bytes
    assert _list(http).status_code == 200  # the connection is still usable


def test_garbage_and_invalid_utf8(proxy: FaultProxy, http: httpx.Client) -> None:
    proxy.inject(Fault.GARBAGE_PROTO)
    assert _list(http).headers["content-type"] == "application/proto"
    proxy.inject(Fault.INVALID_UTF8_JSON)
    body = http.post(LIST, content=b"{}", headers=JSON).content
    with pytest.raises(UnicodeDecodeError):
        body.decode()


def test_bad_timestamp_rewrites_json(proxy: FaultProxy, http: httpx.Client) -> None:
    request = GetPersonalAccessTokenRequest(personal_access_token_id=_first_id(http))
    body = json.dumps({"personalAccessTokenId": request.personal_access_token_id})
    proxy.inject(Fault.BAD_TIMESTAMP)
    doc = http.post(GET, content=body, headers=JSON).json()
    assert doc["pat"]["createdAt"] in BAD_TIMESTAMPS


def test_repeat_and_forge_page_tokens(proxy: FaultProxy, http: httpx.Client) -> None:
    first = ListPersonalAccessTokensResponse.FromString(_list(http).content)
    token = first.pagination.next_token
    proxy.inject(Fault.REPEAT_PAGE_TOKEN)
    repeated = ListPersonalAccessTokensResponse.FromString(_list(http, token).content)
    assert repeated.pagination.next_token == token
    proxy.inject(Fault.FORGE_PAGE_TOKEN)
    forged = ListPersonalAccessTokensResponse.FromString(_list(http, token).content)
    assert forged.pagination.next_token not in ("", token, "20")
    assert _list(http, forged.pagination.next_token).status_code != 200


def test_rate_is_seeded_and_counted(proxy: FaultProxy, http: httpx.Client) -> None:
    proxy.set_rate(0.5, [Fault.UNAVAILABLE_503], seed=7)
    statuses = [_list(http).status_code for _ in range(40)]
    assert 5 < statuses.count(503) < 35
    assert proxy.faults()[Fault.UNAVAILABLE_503] == statuses.count(503)
    proxy.set_rate(0.5, [Fault.UNAVAILABLE_503], seed=7)
    assert [_list(http).status_code for _ in range(40)] == statuses


def test_gzip_response_is_decoded_before_mutation(proxy: FaultProxy, http: httpx.Client) -> None:
    headers = {**PROTO, "accept-encoding": "gzip"}
    request = ListPersonalAccessTokensRequest()
    request.pagination.page_size = 30
    proxy.inject(Fault.FORGE_PAGE_TOKEN)
    response = http.post(LIST, content=request.SerializeToString(), headers=headers)
    forged = ListPersonalAccessTokensResponse.FromString(response.content)
    assert len(forged.personal_access_tokens) == 30
    assert forged.pagination.next_token


def _first_id(http: httpx.Client) -> str:
    page = ListPersonalAccessTokensResponse.FromString(_list(http).content)
    return page.personal_access_tokens[0].id


def _wait(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)
