"""The fake UserService and the loopback harness every test server runs on.

:class:`ScriptedService` keeps tokens in memory, so create/get/list/delete work. A test
programs it with ``expect(method, *actions)``; each call of the method takes the next action:
a response message, a ``ConnectError`` to raise, a callable ``(request) -> response``, or a
:class:`RawHTTP` answer sent as-is by an ASGI middleware in front of the Connect application
(for non-Connect answers: HTML 502, redirects, garbage). Servers run through
``ona_pats.server._loopback.ServerThread``, the embedded server's own harness.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from connectrpc.code import Code
from connectrpc.errors import ConnectError
from connectrpc.request import RequestContext

from ona_pats.rpc import UserServiceASGIApplication
from ona_pats.server._loopback import ServerThread, bind
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

USER_ID = "f53d2330-3795-4c5d-a1f3-453121af9c60"

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
    """The fake ``UserService``: it plays queued actions, else works on an in-memory store
    (``count`` tokens to start with; a page token is the decimal offset of the next item)."""

    def __init__(self, script: Script | None = None, count: int = 0) -> None:
        self.script = script or Script()
        for i in range(count):
            pat = PersonalAccessToken(id=str(uuid.UUID(int=i + 1)), user_id=USER_ID)
            pat.description = f"token {i}"
            pat.created_at.FromSeconds(1_700_000_000 + i)
            self.script.store[pat.id] = pat

    @property
    def pats(self) -> dict[str, PersonalAccessToken]:
        """The store: tokens by id."""
        return self.script.store

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
        token = request.pagination.token
        if token and not token.isdigit():
            raise ConnectError(Code.INVALID_ARGUMENT, "pagination.token: malformed")
        size = request.pagination.page_size or 25
        start = int(token or "0")
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
    """The scripted service on loopback, in a background thread (the one harness,
    ``ona_pats.server._loopback``)."""

    def __init__(self, service: ScriptedService | None = None, **options: Any) -> None:
        self.script = service.script if service is not None else Script()
        self.scheme = "https" if "ssl_certfile" in options else "http"
        app = UserServiceASGIApplication(service or ScriptedService(self.script))
        self._sock = bind()
        self._thread = ServerThread(
            recording_app(self.script, app),
            self._sock,
            name="scripted-server",
            log_level="error",
            http="h11",
            **options,
        )
        self.port = self._thread.port
        self.url = f"{self.scheme}://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._thread.stop()
        self._sock.close()

    def __enter__(self) -> ScriptedServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

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


@contextlib.contextmanager
def serve_asgi(app: ASGIApp) -> Iterator[str]:
    """Serve ``app`` on a free loopback port from a thread; yield its base URL."""
    sock = bind()
    thread = ServerThread(app, sock, name="test-asgi", log_level="warning")
    thread.start()
    try:
        yield f"http://127.0.0.1:{thread.port}"
    finally:
        thread.stop()
        sock.close()


@contextlib.contextmanager
def fake_server(count: int = 0) -> Iterator[tuple[str, ScriptedService]]:
    """The fake service with ``count`` tokens, served on loopback."""
    service = ScriptedService(count=count)
    with serve_asgi(UserServiceASGIApplication(service)) as url:
        yield url, service


class EndlessPages(ScriptedService):
    """A listing that never ends: every page has a new next token (and one item, or none)."""

    def __init__(self, delay: float, empty: bool) -> None:
        super().__init__()
        self.delay = delay
        self.empty = empty

    async def list_personal_access_tokens(
        self, request: ListPersonalAccessTokensRequest, ctx: RequestContext[Any, Any], /
    ) -> ListPersonalAccessTokensResponse:
        await asyncio.sleep(self.delay)
        response = ListPersonalAccessTokensResponse()
        if not self.empty:
            response.personal_access_tokens.add(id=str(uuid.uuid4()), user_id=USER_ID)
        response.pagination.next_token = uuid.uuid4().hex
        return response


@contextlib.contextmanager
def serve_list_pages(delay: float, empty: bool = False) -> Iterator[str]:
    """Serve :class:`EndlessPages` on loopback; yield its base URL."""
    with serve_asgi(UserServiceASGIApplication(EndlessPages(delay, empty))) as url:
        yield url
