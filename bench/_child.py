"""One benchmarked client in its own process: ``python bench/_child.py CLIENT``.

Runs under the project's ``.venv`` or under one of the official SDKs' virtual environments, so
it imports nothing from ``bench`` and only the standard library at module level. It talks to
the harness in JSON lines: stdin carries commands, the original stdout carries events (library
output is sent to stderr so it cannot corrupt the protocol).

    child   {"event": "warm"} | {"event": "unavailable", "reason": ...}
    harness {"cmd": "prepare", "workload": "list"}   -> child builds a fresh client
    child   {"event": "ready"}                        -> harness snapshots server counters
    harness {"cmd": "go"}
    child   {"event": "result", "cpu": s, "wall": s, "items": n} | {"event": "error", ...}
    harness {"cmd": "quit"}

CPU is ``time.process_time()``: user plus system time of every thread of this process (pyqwest's
Rust runtime threads and thread pools included), around the workload only.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

# Connect unary over HTTP: https://connectrpc.com/docs/protocol/#unary-request
_SERVICE = "/gitpod.v1.UserService/"
_LIST = _SERVICE + "ListPersonalAccessTokens"
_GET = _SERVICE + "GetPersonalAccessToken"


class Unavailable(Exception):
    """The client cannot run here (not installed yet, or not importable)."""


class Spec:
    """What the harness tells every client: where, with which token, which work."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.url: str = raw["url"]
        self.warm_url: str = raw["warm_url"]
        self.token: str = raw["token"]
        self.cafile: str | None = raw.get("cafile")
        self.page_size: int = raw["page_size"]
        self.expect_items: int = raw["expect_items"]
        self.ids: list[str] = raw["ids"]
        self.warm_ids: list[str] = raw["warm_ids"]
        self.concurrency: int = raw["concurrency"]

    def ca_bytes(self) -> bytes | None:
        if self.cafile is None:
            return None
        with open(self.cafile, "rb") as f:
            return f.read()


def _run_concurrently(get_one: Callable[[str], Any], ids: list[str], concurrency: int) -> int:
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return sum(1 for _ in pool.map(get_one, ids))


async def _gather_limited(get_one: Callable[[str], Any], ids: list[str], concurrency: int) -> int:
    """``concurrency`` workers pulling ids from one shared iterator: no task per request."""
    it = iter(ids)
    done = 0

    async def worker() -> None:
        nonlocal done
        for pat_id in it:
            await get_one(pat_id)
            done += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done


# --------------------------------------------------------------------------------------------
# Clients. Each has open(url) / close(c) / list_all(c) / get(c, id) and, where it has an async
# flavour, aopen / aclose / aget for the concurrent workload.
# --------------------------------------------------------------------------------------------


class Client:
    """Base: sync Gets in a thread pool for the concurrent workload."""

    is_async_concurrent = False

    def __init__(self, spec: Spec) -> None:
        self.spec = spec

    def open(self, url: str) -> Any:
        raise NotImplementedError

    def close(self, c: Any) -> None:
        c.close()

    def list_all(self, c: Any) -> int:
        raise NotImplementedError

    def get(self, c: Any, pat_id: str) -> Any:
        raise NotImplementedError

    def gets(self, c: Any, ids: list[str]) -> int:
        get = self.get
        n = 0
        for pat_id in ids:
            get(c, pat_id)
            n += 1
        return n

    def gets_concurrent(self, c: Any, ids: list[str]) -> int:
        return _run_concurrently(lambda i: self.get(c, i), ids, self.spec.concurrency)


class AsyncConcurrent(Client):
    """A client whose concurrent workload runs on asyncio."""

    is_async_concurrent = True

    async def aopen(self, url: str) -> Any:
        raise NotImplementedError

    async def aclose(self, c: Any) -> None:
        raise NotImplementedError

    async def aget(self, c: Any, pat_id: str) -> Any:
        raise NotImplementedError

    async def agets_concurrent(self, c: Any, ids: list[str]) -> int:
        return await _gather_limited(lambda i: self.aget(c, i), ids, self.spec.concurrency)


class OnaSync(Client):
    protocol = "proto"

    def __init__(self, spec: Spec) -> None:
        super().__init__(spec)
        try:
            from ona_pats import Client as OnaClient
        except ImportError as exc:
            raise Unavailable(f"ona_pats.Client is not available ({exc})") from exc
        self.cls = OnaClient

    def open(self, url: str) -> Any:
        return self.cls(base_url=url, token=self.spec.token, protocol=self.protocol)

    def list_all(self, c: Any) -> int:
        n = 0
        for _pat in c.users.pats.list(page_size=self.spec.page_size):
            n += 1
        return n

    def get(self, c: Any, pat_id: str) -> Any:
        return c.users.pats.get(personal_access_token_id=pat_id)


