"""The generated connectrpc clients, their codecs and each RPC's facts from the schema.

The only module that touches ``UserServiceClient`` / ``UserServiceClientSync``. Per-method
objects (``MethodInfo``) are built once, from the schema's descriptors.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pyqwest
from connectrpc.codec import Codec
from connectrpc.compat import google_protobuf_binary_codec
from connectrpc.interceptor import Interceptor, InterceptorSync
from connectrpc.method import IdempotencyLevel, MethodInfo, StreamType
from google.protobuf import descriptor_pb2

from ._aliases import WireProtocol
from ._exceptions import ConfigurationError
from ._json import ProtoJSONCodec
from ._schema import user_connect, user_pb2

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


def codec_for(protocol: WireProtocol) -> Codec:
    """The connectrpc codec of a wire protocol.

    Raises:
        ConfigurationError: an unknown protocol name.
    """
    if protocol == "proto":
        return google_protobuf_binary_codec()
    if protocol == "json":
        return ProtoJSONCodec()
    raise ConfigurationError(f"protocol must be 'proto' or 'json', got {protocol!r}")


def sync_stub(
    base_url: str,
    *,
    codec: Codec,
    http_client: pyqwest.SyncClient,
    interceptors: Iterable[InterceptorSync],
) -> user_connect.UserServiceClientSync:
    """The generated sync client, with requests sent uncompressed (they are small).

    The body limit is the transport's (``_transport.SyncTransport``), not connectrpc's.
    """
    return user_connect.UserServiceClientSync(
        base_url,
        codec=codec,
        send_compression=None,
        interceptors=interceptors,
        http_client=http_client,
    )


def async_stub(
    base_url: str,
    *,
    codec: Codec,
    http_client: pyqwest.Client,
    interceptors: Iterable[Interceptor],
) -> user_connect.UserServiceClient:
    """The generated async client, with requests sent uncompressed (they are small)."""
    return user_connect.UserServiceClient(
        base_url,
        codec=codec,
        send_compression=None,
        interceptors=interceptors,
        http_client=http_client,
    )
