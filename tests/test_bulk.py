"""``pats.delete_many``, sync and async: a bounded number of deletes in flight, one outcome per
distinct id in the caller's order, each failure classified by whether the server acted on it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from connectrpc.request import RequestContext

import ona_pats
from ona_pats import DeleteOutcome, Outcome
from ona_pats.rpc import UserServiceASGIApplication
from ona_pats.types import DeletePersonalAccessTokenRequest, DeletePersonalAccessTokenResponse

from ._fake import ScriptedService, serve_asgi
from .reliability._faultproxy import Fault, FaultProxy

TOKEN = "bulk-test-token"


class CountingService(ScriptedService):
    """The stub service, counting the deletes in flight at once."""

    def __init__(self, count: int) -> None:
        super().__init__(count=count)
        self.in_flight = 0
        self.most_in_flight = 0

    async def delete_personal_access_token(
        self, request: DeletePersonalAccessTokenRequest, ctx: RequestContext[Any, Any], /
    ) -> DeletePersonalAccessTokenResponse:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(0.02)
            return await super().delete_personal_access_token(request, ctx)
        finally:
            self.in_flight -= 1


@pytest.fixture
def service() -> Iterator[tuple[str, CountingService]]:
    stub = CountingService(40)
    with serve_asgi(UserServiceASGIApplication(stub)) as url:
        yield url, stub


def _delete_many(
    url: str, ids: list[str], concurrency: int, flavour: str, **options: Any
) -> list[DeleteOutcome]:
    if flavour == "sync":
        with ona_pats.Client(token=TOKEN, base_url=url, max_retries=0) as client:
            return client.users.pats.delete_many(ids, concurrency=concurrency, **options)

    async def run() -> list[DeleteOutcome]:
        async with ona_pats.AsyncClient(token=TOKEN, base_url=url, max_retries=0) as client:
            return await client.users.pats.delete_many(ids, concurrency=concurrency, **options)

    return asyncio.run(run())


FLAVOURS = pytest.mark.parametrize("flavour", ["sync", "async"])


@FLAVOURS
def test_deletes_run_concurrently_within_the_bound(
    service: tuple[str, CountingService], flavour: str
) -> None:
    url, stub = service
    ids = list(stub.pats)[:30]
    seen: list[str] = []
    outcomes = _delete_many(
        url, ids, 4, flavour, on_outcome=lambda o: seen.append(o.personal_access_token_id)
    )
    assert [o.personal_access_token_id for o in outcomes] == ids
    assert {o.outcome for o in outcomes} == {Outcome.DELETED}
    assert all(o.gone and o.error is None for o in outcomes)
    assert sorted(seen) == sorted(ids)
    assert stub.most_in_flight == 4
    assert set(stub.pats).isdisjoint(ids)


@FLAVOURS
def test_one_outcome_per_distinct_id_and_not_found_is_gone(
    service: tuple[str, CountingService], flavour: str
) -> None:
    url, stub = service
    first, second = list(stub.pats)[:2]
    missing = "00000000-0000-4000-8000-00000000dead"
    outcomes = _delete_many(url, [second, missing, second, first], 8, flavour)
    assert [(o.personal_access_token_id, o.outcome) for o in outcomes] == [
        (second, Outcome.DELETED),
        (missing, Outcome.NOT_FOUND),
        (first, Outcome.DELETED),
    ]
    assert outcomes[1].gone
    assert isinstance(outcomes[1].error, ona_pats.NotFoundError)


@FLAVOURS
@pytest.mark.parametrize(
    ("ids", "concurrency", "field"),
    [
        (["not-a-uuid"], 8, "ids[0]"),
        ("00000000-0000-4000-8000-000000000001", 8, "ids"),
        (["00000000-0000-4000-8000-000000000001"], 0, "concurrency"),
        (["00000000-0000-4000-8000-000000000001"], 257, "concurrency"),
    ],
)
def test_bad_arguments_send_nothing(
    service: tuple[str, CountingService], flavour: str, ids: Any, concurrency: int, field: str
) -> None:
    url, stub = service
    before = dict(stub.pats)
    with pytest.raises(ona_pats.ValidationError) as caught:
        _delete_many(url, ids, concurrency, flavour)
    assert caught.value.field == field
    assert stub.pats == before


@FLAVOURS
def test_each_failure_says_whether_the_server_can_have_acted(
    service: tuple[str, CountingService], flavour: str
) -> None:
    """A 503 from a gateway (never forwarded) is ``failed``; a connection dropped after the
    server got the request is ``unknown`` (the token is in fact gone); a refused connection
    is ``failed`` and never sent."""
    url, stub = service
    ids = list(stub.pats)[:3]
    with FaultProxy(url) as proxy:
        proxy.inject(Fault.UNAVAILABLE_503, rpc="DeletePersonalAccessToken")
        outcomes = _delete_many(proxy.url, ids[:1], 1, flavour)
        proxy.inject(Fault.DROP_AFTER_FORWARD, rpc="DeletePersonalAccessToken")
        outcomes += _delete_many(proxy.url, ids[1:2], 1, flavour)
    assert [o.outcome for o in outcomes] == [Outcome.FAILED, Outcome.UNKNOWN]
    assert ids[0] in stub.pats
    assert ids[1] not in stub.pats
    assert isinstance(outcomes[0].error, ona_pats.UnavailableError)
    refused = _delete_many("http://127.0.0.1:9", ids[2:], 1, flavour)  # nothing listens
    assert refused[0].outcome is Outcome.FAILED
    assert isinstance(refused[0].error, ona_pats.APIError)
    assert refused[0].error.never_sent