class OnaSyncJSON(OnaSync):
    protocol = "json"


class OnaAsync(AsyncConcurrent):
    """ona-pats AsyncClient for every workload (each on a fresh event loop)."""

    def __init__(self, spec: Spec) -> None:
        super().__init__(spec)
        try:
            from ona_pats import AsyncClient
        except ImportError as exc:
            raise Unavailable(f"ona_pats.AsyncClient is not available ({exc})") from exc
        self.cls = AsyncClient

    async def aopen(self, url: str) -> Any:
        return self.cls(base_url=url, token=self.spec.token, protocol="proto")

    async def aclose(self, c: Any) -> None:
        await c.aclose()

    async def alist_all(self, c: Any) -> int:
        n = 0
        async for _pat in c.users.pats.list(page_size=self.spec.page_size):
            n += 1
        return n

    async def aget(self, c: Any, pat_id: str) -> Any:
        return await c.users.pats.get(personal_access_token_id=pat_id)

    async def agets(self, c: Any, ids: list[str]) -> int:
        n = 0
        for pat_id in ids:
            await self.aget(c, pat_id)
            n += 1
        return n


def _ona_types() -> Any:
    try:
        from ona_pats._schema import user_pb2
    except ImportError as exc:
        raise Unavailable(f"ona_pats stubs are not importable ({exc})") from exc
    return user_pb2


class RawConnect(AsyncConcurrent):
    """The generated connectrpc stubs with their defaults (gzip on), nothing else."""

    def __init__(self, spec: Spec) -> None:
        super().__init__(spec)
        self.pb = _ona_types()
        from ona_pats import rpc

        self.rpc = rpc
        self.transports: dict[int, Any] = {}

    def _headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self.spec.token}"}

    def _options(self) -> dict[str, Any]:
        """Per-call options: the headers (and, for the same-settings stub, the timeout)."""
        return {"headers": self._headers()}

    def open(self, url: str) -> Any:
        import pyqwest

        # Only the CA is set: everything else is pyqwest's and connectrpc's defaults.
        transport = pyqwest.SyncHTTPTransport(tls_ca_cert=self.spec.ca_bytes())
        stub = self.rpc.UserServiceClientSync(url, http_client=pyqwest.SyncClient(transport))
        self.transports[id(stub)] = transport
        return stub

    def close(self, c: Any) -> None:
        c.close()  # connectrpc does not close a transport it was given
        self.transports.pop(id(c)).close()

    def list_all(self, c: Any) -> int:
        pb = self.pb
        options = self._options()
        token, n = "", 0
        while True:
            req = pb.ListPersonalAccessTokensRequest()
            req.pagination.page_size = self.spec.page_size
            req.pagination.token = token
            res = c.list_personal_access_tokens(req, **options)
            for _pat in res.personal_access_tokens:
                n += 1
            token = res.pagination.next_token
            if not token:
                return n

    def get(self, c: Any, pat_id: str) -> Any:
        req = self.pb.GetPersonalAccessTokenRequest(personal_access_token_id=pat_id)
        return c.get_personal_access_token(req, **self._options()).pat

    async def aopen(self, url: str) -> Any:
        import pyqwest

        transport = pyqwest.HTTPTransport(tls_ca_cert=self.spec.ca_bytes())
        stub = self.rpc.UserServiceClient(url, http_client=pyqwest.Client(transport))
        self.transports[id(stub)] = transport
        return stub

    async def aclose(self, c: Any) -> None:
        await c.close()
        await self.transports.pop(id(c)).aclose()

    async def aget(self, c: Any, pat_id: str) -> Any:
        req = self.pb.GetPersonalAccessTokenRequest(personal_access_token_id=pat_id)
        return (await c.get_personal_access_token(req, **self._options())).pat


