"""A loopback HTTP proxy in front of the embedded server that fails chosen RPCs.

The rotate failure path needs a Delete that fails after the Create succeeded; the proxy
forwards every request unchanged except those to the methods named in ``fail``, which get a
Connect error body (``unavailable``, HTTP 503) as a flaky gateway would send.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "host", "content-length"}


def _handler(upstream: str, fail: frozenset[str]) -> type[BaseHTTPRequestHandler]:
    target = urlsplit(upstream)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            del format, args  # keep the test output quiet

        def do_POST(self) -> None:
            self._forward("POST")

        def do_GET(self) -> None:  # Connect GET, for the no-side-effect methods
            self._forward("GET")

        def _forward(self, method: str) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            if self.path.split("?", 1)[0].rsplit("/", 1)[-1] in fail:
                self._send(503, {"content-type": "application/json"}, _unavailable())
                return
            conn = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
            conn.request(method, target.path.rstrip("/") + self.path, body, headers)
            response = conn.getresponse()
            payload = response.read()
            kept = {k: v for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP}
            conn.close()
            self._send(response.status, kept, payload)

        def _send(self, status: int, headers: dict[str, str], payload: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return Handler


def _unavailable() -> bytes:
    return json.dumps({"code": "unavailable", "message": "proxy: injected failure"}).encode()


@contextmanager
def failing_proxy(upstream: str, *fail: str) -> Iterator[str]:
    """Serve a proxy to ``upstream`` on loopback that fails the RPC methods named in ``fail``.

    Yields:
        The proxy's base URL, to use as ``--base-url``.
    """
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(upstream, frozenset(fail)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
