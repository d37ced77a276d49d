"""Client CPU per Get, layer by layer: ``python -m bench.attribution [--gets N] [--rounds N]``.

From the bare pyqwest floor up to ``ona_pats.Client.get``, each variant adds one layer or
option (OpenTelemetry, connectrpc, gzip, ``ResponseMetadata``, the read-limit transport, the
async timeout), so the difference between two rows is what that layer costs. The floor server
runs in another process; figures are ``time.process_time()`` per call, the median of the
rounds, variants interleaved within each round.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pyqwest
from connectrpc._protocol_connect import ConnectClientProtocol
from connectrpc.client import ResponseMetadata
from connectrpc.request import Headers, RequestContext

from ona_pats import AsyncClient, Client, rpc
from ona_pats._schema import user_pb2

from .profile import _start_floor

_PATH = "/gitpod.v1.UserService/GetPersonalAccessToken"
_HEADERS = {
    "content-type": "application/proto",
    "connect-protocol-version": "1",
    "authorization": "Bearer bench",
}
_TOKEN = "bench"  # noqa: S105 (the floor server accepts any token)
_AUTH = {"authorization": f"Bearer {_TOKEN}"}


class _CachedConnectProtocol(ConnectClientProtocol):
    """What an upstream connectrpc patch could do per call, to measure it (never shipped):
    the static request headers and the server address computed once per client, the user's
    headers merged as given (the wrapper lower-cases its own), and an exact content type
    accepted without normalising it."""

    def __init__(self) -> None:
        self._cache: dict[tuple[Any, ...], tuple[dict[str, str], str | None]] = {}

    def create_request_context(self, **kw: Any) -> RequestContext[Any, Any]:
        compression = kw["send_compression"]
        key = (
            kw["url"],
            kw["codec"].name(),
            kw["stream"],
            kw["accept_compression"],
            compression and compression.name(),
        )
        cached = self._cache.get(key)
        if cached is None:
            ctx = super().create_request_context(**{**kw, "user_headers": None, "timeout_ms": None})
            cached = self._cache[key] = (dict(ctx.request_headers.items()), ctx.server_address)
        store = dict(cached[0])
        if kw["user_headers"]:
            store.update(kw["user_headers"])
        if kw["timeout_ms"] is not None:
            store["connect-timeout-ms"] = str(kw["timeout_ms"])
        headers = Headers()
        headers._store = store
        return RequestContext(
            method=kw["method"],
            http_method=kw["http_method"],
            request_headers=headers,
            timeout_ms=kw["timeout_ms"],
            server_address=cached[1],
        )

    def validate_response(self, codec_name: str, status: int, content_type: str) -> None:
        if status == 200 and content_type == "application/" + codec_name:
            return
        super().validate_response(codec_name, status, content_type)


def _sync_variants(url: str, ids: list[str]) -> dict[str, Callable[[], None]]:
    bodies = [
        user_pb2.GetPersonalAccessTokenRequest(personal_access_token_id=i).SerializeToString()
        for i in ids
    ]

    def floor(otel: bool) -> Callable[[], None]:
        http = pyqwest.SyncClient(pyqwest.SyncHTTPTransport(enable_otel=otel))

        def run() -> None:
            for body in bodies:
                user_pb2.GetPersonalAccessTokenResponse.FromString(
                    http.post(url + _PATH, _HEADERS, body).content
                )

        return run

    def raw(gzip: bool, otel: bool, meta: bool, cached: bool = False) -> Callable[[], None]:
        http = pyqwest.SyncClient(pyqwest.SyncHTTPTransport(enable_otel=otel))
        options: dict[str, Any] = {} if gzip else {"send_compression": None}
        stub = rpc.UserServiceClientSync(url, http_client=http, **options)
        if cached:
            stub._protocol = _CachedConnectProtocol()

        def run() -> None:
            for i in ids:
                req = user_pb2.GetPersonalAccessTokenRequest(personal_access_token_id=i)
                if meta:
                    with ResponseMetadata():
                        stub.get_personal_access_token(req, headers=_AUTH)
                else:
                    stub.get_personal_access_token(req, headers=_AUTH)

        return run

    def ona(**options: Any) -> Callable[[], None]:
        client = Client(base_url=url, token=_TOKEN, **options)

        def run() -> None:
            for i in ids:
                client.users.pats.get(personal_access_token_id=i)

        return run

    return {
        "floor: pyqwest, OpenTelemetry off": floor(False),
        "pyqwest, its default OpenTelemetry on": floor(True),
        "raw connectrpc stub, defaults (gzip on)": raw(True, True, False),
        "raw stub, send_compression=None": raw(False, True, False),
        "raw stub, no gzip, OpenTelemetry off": raw(False, False, False),
        "raw stub, no gzip, OpenTelemetry off, ResponseMetadata": raw(False, False, True),
        "the same with cached Connect headers (a possible upstream patch)": raw(
            False, False, True, cached=True
        ),
        "ona_pats.Client.get, defaults": ona(),
        "ona_pats.Client.get, read_max_bytes=None": ona(read_max_bytes=None),
    }


def _async_variants(url: str, ids: list[str]) -> dict[str, Callable[[], Awaitable[None]]]:
    bodies = [
        user_pb2.GetPersonalAccessTokenRequest(personal_access_token_id=i).SerializeToString()
        for i in ids
    ]
    http = pyqwest.Client(pyqwest.HTTPTransport(enable_otel=False))
    stub = rpc.UserServiceClient(url, http_client=http, send_compression=None)

    async def floor() -> None:
        for body in bodies:
            response = await http.post(url + _PATH, _HEADERS, body)
            user_pb2.GetPersonalAccessTokenResponse.FromString(response.content)

    def raw(timeout_ms: int | None) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            for i in ids:
                req = user_pb2.GetPersonalAccessTokenRequest(personal_access_token_id=i)
                await stub.get_personal_access_token(req, headers=_AUTH, timeout_ms=timeout_ms)

        return run

    def ona(**options: Any) -> Callable[[], Awaitable[None]]:
        client = AsyncClient(base_url=url, token=_TOKEN, **options)

        async def run() -> None:
            for i in ids:
                await client.users.pats.get(personal_access_token_id=i)

        return run

    return {
        "floor: async pyqwest, OpenTelemetry off": floor,
        "raw async stub, no gzip, timeout_ms=None": raw(None),
        "raw async stub, no gzip, timeout_ms=60000 (asyncio.wait_for)": raw(60_000),
        "ona_pats.AsyncClient.get, defaults": ona(),
        "AsyncClient.get, timeout=None": ona(timeout=None),
        "AsyncClient.get, read_max_bytes=None": ona(read_max_bytes=None),
        "AsyncClient.get, read_max_bytes=None, timeout=None": ona(
            read_max_bytes=None, timeout=None
        ),
    }


def _table(title: str, results: dict[str, list[float]], calls: int) -> None:
    floor = statistics.median(next(iter(results.values())))
    print(f"\n| {title} | CPU per call | x floor |\n|---|--:|--:|")
    for name, runs in results.items():
        median = statistics.median(runs)
        print(f"| {name} | {median / calls * 1e6:.0f} us | {median / floor:.2f} |")


def _measure_sync(variants: dict[str, Callable[[], None]], rounds: int) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {name: [] for name in variants}
    for run in variants.values():
        run()  # warm-up, and the connection
    for _ in range(rounds):
        for name, run in variants.items():
            start = time.process_time()
            run()
            results[name].append(time.process_time() - start)
    return results


async def _measure_async(
    variants: dict[str, Callable[[], Awaitable[None]]], rounds: int
) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {name: [] for name in variants}
    for run in variants.values():
        await run()
    for _ in range(rounds):
        for name, run in variants.items():
            start = time.process_time()
            await run()
            results[name].append(time.process_time() - start)
    return results


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.attribution", description=__doc__)
    p.add_argument("--gets", type=int, default=2_000, help="Gets per round and variant")
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ona-pats-attribution-") as tmp:
        proc, (ready, data, _certs) = _start_floor(Path(tmp), "http", 2_000)
        try:
            url = ready["url"]
            ids = [data.ids[i % len(data.ids)] for i in range(args.gets)]
            sync = _measure_sync(_sync_variants(url, ids), args.rounds)
            _table("sync Get", sync, args.gets)

            async def run_async() -> dict[str, list[float]]:
                return await _measure_async(_async_variants(url, ids), args.rounds)

            _table("async Get", asyncio.run(run_async()), args.gets)
        finally:
            assert proc.stdin is not None
            proc.stdin.write('{"cmd": "quit"}\n')
            proc.stdin.flush()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
