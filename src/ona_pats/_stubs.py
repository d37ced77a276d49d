"""The generated connectrpc clients, their codecs, and each RPC as the wrapper sends it.

The only module that touches ``UserServiceClient`` / ``UserServiceClientSync``. Each RPC is an
:class:`Operation`: the generated stub's own method for it (which holds connectrpc's
``MethodInfo``) and its idempotency level from the schema.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from connectrpc.code import Code
from connectrpc.codec import Codec
from connectrpc.compat import google_protobuf_binary_codec
from connectrpc.errors import ConnectError
from connectrpc.method import IdempotencyLevel
from google.protobuf import descriptor_pb2
from google.protobuf.message import Message

from . import _schema
from ._aliases import WireProtocol
from ._auth import RequestHeaders
from ._exceptions import ConfigurationError
from ._json import ProtoJSONCodec
from ._schema import user_connect, user_pb2

Req = TypeVar("Req", bound=Message)
Res = TypeVar("Res", bound=Message)
Headers = Mapping[str, str]
#: The generated clients (the generated names run the other way from httpx's).
SyncStub = user_connect.UserServiceClientSync
AsyncStub = user_connect.UserServiceClient
_SERVICE = user_pb2.DESCRIPTOR.services_by_name["UserService"]
_LEVELS = {
    descriptor_pb2.MethodOptions.IDEMPOTENCY_UNKNOWN: IdempotencyLevel.UNKNOWN,
    descriptor_pb2.MethodOptions.NO_SIDE_EFFECTS: IdempotencyLevel.NO_SIDE_EFFECTS,
    descriptor_pb2.MethodOptions.IDEMPOTENT: IdempotencyLevel.IDEMPOTENT,
}


@dataclass(frozen=True, slots=True)
class Operation(Generic[Req, Res]):
    """One RPC: the generated stub methods that send it, and its idempotency level.

    ``sync``/``async_`` take (stub, request, headers, timeout_ms, use_get); ``use_get`` is
    passed on only to the methods that have it (the ``NO_SIDE_EFFECTS`` ones).
    """

    name: str
    sync: Callable[[SyncStub, Req, Headers, int | None, bool], Res]
    async_: Callable[[AsyncStub, Req, Headers, int | None, bool], Awaitable[Res]]
    #: The idempotency level the schema gives the method.
    level: IdempotencyLevel = field(init=False)

    def __post_init__(self) -> None:
        options = _SERVICE.methods_by_name[self.name].GetOptions()
        object.__setattr__(self, "level", _LEVELS[options.idempotency_level])


# The generated methods, sync then async: (stub, request, headers, timeout_ms, use_get).
CREATE: Operation[_schema.CreateReq, _schema.CreateRes] = Operation(
    "CreatePersonalAccessToken",
    lambda s, r, h, t, _: s.create_personal_access_token(r, headers=h, timeout_ms=t),
    lambda s, r, h, t, _: s.create_personal_access_token(r, headers=h, timeout_ms=t),
)
GET: Operation[_schema.GetReq, _schema.GetRes] = Operation(
    "GetPersonalAccessToken",
    lambda s, r, h, t, g: s.get_personal_access_token(r, headers=h, timeout_ms=t, use_get=g),
    lambda s, r, h, t, g: s.get_personal_access_token(r, headers=h, timeout_ms=t, use_get=g),
)
LIST: Operation[_schema.ListReq, _schema.ListRes] = Operation(
    "ListPersonalAccessTokens",
    lambda s, r, h, t, g: s.list_personal_access_tokens(r, headers=h, timeout_ms=t, use_get=g),
    lambda s, r, h, t, g: s.list_personal_access_tokens(r, headers=h, timeout_ms=t, use_get=g),
)
DELETE: Operation[_schema.DeleteReq, _schema.DeleteRes] = Operation(
    "DeletePersonalAccessToken",
    lambda s, r, h, t, _: s.delete_personal_access_token(r, headers=h, timeout_ms=t),
    lambda s, r, h, t, _: s.delete_personal_access_token(r, headers=h, timeout_ms=t),
)


def send(
    op: Operation[Req, Res],
    stub: SyncStub,
    request: Req,
    headers: Headers,
    timeout_ms: int | None,
    use_get: bool,
) -> Res:
    """Send one attempt of ``op`` through the generated sync stub."""
    return op.sync(stub, request, headers, timeout_ms, use_get)


async def asend(
    op: Operation[Req, Res],
    stub: AsyncStub,
    request: Req,
    headers: Headers,
    timeout_ms: int | None,
    use_get: bool,
) -> Res:
    """Send one attempt of ``op`` through the generated async stub.

    connectrpc's async client bounds a call with ``asyncio.wait_for`` (a Task and a timer per
    call); ``asyncio.timeout`` bounds the same await at a fraction of the cost. The header is
    what connectrpc sends for ``timeout_ms``: https://connectrpc.com/docs/protocol/#unary-request
    """
    if timeout_ms is None or timeout_ms <= 0:  # connectrpc fails a spent budget itself
        return await op.async_(stub, request, headers, timeout_ms, use_get)
    scope = asyncio.timeout(timeout_ms / 1000)
    try:
        async with scope:
            timed = RequestHeaders(headers)
            timed["connect-timeout-ms"] = str(timeout_ms)
            return await op.async_(stub, request, timed, None, use_get)
    except (ConnectError, TimeoutError) as exc:
        if scope.expired():  # connectrpc reports the cancellation as CANCELED
            raise ConnectError(Code.DEADLINE_EXCEEDED, "Request timed out") from exc
        raise


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
