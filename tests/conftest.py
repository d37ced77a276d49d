"""Shared loopback fixtures: a real ASGI server (uvicorn on 127.0.0.1, port 0, in a thread)
serving the generated ``UserServiceASGIApplication`` with a scripted service.

By default the service keeps tokens in memory, so create/get/list/delete work. A test
programs it with ``scripted_server.expect(method, *actions)``; each call of the method takes
the next action: a response message, a ``ConnectError`` to raise, a callable
``(request) -> response``, or a :class:`RawHTTP` answer sent as-is by an ASGI middleware
in front of the Connect application (for non-Connect answers: HTML 502, redirects, garbage).
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import uvicorn
from connectrpc.code import Code
from connectrpc.errors import ConnectError
from connectrpc.request import RequestContext

from ona_pats import AsyncClient, Client
from ona_pats.rpc import UserServiceASGIApplication
from ona_pats.types import (
    CreatePersonalAccessTokenRequest,
    CreatePersonalAccessTokenResponse,
    DeletePersonalAccessTokenRequest,
    DeletePersonalAccessTokenResponse,
    GetPersonalAccessTokenRequest,
    GetPersonalAccessTokenResponse,
    ListPersonalAccessTokensRequest,
    ListPersonalAccessTokensResponse,
    PersonalAccessToken,
    Principal,
)

TOKEN = "test-token-5f0c2a9e-secret"
USER_ID = "f53d2330-3795-4c5d-a1f3-453121af9c60"
OTHER_USER_ID = "0b6f1d6e-8c1c-4b7e-9f43-2d6a4f1e2c11"
MISSING_ID = "00000000-0000-4000-8000-000000000000"

ASGIScope = dict[str, Any]
ASGIReceive = Callable[[], Any]
ASGISend = Callable[[dict[str, Any]], Any]
ASGIApp = Callable[[ASGIScope, ASGIReceive, ASGISend], Any]


@dataclass(frozen=True)
class RawHTTP:
    """An HTTP answer sent as-is, bypassing the Connect application."""

    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass(frozen=True)
class Recorded:
    """One HTTP request as the server saw it."""

    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    peer: tuple[str, int] | None = None

    @property
    def rpc(self) -> str:
        """The RPC name, the last path segment."""
        return self.path.rsplit("/", 1)[-1]


Action = Any  # a message, a ConnectError, a RawHTTP, or a callable(request) -> message


class Script:
    """The state behind the scripted service: queued actions, records, a token store."""

    def __init__(self) -> None:
        self.actions: dict[str, deque[Action]] = {}
        self.requests: list[Recorded] = []
        self.store: dict[str, PersonalAccessToken] = {}
        self.lock = threading.Lock()

    def reset(self) -> None:
        with self.lock:
            self.actions.clear()
            self.requests.clear()
            self.store.clear()

    def expect(self, rpc: str, *actions: Action) -> None:
        with self.lock:
            self.actions.setdefault(rpc, deque()).extend(actions)

    def next_action(self, rpc: str, raw: bool) -> Action | None:
        with self.lock:
            queue = self.actions.get(rpc)
            if not queue or isinstance(queue[0], RawHTTP) != raw:
                return None
            return queue.popleft()

    def calls(self, rpc: str) -> list[Recorded]:
        return [r for r in self.requests if r.rpc == rpc]


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class ScriptedService:
    """A ``UserService`` that plays queued actions, else works on an in-memory store."""

    def __init__(self, script: Script) -> None:
        self.script = script

    def _play(self, rpc: str, request: Any) -> Any | None:
        action = self.script.next_action(rpc, raw=False)
        if action is None:
            return None
        if isinstance(action, BaseException):
            raise action
        if callable(action):
            return action(request)
        return action

    async def create_personal_access_token(
        self, request: CreatePersonalAccessTokenRequest, ctx: RequestContext[Any, Any], /
    ) -> CreatePersonalAccessTokenResponse:
        if (played := self._play("CreatePersonalAccessToken", request)) is not None:
            return played  # type: ignore[no-any-return]
        pat = PersonalAccessToken(
            id=str(uuid.uuid4()),
            user_id=request.user_id,
            description=request.description,
            read_only=request.read_only,
        )
        pat.creator.id = request.user_id
        pat.creator.principal = Principal.PRINCIPAL_USER
        created = _now()
        pat.created_at.FromDatetime(created)
        valid = request.valid_for.ToTimedelta() if request.HasField("valid_for") else None
        pat.expires_at.FromDatetime(created + (valid or timedelta(days=30)))
        with self.script.lock:
            self.script.store[pat.id] = pat
        return CreatePersonalAccessTokenResponse(token=f"secret-{pat.id}")

    async def get_personal_access_token(
        self, request: GetPersonalAccessTokenRequest, ctx: RequestContext[Any, Any], /
    ) -> GetPersonalAccessTokenResponse:
        if (played := self._play("GetPersonalAccessToken", request)) is not None:
            return played  # type: ignore[no-any-return]
        pat = self.script.store.get(request.personal_access_token_id)
        if pat is None:
            raise ConnectError(Code.NOT_FOUND, "personal access token not found")
        return GetPersonalAccessTokenResponse(pat=pat)

    async def list_personal_access_tokens(
        self, request: ListPersonalAccessTokensRequest, ctx: RequestContext[Any, Any], /
    ) -> ListPersonalAccessTokensResponse:
        if (played := self._play("ListPersonalAccessTokens", request)) is not None:
            return played  # type: ignore[no-any-return]
        users = set(request.filter.user_ids)
        pats = [p for p in self.script.store.values() if not users or p.user_id in users]
        size = request.pagination.page_size or 25
        start = int(request.pagination.token or "0")
        response = ListPersonalAccessTokensResponse(
            personal_access_tokens=pats[start : start + size]
        )
        if start + size < len(pats):
            response.pagination.next_token = str(start + size)
        return response

    async def delete_personal_access_token(
        self, request: DeletePersonalAccessTokenRequest, ctx: RequestContext[Any, Any], /
    ) -> DeletePersonalAccessTokenResponse:
        if (played := self._play("DeletePersonalAccessToken", request)) is not None:
            return played  # type: ignore[no-any-return]
        with self.script.lock:
            if self.script.store.pop(request.personal_access_token_id, None) is None:
                raise ConnectError(Code.NOT_FOUND, "personal access token not found")
        return DeletePersonalAccessTokenResponse()


def recording_app(script: Script, app: ASGIApp) -> ASGIApp:
    """ASGI middleware: record each request, answer queued ``RawHTTP`` actions directly."""

    async def middleware(scope: ASGIScope, receive: ASGIReceive, send: ASGISend) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            body.extend(message.get("body", b""))
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        client = scope.get("client")
        record = Recorded(
            scope["method"],
            scope["path"],
            scope["query_string"].decode(),
            headers,
            bytes(body),
            tuple(client) if client else None,
        )
        with script.lock:
            script.requests.append(record)
        raw = script.next_action(record.rpc, raw=True)
        if raw is not None:
            await asyncio.sleep(raw.delay)
            await send(
                {
                    "type": "http.response.start",
                    "status": raw.status,
                    "headers": [(k.encode(), v.encode()) for k, v in raw.headers.items()],
                }
            )
            await send({"type": "http.response.body", "body": raw.body})
            return
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if replayed:
                return {"type": "http.disconnect"}
            replayed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        await app(scope, replay, send)

    return middleware


class ScriptedServer:
    """A uvicorn server on loopback, in a background thread, serving the scripted service."""

    def __init__(self, **options: Any) -> None:
        self.script = Script()
        self.scheme = "https" if "ssl_certfile" in options else "http"
        app = UserServiceASGIApplication(ScriptedService(self.script))
        config = uvicorn.Config(
            recording_app(self.script, app),
            host="127.0.0.1",
            port=0,
            log_level="error",
            lifespan="off",
            ws="none",
            http="h11",
            **options,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:  # pragma: no cover - a broken environment
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.port = port
        self.url = f"{self.scheme}://127.0.0.1:{port}"

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    # Conveniences for tests.
    def expect(self, rpc: str, *actions: Action) -> None:
        """Queue actions for the next calls of ``rpc`` (``"GetPersonalAccessToken"``...)."""
        self.script.expect(rpc, *actions)

    @property
    def requests(self) -> list[Recorded]:
        """Every HTTP request received since the test started."""
        return self.script.requests

    def calls(self, rpc: str) -> list[Recorded]:
        """The HTTP requests received for one RPC."""
        return self.script.calls(rpc)

    def add_pat(self, user_id: str = USER_ID, description: str = "ci", **fields: Any) -> str:
        """Put a token in the store directly; return its id."""
        pat = PersonalAccessToken(
            id=str(uuid.uuid4()), user_id=user_id, description=description, **fields
        )
        created = _now()
        pat.created_at.FromDatetime(created)
        pat.expires_at.FromDatetime(created + timedelta(days=30))
        pat.creator.id = user_id
        pat.creator.principal = Principal.PRINCIPAL_USER
        with self.script.lock:
            self.script.store[pat.id] = pat
        return pat.id


@pytest.fixture(scope="session")
def _server_process() -> Iterator[ScriptedServer]:
    server = ScriptedServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def scripted_server(_server_process: ScriptedServer) -> Iterator[ScriptedServer]:
    """The loopback server, reset for this test: empty store, no queued actions."""
    _server_process.script.reset()
    yield _server_process
    _server_process.script.reset()


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove every environment variable the client reads."""
    for name in (
        "ONA_API_KEY",
        "GITPOD_API_KEY",
        "GITPOD_TOKEN",
        "ONA_BASE_URL",
        "GITPOD_BASE_URL",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
        "NO_PROXY",
        "no_proxy",
    ):
        monkeypatch.delenv(name, raising=False)