class RawConnectSame(RawConnect):
    """The generated connectrpc stubs with ona-pats' own settings: its pyqwest transport
    options (``ona_pats._transport.transport_options``), requests uncompressed, the binary
    codec, the bearer header; but none of the wrapper (validation, retries, deadlines, error
    mapping, bounded bodies). ``ona-*`` against this is what the wrapper itself costs."""

    def _options(self) -> dict[str, Any]:
        from ona_pats._config import DEFAULT_TIMEOUT

        # ona-pats sends its default time budget with every call (Connect-Timeout-Ms).
        return {"headers": self._headers(), "timeout_ms": int(DEFAULT_TIMEOUT * 1000)}

    def _stub_options(self, url: str) -> dict[str, Any]:
        from connectrpc.compat import google_protobuf_binary_codec

        from ona_pats._transport import transport_options

        options = transport_options(url)
        if self.spec.cafile:
            options["tls_ca_cert"] = self.spec.ca_bytes()
        return {
            "transport": options,
            "codec": google_protobuf_binary_codec(),
        }

    def _stub(self, url: str, *, sync: bool) -> Any:
        import pyqwest

        options = self._stub_options(url)
        transport: Any
        if sync:
            transport = pyqwest.SyncHTTPTransport(**options["transport"])
            cls, http = self.rpc.UserServiceClientSync, pyqwest.SyncClient(transport)
        else:
            transport = pyqwest.HTTPTransport(**options["transport"])
            cls, http = self.rpc.UserServiceClient, pyqwest.Client(transport)
        stub = cls(url, codec=options["codec"], send_compression=None, http_client=http)
        self.transports[id(stub)] = transport
        return stub

    def open(self, url: str) -> Any:
        return self._stub(url, sync=True)

    async def aopen(self, url: str) -> Any:
        return self._stub(url, sync=False)


class RawConnectSameAsync(RawConnectSame):
    """:class:`RawConnectSame` on its async stub for every workload (as ``ona-async-proto``)."""

    async def alist_all(self, c: Any) -> int:
        pb = self.pb
        options = self._options()
        token, n = "", 0
        while True:
            req = pb.ListPersonalAccessTokensRequest()
            req.pagination.page_size = self.spec.page_size
            req.pagination.token = token
            res = await c.list_personal_access_tokens(req, **options)
            for _pat in res.personal_access_tokens:
                n += 1
            token = res.pagination.next_token
            if not token:
                return n

    async def agets(self, c: Any, ids: list[str]) -> int:
        n = 0
        for pat_id in ids:
            await self.aget(c, pat_id)
            n += 1
        return n


class _Floor:
    """Shared by the floors: pre-encoded requests, ``ParseFromString`` on the way back."""

    def _prepare(self, spec: Spec) -> None:
        self.pb = _ona_types()
        self.headers = {
            "content-type": "application/proto",
            "connect-protocol-version": "1",
            "authorization": f"Bearer {spec.token}",
        }
        encode = self.pb.GetPersonalAccessTokenRequest
        self.get_bodies = {
            i: encode(personal_access_token_id=i).SerializeToString()
            for i in spec.ids + spec.warm_ids
        }

    def _list_body(self, token: str, page_size: int) -> bytes:
        req = self.pb.ListPersonalAccessTokensRequest()
        req.pagination.page_size = page_size
        req.pagination.token = token
        return req.SerializeToString()

    def _parse_list(self, status: int, content: bytes) -> Any:
        if status != 200:
            raise RuntimeError(f"list: HTTP {status}: {content[:200]!r}")
        res = self.pb.ListPersonalAccessTokensResponse()
        res.ParseFromString(content)
        return res

    def _parse_get(self, status: int, content: bytes) -> Any:
        if status != 200:
            raise RuntimeError(f"get: HTTP {status}: {content[:200]!r}")
        res = self.pb.GetPersonalAccessTokenResponse()
        res.ParseFromString(content)
        return res.pat


