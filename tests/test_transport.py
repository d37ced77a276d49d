"""The default transport: codecs, per-method objects from the descriptors, TLS with
``SSL_CERT_FILE``, proxies from the environment (through a loopback proxy), lifecycle."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import trustme
from connectrpc.compat import google_protobuf_binary_codec
from connectrpc.request import RequestContext

from ona_pats import Client, ConfigurationError, UnavailableError
from ona_pats._stubs import CREATE, DELETE, GET, LIST, codec_for
from ona_pats._transport import _otel_configured, transport_options
from ona_pats.rpc import UserServiceClientSync

from .conftest import TOKEN, USER_ID, ScriptedServer


def test_codecs() -> None:
    assert codec_for("proto") is google_protobuf_binary_codec()
    assert codec_for("json").name() == "json"
    from ona_pats import _json

    assert isinstance(codec_for("json"), _json.ProtoJSONCodec)


class _Capture:
    def __init__(self) -> None:
        self.methods: list[Any] = []

    def intercept_unary_sync(
        self, call_next: Any, request: Any, ctx: RequestContext[Any, Any]
    ) -> Any:
        self.methods.append(ctx.method)
        raise RuntimeError("captured")


def test_method_info_from_descriptors_equals_the_generated() -> None:
    capture = _Capture()
    stub = UserServiceClientSync("http://127.0.0.1:9", interceptors=[capture])
    for name in (
        "create_personal_access_token",
        "get_personal_access_token",
        "list_personal_access_tokens",
        "delete_personal_access_token",
    ):
        method = getattr(stub, name)
        with pytest.raises(RuntimeError):
            method(method.__annotations__ and _request_for(name))
    assert [m.name for m in capture.methods] == [CREATE.name, GET.name, LIST.name, DELETE.name]


def _request_for(name: str) -> Any:
    from ona_pats.types import (
        CreatePersonalAccessTokenRequest,
        DeletePersonalAccessTokenRequest,
        GetPersonalAccessTokenRequest,
        ListPersonalAccessTokensRequest,
    )

    return {
        "create_personal_access_token": CreatePersonalAccessTokenRequest(),
        "get_personal_access_token": GetPersonalAccessTokenRequest(),
        "list_personal_access_tokens": ListPersonalAccessTokensRequest(),
        "delete_personal_access_token": DeletePersonalAccessTokenRequest(),
    }[name]


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ScriptedServer, Path]]:
    """A scripted server over TLS with a certificate of a private CA; yields the CA file."""
    tmp = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    key_file, cert_file, ca_file = tmp / "key.pem", tmp / "cert.pem", tmp / "ca.pem"
    cert.private_key_pem.write_to_path(str(key_file))
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    ca.cert_pem.write_to_path(str(ca_file))
    server = ScriptedServer(ssl_keyfile=str(key_file), ssl_certfile=str(cert_file))
    server.start()
    yield server, ca_file
    server.stop()


def test_tls_with_ssl_cert_file(
    tls_server: tuple[ScriptedServer, Path], monkeypatch: pytest.MonkeyPatch, no_env: None
) -> None:
    server, ca_file = tls_server
    server.script.reset()
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    with Client(token=TOKEN, base_url=server.url) as client:
        client.users.pats.create(user_id=USER_ID)
    assert len(server.requests) == 1


def test_tls_untrusted_certificate_fails(
    tls_server: tuple[ScriptedServer, Path], monkeypatch: pytest.MonkeyPatch, no_env: None
) -> None:
    server, _ = tls_server
    server.script.reset()
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    with (
        Client(token=TOKEN, base_url=server.url, max_retries=0) as client,
        pytest.raises(UnavailableError),
    ):
        client.users.pats.get(personal_access_token_id=USER_ID)
    assert server.requests == []


class _Proxy:
    """A tiny forward HTTP proxy on loopback: forwards absolute-form requests to one upstream."""

    def __init__(self, upstream_port: int) -> None:
        self.seen: list[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                del format, args

            def do_POST(self) -> None:
                proxy.seen.append(self.path)
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                parts = urlsplit(self.path)
                conn = http.client.HTTPConnection("127.0.0.1", upstream_port, timeout=10)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
                conn.request("POST", parts.path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in {"transfer-encoding", "connection", "content-length"}:
                        self.send_header(key, value)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                conn.close()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> _Proxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_http_proxy_from_environment(
    scripted_server: ScriptedServer, monkeypatch: pytest.MonkeyPatch, no_env: None
) -> None:
    """``pats.test`` resolves nowhere: the call only succeeds through the proxy."""
    with _Proxy(scripted_server.port) as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        with Client(
            token=TOKEN,
            base_url=f"http://pats.test:{scripted_server.port}",
            allow_insecure_http=True,
        ) as client:
            client.users.pats.create(user_id=USER_ID)
    assert proxy.seen == [
        f"http://pats.test:{scripted_server.port}/gitpod.v1.UserService/CreatePersonalAccessToken"
    ]
    assert scripted_server.requests[0].headers["authorization"] == f"Bearer {TOKEN}"


def test_no_proxy_from_environment(
    scripted_server: ScriptedServer, monkeypatch: pytest.MonkeyPatch, no_env: None
) -> None:
    with _Proxy(scripted_server.port) as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.url)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        with Client(token=TOKEN, base_url=scripted_server.url) as client:
            client.users.pats.create(user_id=USER_ID)
    assert proxy.seen == []
    assert len(scripted_server.requests) == 1


def test_close_is_idempotent(scripted_server: ScriptedServer) -> None:
    client = Client(token=TOKEN, base_url=scripted_server.url)
    client.close()
    client.close()


def test_transport_options_http_loads_no_ca_store(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", "/nonexistent")
    options = transport_options("http://127.0.0.1:1")
    assert not {"tls_ca_cert", "tls_include_system_certs"} & options.keys()
    assert options["follow_redirects"] is False


def test_transport_opens_no_more_connections_than_it_keeps_idle() -> None:
    """A thread pool sharing a client reuses connections instead of churning through new ones."""
    options = transport_options("https://api.test")
    assert options["max_connections_per_address"] == options["pool_max_idle_per_host"]


def test_transport_options_https_system_store_or_ssl_cert_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    assert transport_options("https://api.test")["tls_include_system_certs"] is True
    ca = tmp_path / "ca.pem"
    ca.write_bytes(b"PEM")
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))
    options = transport_options("https://api.test")
    assert options["tls_ca_cert"] == b"PEM"
    assert "tls_include_system_certs" not in options


def test_unreadable_ssl_cert_file_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, no_env: None
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", "/nonexistent/ca.pem")
    with pytest.raises(ConfigurationError, match="SSL_CERT_FILE"):
        Client(token=TOKEN)


def test_opentelemetry_only_when_an_application_configured_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from opentelemetry import trace

    assert _otel_configured() is False
    monkeypatch.setattr(trace, "get_tracer_provider", object)
    assert _otel_configured() is True