class Sleeps(list[float]):
    """An injected sleep that records the delays instead of waiting."""

    def __call__(self, delay: float) -> None:
        self.append(delay)


class AsyncSleeps(list[float]):
    """The async twin of :class:`Sleeps`."""

    async def __call__(self, delay: float) -> None:
        self.append(delay)


@pytest.fixture
def sleeps() -> Sleeps:
    """A recording sleep for ``Client(sleep=...)``."""
    return Sleeps()


@pytest.fixture
def async_sleeps() -> AsyncSleeps:
    """A recording sleep for ``AsyncClient(sleep=...)``."""
    return AsyncSleeps()


@pytest.fixture(params=["proto", "json"])
def protocol(request: pytest.FixtureRequest) -> str:
    """Both wire protocols."""
    return str(request.param)


@pytest.fixture
def client(
    scripted_server: ScriptedServer, protocol: str, sleeps: Sleeps, no_env: None
) -> Iterator[Client]:
    """A sync client of the scripted server, in each protocol, that never really sleeps."""
    with Client(
        token=TOKEN,
        base_url=scripted_server.url,
        protocol=protocol,  # type: ignore[arg-type]
        sleep=sleeps,
    ) as c:
        yield c


@pytest.fixture
async def async_client(
    scripted_server: ScriptedServer, protocol: str, async_sleeps: AsyncSleeps, no_env: None
) -> Any:
    """An async client of the scripted server, in each protocol, that never really sleeps."""
    async with AsyncClient(
        token=TOKEN,
        base_url=scripted_server.url,
        protocol=protocol,  # type: ignore[arg-type]
        sleep=async_sleeps,
    ) as c:
        yield c


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on asyncio only."""
    return "asyncio"