class FloorPyqwest(_Floor, AsyncConcurrent):
    """The floor: a bare pyqwest loop (sync for list and Gets, async for concurrent Gets)."""

    def __init__(self, spec: Spec) -> None:
        super().__init__(spec)
        self._prepare(spec)
        import pyqwest

        self.pyqwest = pyqwest

    def _transport_options(self) -> dict[str, Any]:
        # The cheapest pyqwest there is: as many idle connections as workers, so the floor
        # never re-connects, and no OpenTelemetry instrumentation (on by default in pyqwest,
        # off in ona-pats unless the application configured a provider).
        return {
            "tls_ca_cert": self.spec.ca_bytes(),
            "pool_max_idle_per_host": self.spec.concurrency,
            "enable_otel": False,
        }

    def open(self, url: str) -> Any:
        transport = self.pyqwest.SyncHTTPTransport(**self._transport_options())
        return url, self.pyqwest.SyncClient(transport), transport

    def close(self, c: Any) -> None:
        c[2].close()

    def list_all(self, c: Any) -> int:
        url, http, _ = c
        token, n = "", 0
        while True:
            body = self._list_body(token, self.spec.page_size)
            r = http.post(url + _LIST, self.headers, body)
            res = self._parse_list(r.status, r.content)
            for _pat in res.personal_access_tokens:
                n += 1
            token = res.pagination.next_token
            if not token:
                return n

    def get(self, c: Any, pat_id: str) -> Any:
        url, http, _ = c
        r = http.post(url + _GET, self.headers, self.get_bodies[pat_id])
        return self._parse_get(r.status, r.content)

    async def aopen(self, url: str) -> Any:
        transport = self.pyqwest.HTTPTransport(**self._transport_options())
        return url, self.pyqwest.Client(transport), transport

    async def aclose(self, c: Any) -> None:
        await c[2].aclose()

    async def aget(self, c: Any, pat_id: str) -> Any:
        url, http, _ = c
        r = await http.post(url + _GET, self.headers, self.get_bodies[pat_id])
        return self._parse_get(r.status, r.content)


class FloorHttpx(_Floor, Client):
    """A bare ``httpx.Client`` loop (a thread pool for concurrent Gets)."""

    def __init__(self, spec: Spec) -> None:
        super().__init__(spec)
        self._prepare(spec)
        import httpx

        self.httpx = httpx

    def open(self, url: str) -> Any:
        limits = self.httpx.Limits(
            max_connections=self.spec.concurrency, max_keepalive_connections=self.spec.concurrency
        )
        verify: Any = True
        if self.spec.cafile:
            import ssl

            verify = ssl.create_default_context(cafile=self.spec.cafile)
        return self.httpx.Client(base_url=url, verify=verify, limits=limits)

    def list_all(self, c: Any) -> int:
        token, n = "", 0
        while True:
            r = c.post(
                _LIST, headers=self.headers, content=self._list_body(token, self.spec.page_size)
            )
            res = self._parse_list(r.status_code, r.content)
            for _pat in res.personal_access_tokens:
                n += 1
            token = res.pagination.next_token
            if not token:
                return n

    def get(self, c: Any, pat_id: str) -> Any:
        r = c.post(_GET, headers=self.headers, content=self.get_bodies[pat_id])
        return self._parse_get(r.status_code, r.content)


class OfficialConnect(Client):
    """gitpod-sdk 1.2.0, called as ``ona_sdk`` calls itself: ``OnaClient._unary`` over
    ``OnaClient.services`` (``ona_sdk.services.ServiceClients``), paginating by hand as
    ``ona_sdk/environments.py`` does. The SDK is sync-only: a thread pool for concurrency."""

    def __init__(self, spec: Spec) -> None:
        super().__init__(spec)
        try:
            from gitpod.v1 import pagination_pb2, user_pb2
            from ona_sdk.client import OnaClient
        except ImportError as exc:
            raise Unavailable(f"gitpod-sdk 1.2.0 (ona_sdk) is not importable ({exc})") from exc
        self.cls, self.pb, self.pagination_pb2 = OnaClient, user_pb2, pagination_pb2

    def open(self, url: str) -> Any:
        return self.cls(api_key=self.spec.token, base_url=url)

    def close(self, c: Any) -> None:
        pass  # OnaClient has no close(); urllib closes each connection after its call

    def list_all(self, c: Any) -> int:
        page_token, n = "", 0
        while True:
            request = self.pb.ListPersonalAccessTokensRequest(
                pagination=self.pagination_pb2.PaginationRequest(
                    page_size=self.spec.page_size, token=page_token
                ),
            )
            response = c._unary(
                c.services.user.list_personal_access_tokens, request, "users.pats.list"
            )
            for _pat in response.personal_access_tokens:
                n += 1
            next_token = response.pagination.next_token
            if not next_token:
                return n
            page_token = next_token

    def get(self, c: Any, pat_id: str) -> Any:
        request = self.pb.GetPersonalAccessTokenRequest(personal_access_token_id=pat_id)
        return c._unary(c.services.user.get_personal_access_token, request, "users.pats.get").pat


