"""Builds the generated connectrpc clients, their codecs and HTTP clients.

The only module that touches ``UserServiceClient`` / ``UserServiceClientSync``. Per-method
objects (``MethodInfo``) are built once, from the schema's descriptors.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyqwest
from connectrpc.codec import Codec
from connectrpc.compat import google_protobuf_binary_codec, google_protobuf_json_codec
from connectrpc.interceptor import Interceptor, InterceptorSync
from connectrpc.method import IdempotencyLevel, MethodInfo, StreamType
from google.protobuf import descriptor_pb2

from ._config import (
    DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_IDLE_CONNECTIONS,
    DEFAULT_POOL_IDLE_TIMEOUT,
)
from ._exceptions import ConfigurationError, ResponseTooLarge
from ._schema import user_connect, user_pb2
from ._types import WireProtocol

_SERVICE = user_pb2.DESCRIPTOR.services_by_name["UserService"]
_LEVELS = {
    descriptor_pb2.MethodOptions.IDEMPOTENCY_UNKNOWN: IdempotencyLevel.UNKNOWN,
    descriptor_pb2.MethodOptions.NO_SIDE_EFFECTS: IdempotencyLevel.NO_SIDE_EFFECTS,
    descriptor_pb2.MethodOptions.IDEMPOTENT: IdempotencyLevel.IDEMPOTENT,
}


@dataclass(frozen=True, slots=True)
class Operation:
    """One RPC as the wrapper calls it: its ``MethodInfo`` and derived facts."""

    info: MethodInfo[Any, Any]
    path: str
    level: IdempotencyLevel


def operation(name: str) -> Operation:
    """The :class:`Operation` of a ``UserService`` method, read from its descriptor."""
    method = _SERVICE.methods_by_name[name]
    level = _LEVELS[method.GetOptions().idempotency_level]
    info: MethodInfo[Any, Any] = MethodInfo(
        name=method.name,
        service_name=_SERVICE.full_name,
        input=getattr(user_pb2, method.input_type.name),
        output=getattr(user_pb2, method.output_type.name),
        idempotency_level=level,
        stream_type=StreamType.UNARY,
    )
    return Operation(info, f"/{_SERVICE.full_name}/{method.name}", level)


CREATE = operation("CreatePersonalAccessToken")
GET = operation("GetPersonalAccessToken")
LIST = operation("ListPersonalAccessTokens")
DELETE = operation("DeletePersonalAccessToken")


def json_codec() -> Codec:
    """The codec of ``protocol="json"``: ``ona_pats._json.ProtoJSONCodec`` when present.

    Falls back to connectrpc's google-protobuf JSON codec.
    """
    try:
        module = importlib.import_module("ona_pats._json")
    except ImportError:
        return google_protobuf_json_codec()
    codec_class = getattr(module, "ProtoJSONCodec", None)
    if codec_class is None:
        return google_protobuf_json_codec()
    codec: Codec = codec_class()
    return codec


def codec_for(protocol: WireProtocol) -> Codec:
    """The connectrpc codec of a wire protocol.

    Raises:
        ConfigurationError: an unknown protocol name.
    """
    if protocol == "proto":
        return google_protobuf_binary_codec()
    if protocol == "json":
        return json_codec()
    raise ConfigurationError(f"protocol must be 'proto' or 'json', got {protocol!r}")


def _otel_configured() -> bool:
    # pyqwest instruments every request when OpenTelemetry is enabled, which costs CPU even
    # with no SDK installed; turn it on only when an application configured a provider.
    try:
        from opentelemetry import metrics, trace
    except ImportError:  # pragma: no cover - pyqwest depends on opentelemetry-api
        return False
    tracer = trace.get_tracer_provider()
    meter = metrics.get_meter_provider()
    no_tracer = isinstance(tracer, trace.ProxyTracerProvider | trace.NoOpTracerProvider)
    no_meter = isinstance(meter, metrics.NoOpMeterProvider) or type(meter).__name__.startswith(
        "_Proxy"
    )
    return not (no_tracer and no_meter)


def _transport_options(base_url: str) -> dict[str, Any]:
    # Proxies come from HTTPS_PROXY/HTTP_PROXY/NO_PROXY, which reqwest reads itself.
    # Redirects are followed by the client, within one origin, so never by the transport.
    options: dict[str, Any] = {
        "follow_redirects": False,
        "pool_max_idle_per_host": DEFAULT_MAX_IDLE_CONNECTIONS,
        "max_connections_per_address": DEFAULT_MAX_CONNECTIONS,
        "pool_idle_timeout": DEFAULT_POOL_IDLE_TIMEOUT,
        "enable_otel": _otel_configured(),
    }
    if base_url.startswith("http://"):
        return options  # no TLS: loading the system CA store would be wasted work
    # As with OpenSSL, SSL_CERT_FILE replaces the system CA store.
    cert_file = os.environ.get("SSL_CERT_FILE")
    if not cert_file:
        options["tls_include_system_certs"] = True
        return options
    try:
        options["tls_ca_cert"] = Path(cert_file).read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"SSL_CERT_FILE={cert_file!r} cannot be read: {exc}") from exc
    return options


def default_sync_transport(base_url: str) -> pyqwest.SyncHTTPTransport:
    """A pyqwest transport for ``base_url``: the system CA store, or the CAs in
    ``SSL_CERT_FILE`` when set; proxy variables honoured; no redirects followed.
    """
    return pyqwest.SyncHTTPTransport(**_transport_options(base_url))


def default_async_transport(base_url: str) -> pyqwest.HTTPTransport:
    """The async twin of :func:`default_sync_transport`."""
    return pyqwest.HTTPTransport(**_transport_options(base_url))


def _declared_length(headers: pyqwest.Headers) -> int | None:
    # reqwest drops Content-Length when it decompresses a body, so a remaining one is exact.
    value = headers.get("content-length")
    return int(value) if value is not None and value.isdigit() else None


class LimitedSyncTransport:
    """A pyqwest ``SyncTransport`` that stops reading a response body past ``limit`` bytes.

    A body that declares a small enough ``Content-Length`` passes through untouched (pyqwest
    reads it natively); a bigger one fails before it is read; a chunked or decompressed one is
    read here, chunk by chunk up to the limit, into one ``bytes`` that pyqwest takes as is.

    Args:
        inner: the transport that sends.
        limit: the largest body read, in bytes.
    """

    __slots__ = ("_inner", "_limit")

    def __init__(self, inner: pyqwest.SyncTransport, limit: int) -> None:
        self._inner = inner
        self._limit = limit

    def execute_sync(self, request: pyqwest.SyncRequest) -> pyqwest.SyncResponse:
        """Send ``request``; the response's body is bounded by the limit.

        Raises:
            ResponseTooLarge: the body is over the limit.
        """
        response = self._inner.execute_sync(request)
        length = _declared_length(response.headers)
        if length is not None and length <= self._limit:
            return response
        if length is not None:
            response.close()
            raise ResponseTooLarge(self._limit, response.status)
        # Read here rather than through a generator: pyqwest takes a bytes body without
        # iterating or copying it again (a Python iterator costs a copy and a frame per chunk).
        return pyqwest.SyncResponse(
            status=response.status,
            headers=response.headers,
            content=self._read(response),
        )

    def _read(self, response: pyqwest.SyncResponse) -> bytes:
        chunks: list[bytes | memoryview | bytearray] = []
        read = 0
        try:
            for chunk in response.content:
                read += len(chunk)
                if read > self._limit:
                    raise ResponseTooLarge(self._limit, response.status)
                chunks.append(chunk)
        finally:
            response.close()
        return b"".join(chunks)


def sync_stub(
    base_url: str,
    *,
    codec: Codec,
    http_client: pyqwest.SyncClient,
    interceptors: Iterable[InterceptorSync],
    read_max_bytes: int | None,
) -> user_connect.UserServiceClientSync:
    """The generated sync client, with requests sent uncompressed (they are small)."""
    return user_connect.UserServiceClientSync(
        base_url,
        codec=codec,
        send_compression=None,
        read_max_bytes=read_max_bytes,
        interceptors=interceptors,
        http_client=http_client,
    )


def async_stub(
    base_url: str,
    *,
    codec: Codec,
    http_client: pyqwest.Client,
    interceptors: Iterable[Interceptor],
    read_max_bytes: int | None,
) -> user_connect.UserServiceClient:
    """The generated async client, with requests sent uncompressed (they are small)."""
    return user_connect.UserServiceClient(
        base_url,
        codec=codec,
        send_compression=None,
        read_max_bytes=read_max_bytes,
        interceptors=interceptors,
        http_client=http_client,
    )
