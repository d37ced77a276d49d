"""The project's Python client against a Connect for Node server on the generated TypeScript.

interop/server.ts implements UserService in memory. It starts with seven tokens whose
timestamps sit at the edges of the Timestamp range and carry nanoseconds; the tests read them
back page by page over binary protobuf and over JSON and require them to be exactly equal.
"""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from connectrpc.compat import google_protobuf_binary_codec, google_protobuf_json_codec
from connectrpc.errors import ConnectError
from google.protobuf.timestamp_pb2 import Timestamp

import ona_pats
from ona_pats.rpc import UserServiceClientSync
from ona_pats.types import (
    ListPersonalAccessTokensResponse,
    PersonalAccessToken,
    Principal,
    Subject,
)

from ._cases import ERROR_CASES, Actors, ErrorCase
from .conftest import NodeProcess

ADMIN_USER_ID = "5f1c0de0-0000-4000-8000-00000000a0a0"
SEED_USER_ID = "5eed0000-0000-4000-8000-00000000beef"
PROTOCOLS: list[ona_pats.WireProtocol] = ["proto", "json"]
CONTENT_TYPES = {"proto": "application/proto", "json": "application/json"}


def _ts(seconds: int, nanos: int = 0) -> Timestamp:
    return Timestamp(seconds=seconds, nanos=nanos)


# created_at values in ascending order: the server lists by created_at, then id.
_CREATED = [
    _ts(-62_135_596_800),  # 0001-01-01T00:00:00Z
    _ts(-14_182_940),  # 1969-07-20T20:17:40Z
    _ts(-1, 500_000_000),  # 1969-12-31T23:59:59.5Z
    _ts(0, 1),  # 1970-01-01T00:00:00.000000001Z
    _ts(1_700_000_000, 123_456_789),
    _ts(1_800_000_000, 999_999_999),
    _ts(253_402_300_799, 999_999_999),  # 9999-12-31T23:59:59.999999999Z
]
_PRINCIPALS = list(Principal.values())


def seed_tokens() -> list[PersonalAccessToken]:
    """Seven fully populated tokens of SEED_USER_ID, in the order the server lists them."""
    return [
        PersonalAccessToken(
            id=f"5eed0000-0000-4000-8000-{n:012d}",
            user_id=SEED_USER_ID,
            description=f"seed {n} ✓",
            creator=Subject(id=ADMIN_USER_ID, principal=_PRINCIPALS[n % len(_PRINCIPALS)]),
            created_at=created,
            expires_at=_ts(253_402_300_799 - n, 10**9 - 1 - n),
            last_used=_CREATED[-1 - n],
            read_only=n % 2 == 0,
        )
        for n, created in enumerate(_CREATED)
    ]


@dataclass(frozen=True)
class NodeServer:
    """What interop/server.ts reported when it became ready, and its request log."""

    base_url: str
    admin_token: str
    request_log: Path

    def requests(self) -> list[dict[str, str]]:
        """procedure, httpMethod and contentType of every call so far."""
        return [json.loads(line) for line in self.request_log.read_text().splitlines()]

    def content_types(self) -> list[str]:
        return [entry["contentType"] for entry in self.requests()]


@pytest.fixture(scope="module")
def node_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeServer]:
    directory = tmp_path_factory.mktemp("node-server")
    seed = directory / "seed.json"
    seed.write_text(
        ona_pats.to_json(ListPersonalAccessTokensResponse(personal_access_tokens=seed_tokens()))
    )
    log = directory / "requests.jsonl"
    log.touch()
    args = ("--seed", str(seed), "--admin-user-id", ADMIN_USER_ID, "--request-log", str(log))
    process = NodeProcess("server.ts", *args, log_dir=directory)
    try:
        ready = process.read()
        yield NodeServer(ready["url"], ready["adminToken"], log)
    finally:
        process.stop()


@pytest.fixture(scope="module")
def actors(node_server: NodeServer) -> Actors:
    """The admin, and a read-only token of another user created through the API."""
    user_id = str(uuid.uuid4())
    with _client(node_server, node_server.admin_token, "proto") as admin:
        secret = admin.users.pats.create(user_id=user_id, description="read-only", read_only=True)
    with _client(node_server, secret, "proto") as read_only:
        [pat] = read_only.users.pats.list()
    return Actors(node_server.admin_token, ADMIN_USER_ID, secret, pat.id)


