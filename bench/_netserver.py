"""The embedded server's application over TLS under Hypercorn, which offers HTTP/2 by ALPN as
Ona's edge does: ``python -m bench._netserver SPEC.json``.

SPEC: ``{"db": path, "certfile": pem, "keyfile": pem, "alpn": ["h2", "http/1.1"]}``. Prints
``{"port": P}`` once listening, then answers JSON lines on stdin: ``{"cmd": "stats"}`` ->
``{"requests": {"1.1": n, "2": m}, "cpu": s}`` (requests per HTTP version, the server's CPU
seconds so far); ``{"cmd": "quit"}`` stops.
"""

from __future__ import annotations

import asyncio
import collections
import json
import socket
import sys
import threading
import time
from typing import Any

from hypercorn.asyncio import serve
from hypercorn.config import Config

from ona_pats.server import Store, create_app

VERSIONS: collections.Counter[str] = collections.Counter()


def _counting(app: Any) -> Any:
    async def middleware(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            VERSIONS[scope["http_version"]] += 1
        await app(scope, receive, send)

    return middleware


async def _main(spec: dict[str, Any]) -> None:
    store = Store(spec["db"])
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    config = Config()
    config.bind = [f"fd://{sock.fileno()}"]
    config.certfile = spec["certfile"]
    config.keyfile = spec["keyfile"]
    config.alpn_protocols = spec["alpn"]
    config.accesslog = None
    config.errorlog = None
    config.keep_alive_timeout = 75
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    def commands() -> None:
        for line in sys.stdin:
            if json.loads(line)["cmd"] == "stats":
                stats = {"requests": dict(VERSIONS), "cpu": time.process_time()}
                print(json.dumps(stats), flush=True)
            else:
                break
        loop.call_soon_threadsafe(stop.set)

    print(json.dumps({"port": sock.getsockname()[1]}), flush=True)
    threading.Thread(target=commands, daemon=True).start()
    await serve(_counting(create_app(store)), config, shutdown_trigger=stop.wait)  # type: ignore[arg-type]
    store.close()


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        asyncio.run(_main(json.load(f)))