class Stainless(AsyncConcurrent):
    """gitpod-sdk 0.11.0 (Stainless: httpx + pydantic, JSON); ``AsyncGitpod`` for concurrency."""

    def __init__(self, spec: Spec) -> None:
        super().__init__(spec)
        try:
            import gitpod
        except ImportError as exc:
            raise Unavailable(f"gitpod-sdk 0.11.0 is not importable ({exc})") from exc
        if not hasattr(gitpod, "Gitpod"):
            raise Unavailable("the 'gitpod' package here is not the Stainless gitpod-sdk 0.11.0")
        self.gitpod = gitpod

    def open(self, url: str) -> Any:
        # httpx reads SSL_CERT_FILE (set by the harness) for the bench CA.
        return self.gitpod.Gitpod(bearer_token=self.spec.token, base_url=url)

    def list_all(self, c: Any) -> int:
        n = 0
        for _pat in c.users.pats.list(page_size=self.spec.page_size):
            n += 1
        return n

    def get(self, c: Any, pat_id: str) -> Any:
        return c.users.pats.get(personal_access_token_id=pat_id).pat

    async def aopen(self, url: str) -> Any:
        return self.gitpod.AsyncGitpod(bearer_token=self.spec.token, base_url=url)

    async def aclose(self, c: Any) -> None:
        await c.close()

    async def aget(self, c: Any, pat_id: str) -> Any:
        return (await c.users.pats.get(personal_access_token_id=pat_id)).pat


CLIENTS: dict[str, type[Client]] = {
    "ona-sync-proto": OnaSync,
    "ona-sync-json": OnaSyncJSON,
    "ona-async-proto": OnaAsync,
    "sdk-1.2.0": OfficialConnect,
    "sdk-0.11.0": Stainless,
    "raw-connectrpc": RawConnect,
    "raw-connectrpc-same": RawConnectSame,
    "raw-connectrpc-same-async": RawConnectSameAsync,
    "floor-pyqwest": FloorPyqwest,
    "floor-httpx": FloorHttpx,
}


# --------------------------------------------------------------------------------------------
# Workloads: each returns (open, run, close) around one fresh client.
# --------------------------------------------------------------------------------------------


def _workload_ids(spec: Spec, warm: bool) -> list[str]:
    return spec.warm_ids if warm else spec.ids


def run_workload(client: Client, workload: str, url: str, ids: list[str]) -> Iterator[str]:
    """Generator: opens a client, yields 'ready', then times the workload and yields JSON."""
    if isinstance(client, OnaAsync | RawConnectSameAsync) or (
        workload == "gets_concurrent" and isinstance(client, AsyncConcurrent)
    ):
        yield from _run_async(client, workload, url, ids)  # type: ignore[arg-type]
        return
    c = client.open(url)
    try:
        yield "ready"
        cpu0, wall0 = time.process_time(), time.perf_counter()
        if workload == "list":
            items = client.list_all(c)
        elif workload == "gets":
            items = client.gets(c, ids)
        else:
            items = client.gets_concurrent(c, ids)
        wall1, cpu1 = time.perf_counter(), time.process_time()
    finally:
        client.close(c)
    yield json.dumps({"event": "result", "cpu": cpu1 - cpu0, "wall": wall1 - wall0, "items": items})


def _run_async(client: AsyncConcurrent, workload: str, url: str, ids: list[str]) -> Iterator[str]:
    loop = asyncio.new_event_loop()
    try:
        c = loop.run_until_complete(client.aopen(url))
        try:
            yield "ready"
            if workload == "list":
                coro: Any = client.alist_all(c)  # type: ignore[attr-defined]
            elif workload == "gets":
                coro = client.agets(c, ids)  # type: ignore[attr-defined]
            else:
                coro = client.agets_concurrent(c, ids)
            cpu0, wall0 = time.process_time(), time.perf_counter()
            items = loop.run_until_complete(coro)
            wall1, cpu1 = time.perf_counter(), time.process_time()
        finally:
            loop.run_until_complete(client.aclose(c))
    finally:
        loop.close()
    yield json.dumps({"event": "result", "cpu": cpu1 - cpu0, "wall": wall1 - wall0, "items": items})


def _expected(spec: Spec, workload: str, warm: bool) -> int:
    if workload == "list":
        return spec.expect_items
    return len(_workload_ids(spec, warm))


def warm_up(client: Client, spec: Spec, workloads: list[str]) -> None:
    """Every code path once against the warm-up listener, so no connection is left pooled
    to the measured one (pools are per host and port)."""
    for workload in workloads:
        steps = run_workload(client, workload, spec.warm_url, spec.warm_ids)
        next(steps)
        result = json.loads(next(steps))
        if workload != "list" and result["items"] != len(spec.warm_ids):
            raise RuntimeError(f"warm-up {workload}: {result['items']} items")