def _client(server: NodeServer, token: str, protocol: ona_pats.WireProtocol) -> ona_pats.Client:
    return ona_pats.Client(token=token, base_url=server.base_url, protocol=protocol)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_list_every_page_timestamps_exact(
    node_server: NodeServer, protocol: ona_pats.WireProtocol
) -> None:
    """Pages of three over seven seeded tokens; every field, every nanosecond, as seeded."""
    with _client(node_server, node_server.admin_token, protocol) as client:
        pager = client.users.pats.list(filter={"user_ids": [SEED_USER_ID]}, page_size=3)
        pages = list(pager.pages())

    assert [len(page.items) for page in pages] == [3, 3, 1]
    assert [bool(page.next_token) for page in pages] == [True, True, False]
    assert [pat for page in pages for pat in page.items] == seed_tokens()
    assert node_server.content_types()[-1] == CONTENT_TYPES[protocol]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_get_each_seeded_token(node_server: NodeServer, protocol: ona_pats.WireProtocol) -> None:
    with _client(node_server, node_server.admin_token, protocol) as client:
        for seeded in seed_tokens():
            assert client.users.pats.get(personal_access_token_id=seeded.id) == seeded


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_create_get_delete(node_server: NodeServer, protocol: ona_pats.WireProtocol) -> None:
    user_id = str(uuid.uuid4())
    valid_for = timedelta(days=7, microseconds=1)
    with _client(node_server, node_server.admin_token, protocol) as admin:
        secret = admin.users.pats.create(user_id=user_id, description=protocol, valid_for=valid_for)
        [listed] = admin.users.pats.list(filter={"user_ids": [user_id]})
        got = admin.users.pats.get(personal_access_token_id=listed.id)
        with _client(node_server, secret, protocol) as owner:  # the new secret authenticates
            [own] = owner.users.pats.list()
        admin.users.pats.delete(personal_access_token_id=listed.id)
        with pytest.raises(ona_pats.NotFoundError):
            admin.users.pats.get(personal_access_token_id=listed.id)

    assert got == listed
    assert (got.user_id, got.description, got.read_only) == (user_id, protocol, False)
    assert got.creator == Subject(id=ADMIN_USER_ID, principal=Principal.PRINCIPAL_USER)
    lifetime_ns = got.expires_at.ToNanoseconds() - got.created_at.ToNanoseconds()
    assert lifetime_ns == (7 * 86_400 * 10**6 + 1) * 1000
    assert own.id == listed.id
    assert own.last_used.ToNanoseconds() > 0


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_connect_get_for_list_and_get(
    node_server: NodeServer, protocol: ona_pats.WireProtocol
) -> None:
    """use_get sends the NO_SIDE_EFFECTS methods as Connect GET, which connect-node serves."""
    client = ona_pats.Client(
        token=node_server.admin_token,
        base_url=node_server.base_url,
        protocol=protocol,
        use_get=True,
    )
    with client:
        listed = list(client.users.pats.list(filter={"user_ids": [SEED_USER_ID]}, page_size=4))
        got = client.users.pats.get(personal_access_token_id=listed[-1].id)

    assert listed == seed_tokens()
    assert got == listed[-1]
    assert [entry["httpMethod"] for entry in node_server.requests()[-3:]] == ["GET"] * 3


def test_async_client_lists_every_page(node_server: NodeServer) -> None:
    async def collect() -> list[PersonalAccessToken]:
        async with ona_pats.AsyncClient(
            token=node_server.admin_token, base_url=node_server.base_url, protocol="json"
        ) as client:
            pager = client.users.pats.list(filter={"user_ids": [SEED_USER_ID]}, page_size=2)
            return [pat async for pat in pager]

    assert asyncio.run(collect()) == seed_tokens()


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("case", ERROR_CASES)
def test_errors_through_client(
    node_server: NodeServer, actors: Actors, protocol: ona_pats.WireProtocol, case: ErrorCase
) -> None:
    """ona_pats.Client raises the class of the code, with the server's message."""
    with _client(node_server, case.token(actors), protocol) as client:
        if case.client_refuses:
            with pytest.raises(ona_pats.ValidationError):
                case.client_call(client.users.pats, actors)
            return
        with pytest.raises(ona_pats.APIError) as caught:
            case.client_call(client.users.pats, actors)

    assert caught.value.code.name.lower() == case.code
    assert case.message_names in caught.value.message


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("case", ERROR_CASES)
def test_errors_through_raw_stub(
    node_server: NodeServer, actors: Actors, protocol: ona_pats.WireProtocol, case: ErrorCase
) -> None:
    """The generated Python stub, which sends any request as is, sees the same errors."""
    codec = google_protobuf_binary_codec() if protocol == "proto" else google_protobuf_json_codec()
    stub = UserServiceClientSync(node_server.base_url, codec=codec)
    method = getattr(stub, case.stub_method)
    with pytest.raises(ConnectError) as caught:
        method(case.request(actors), headers={"authorization": f"Bearer {case.token(actors)}"})

    assert caught.value.code.name.lower() == case.code
    assert case.message_names in caught.value.message


def test_node_server_stops_and_frees_its_port(tmp_path: Path) -> None:
    """What the fixtures rely on: stop() ends the process and its port closes."""
    process = NodeProcess("server.ts", log_dir=tmp_path)
    try:
        port = int(process.read()["url"].rsplit(":", 1)[1])
    finally:
        process.stop()

    assert process.process.returncode is not None
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), 1):
        pass
