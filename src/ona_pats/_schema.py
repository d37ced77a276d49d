"""Loads the generated gitpod.v1 modules, with a clear error when the schema collides, and
names each RPC's messages.

protobuf's default descriptor pool is global to the process. The official ``gitpod-sdk``
registers its own, different ``gitpod/v1/*.proto`` files under the same names; whichever
package is imported second would fail with protobuf's opaque ``TypeError``. This module turns
that into an ``ImportError`` that says what happened and what to do.
"""

from __future__ import annotations

_COLLISION = (
    "ona_pats cannot load its gitpod.v1 schema: another package in this process has already "
    "registered a different 'gitpod/v1/*.proto' in protobuf's global descriptor pool (most "
    "likely the official 'gitpod-sdk', which ships a top-level 'gitpod' package). Two schemas "
    "for the same proto files cannot live in one Python process; use ona_pats and that package "
    "from separate virtual environments or processes."
)

try:
    from ._gen.gitpod.v1 import (
        identity_pb2,
        pagination_pb2,
        user_connect,
        user_pb2,
        validate_rules,
    )
except TypeError as exc:  # protobuf: "Couldn't build proto file into descriptor pool"
    raise ImportError(f"{_COLLISION} (protobuf said: {exc})") from exc

#: The request and response of each RPC, by short names (for annotations).
CreateReq = user_pb2.CreatePersonalAccessTokenRequest
CreateRes = user_pb2.CreatePersonalAccessTokenResponse
GetReq = user_pb2.GetPersonalAccessTokenRequest
GetRes = user_pb2.GetPersonalAccessTokenResponse
ListReq = user_pb2.ListPersonalAccessTokensRequest
ListRes = user_pb2.ListPersonalAccessTokensResponse
DeleteReq = user_pb2.DeletePersonalAccessTokenRequest
DeleteRes = user_pb2.DeletePersonalAccessTokenResponse

__all__ = [
    "CreateReq",
    "CreateRes",
    "DeleteReq",
    "DeleteRes",
    "GetReq",
    "GetRes",
    "ListReq",
    "ListRes",
    "identity_pb2",
    "pagination_pb2",
    "user_connect",
    "user_pb2",
    "validate_rules",
]