# --------------------------------------------------------------------------------------------
# JSON mapping: ours against google.protobuf.json_format, no network.
# --------------------------------------------------------------------------------------------


def _jsonmap(which: str, pages_file: str) -> Iterator[str]:
    from google.protobuf import json_format

    pb = _ona_types()
    with open(pages_file, "rb") as f:
        blob = pb.ListPersonalAccessTokensResponse.FromString(f.read())
    per_page = 100
    tokens = list(blob.personal_access_tokens)
    pages = []
    for start in range(0, len(tokens), per_page):
        page = pb.ListPersonalAccessTokensResponse(
            personal_access_tokens=tokens[start : start + per_page]
        )
        page.pagination.next_token = f"o{start + per_page}"
        pages.append(page)
    if which.startswith("ours"):
        try:
            from ona_pats import from_json, to_json
        except ImportError as exc:
            raise Unavailable(f"ona_pats.to_json/from_json are not available ({exc})") from exc
        encode: Callable[[Any], str] = to_json
        decode: Callable[[str], Any] = lambda s: from_json(  # noqa: E731
            s, pb.ListPersonalAccessTokensResponse
        )
    else:
        encode = lambda m: json_format.MessageToJson(  # noqa: E731
            m, indent=None, always_print_fields_with_no_presence=True
        )
        decode = lambda s: json_format.Parse(s, pb.ListPersonalAccessTokensResponse())  # noqa: E731
    texts = [encode(p) for p in pages]  # warm-up, and the inputs of the decode run
    for t in texts[:3]:
        decode(t)
    yield "ready"
    cpu0, wall0 = time.process_time(), time.perf_counter()
    if which.endswith("encode"):
        n = sum(len(encode(p).encode()) > 0 for p in pages) * per_page
    else:
        n = sum(len(decode(t).personal_access_tokens) for t in texts)
    wall1, cpu1 = time.perf_counter(), time.process_time()
    yield json.dumps({"event": "result", "cpu": cpu1 - cpu0, "wall": wall1 - wall0, "items": n})


# --------------------------------------------------------------------------------------------
# The protocol loop.
# --------------------------------------------------------------------------------------------


def start(
    name: str, spec: Spec, workloads: list[str], send: Callable[[dict[str, Any]], None]
) -> Client | None:
    """Build client ``name`` and warm it up; send ``warm``, or ``unavailable`` and return None."""
    try:
        client = CLIENTS[name](spec)
        warm_up(client, spec, workloads)
    except Unavailable as exc:
        send({"event": "unavailable", "reason": str(exc)})
        return None
    except Exception as exc:
        send({"event": "unavailable", "reason": f"warm-up failed: {exc!r}"})
        traceback.print_exc()
        return None
    send({"event": "warm"})
    return client


def _serve(name: str, spec_raw: dict[str, Any], out: Any) -> None:
    def send(obj: dict[str, Any] | str) -> None:
        out.write((obj if isinstance(obj, str) else json.dumps(obj)) + "\n")
        out.flush()

    jsonmap = name.startswith("jsonmap-")
    spec = None if jsonmap else Spec(spec_raw)
    client = None
    if spec is not None:
        client = start(name, spec, spec_raw["workloads"], send)
        if client is None:
            return
    else:
        send({"event": "warm"})
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd["cmd"] == "quit":
            return
        workload = cmd["workload"]
        try:
            if client is None or spec is None:
                steps = _jsonmap(
                    name.removeprefix("jsonmap-") + "-" + workload, spec_raw["pages_file"]
                )
            else:
                steps = run_workload(client, workload, spec.url, spec.ids)
            next(steps)
            send({"event": "ready"})
            json.loads(sys.stdin.readline())  # {"cmd": "go"}
            result = next(steps)
            if spec is not None and json.loads(result)["items"] != _expected(spec, workload, False):
                raise RuntimeError(f"{workload}: wrong item count in {result}")
            send(result)
        except Unavailable as exc:
            send({"event": "unavailable", "reason": str(exc)})
        except Exception as exc:
            traceback.print_exc()
            send({"event": "error", "message": repr(exc)[:500]})


def main() -> None:
    name, spec_path = sys.argv[1], sys.argv[2]
    out = os.fdopen(os.dup(1), "w")
    sys.stdout = sys.stderr  # libraries' prints must not corrupt the protocol
    with open(spec_path) as f:
        spec_raw = json.load(f)
    _serve(name, spec_raw, out)


if __name__ == "__main__":
    main()
