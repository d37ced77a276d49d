"""Connect for Node, on the generated TypeScript, against the embedded Python server.

Every test runs once per codec (``useBinaryFormat`` true and false). The Node client
(interop/client.ts) sends what the test asks and reports what came back as canonical JSON,
which the test parses with the Python stubs and compares with what the server stored.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from connectrpc.compat import google_protobuf_binary_codec, google_protobuf_json_codec
from connectrpc.errors import ConnectError

from ona_pats.rpc import UserServiceClientSync
from ona_pats.server import Server
from ona_pats.types import (
    CreatePersonalAccessTokenRequest,
    CreatePersonalAccessTokenResponse,
    DeletePersonalAccessTokenRequest,
    DeletePersonalAccessTokenResponse,
    GetPersonalAccessTokenRequest,
    GetPersonalAccessTokenResponse,
    ListPersonalAccessTokensRequest,
    ListPersonalAccessTokensResponse,
    PaginationRequest,
)

from ._cases import ERROR_CASES, Actors, ErrorCase
from .conftest import NodeClient, NodeProcess

Filter = ListPersonalAccessTokensRequest.Filter


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with Server() as srv:
        yield srv


@pytest.fixture(scope="module")
def actors(server: Server) -> Actors:
    assert server.admin_token is not None
    read_only = server.create_user_token(read_only=True)
    return Actors(server.admin_token, server.admin_user_id, read_only.token, read_only.pat.id)


@pytest.fixture(scope="module", params=["binary", "json"])
def node(
    request: pytest.FixtureRequest, server: Server, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[NodeClient]:
    """A Node client process for the embedded server, once per codec."""
    wire_format = str(request.param)
    args = ("--base-url", server.base_url, "--format", wire_format)
    process = NodeProcess("client.ts", *args, log_dir=tmp_path_factory.mktemp("node"))
    try:
        yield NodeClient(process, wire_format)
    finally:
        process.stop()


def _get(node: NodeClient, token: str, pat_id: str) -> GetPersonalAccessTokenResponse:
    request = GetPersonalAccessTokenRequest(personal_access_token_id=pat_id)
    return node.ok("GetPersonalAccessToken", request, token, GetPersonalAccessTokenResponse())


def _pages(node: NodeClient, token: str, user_id: str, page_size: int) -> list[list[str]]:
    """Follow next tokens to the end; the ids on each page."""
    pages: list[list[str]] = []
    cursor = ""
    while True:
        request = ListPersonalAccessTokensRequest(
            pagination=PaginationRequest(page_size=page_size, token=cursor),
            filter=Filter(user_ids=[user_id]),
        )
        page = node.ok(
            "ListPersonalAccessTokens", request, token, ListPersonalAccessTokensResponse()
        )
        pages.append([pat.id for pat in page.personal_access_tokens])
        cursor = page.pagination.next_token
        if not cursor:
            return pages


def test_create_get_delete(node: NodeClient, server: Server, actors: Actors) -> None:
    user_id = str(uuid.uuid4())
    create = CreatePersonalAccessTokenRequest(user_id=user_id, description=f"node {node.format}")
    create.valid_for.FromTimedelta(timedelta(days=7))

    admin = actors.admin_token
    created = node.ok(
        "CreatePersonalAccessToken", create, admin, CreatePersonalAccessTokenResponse()
    )
    [[pat_id]] = _pages(node, admin, user_id, page_size=10)
    got = _get(node, admin, pat_id).pat

    assert created.token.startswith("onapat_")
    assert got == server.store.get(server.store.authenticate(admin), pat_id)
    assert (got.user_id, got.description) == (user_id, f"node {node.format}")
    assert got.expires_at.ToNanoseconds() - got.created_at.ToNanoseconds() == 7 * 86_400 * 10**9

    delete = DeletePersonalAccessTokenRequest(personal_access_token_id=pat_id)
    deleted = node.ok(
        "DeletePersonalAccessToken", delete, admin, DeletePersonalAccessTokenResponse()
    )
    assert deleted == DeletePersonalAccessTokenResponse()
    get = GetPersonalAccessTokenRequest(personal_access_token_id=pat_id)
    assert node.call("GetPersonalAccessToken", get, admin)["error"]["code"] == "not_found"


def test_list_every_page(node: NodeClient, server: Server, actors: Actors) -> None:
    """Seven tokens in pages of three: every token once, each exactly as stored (to the ns)."""
    user_id = str(uuid.uuid4())
    issued = {t.pat.id: t.pat for t in (server.create_user_token(user_id) for _ in range(7))}

    pages = _pages(node, actors.admin_token, user_id, page_size=3)

    assert [len(page) for page in pages] == [3, 3, 1]
    assert sorted(pat_id for page in pages for pat_id in page) == sorted(issued)
    for pat_id in issued:
        assert _get(node, actors.admin_token, pat_id).pat == issued[pat_id]


@pytest.mark.parametrize("case", ERROR_CASES)
def test_errors(node: NodeClient, server: Server, actors: Actors, case: ErrorCase) -> None:
    """The Node client sees the code and message the Python client sees for the same call."""
    answer = node.call(case.method, case.request(actors), case.token(actors))

    assert "error" in answer, answer
    error = answer["error"]
    assert error["code"] == case.code
    assert case.message_names in error["message"]
    python = _python_error(server, node.format, case, actors)
    assert (error["code"], error["message"]) == (python.code.name.lower(), python.message)
    assert [d["type"] for d in error["details"]] == [d.type_name for d in python.details]


def _python_error(
    server: Server, wire_format: str, case: ErrorCase, actors: Actors
) -> ConnectError:
    """The same call through the raw generated Python stub, which sends anything as is."""
    codec = (
        google_protobuf_binary_codec() if wire_format == "binary" else google_protobuf_json_codec()
    )
    stub = UserServiceClientSync(server.base_url, codec=codec)
    method = getattr(stub, case.stub_method)
    with pytest.raises(ConnectError) as caught:
        method(case.request(actors), headers={"authorization": f"Bearer {case.token(actors)}"})
    return caught.value
