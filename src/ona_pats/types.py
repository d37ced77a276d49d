"""The gitpod.v1 messages and enums, generated from ``proto/`` (google-protobuf classes).

```python
from ona_pats.types import PersonalAccessToken, Principal, Subject
```
"""

from __future__ import annotations

from ._schema import identity_pb2, pagination_pb2, user_pb2

PaginationRequest = pagination_pb2.PaginationRequest
PaginationResponse = pagination_pb2.PaginationResponse
Principal = identity_pb2.Principal
Subject = identity_pb2.Subject
PersonalAccessToken = user_pb2.PersonalAccessToken
CreatePersonalAccessTokenRequest = user_pb2.CreatePersonalAccessTokenRequest
CreatePersonalAccessTokenResponse = user_pb2.CreatePersonalAccessTokenResponse
GetPersonalAccessTokenRequest = user_pb2.GetPersonalAccessTokenRequest
GetPersonalAccessTokenResponse = user_pb2.GetPersonalAccessTokenResponse
ListPersonalAccessTokensRequest = user_pb2.ListPersonalAccessTokensRequest
ListPersonalAccessTokensResponse = user_pb2.ListPersonalAccessTokensResponse
DeletePersonalAccessTokenRequest = user_pb2.DeletePersonalAccessTokenRequest
DeletePersonalAccessTokenResponse = user_pb2.DeletePersonalAccessTokenResponse

#: The file descriptors of the schema, for reflection (``DESCRIPTOR.message_types_by_name``...).
USER_FILE = user_pb2.DESCRIPTOR
IDENTITY_FILE = identity_pb2.DESCRIPTOR
PAGINATION_FILE = pagination_pb2.DESCRIPTOR

__all__ = [
    "IDENTITY_FILE",
    "PAGINATION_FILE",
    "USER_FILE",
    "CreatePersonalAccessTokenRequest",
    "CreatePersonalAccessTokenResponse",
    "DeletePersonalAccessTokenRequest",
    "DeletePersonalAccessTokenResponse",
    "GetPersonalAccessTokenRequest",
    "GetPersonalAccessTokenResponse",
    "ListPersonalAccessTokensRequest",
    "ListPersonalAccessTokensResponse",
    "PaginationRequest",
    "PaginationResponse",
    "PersonalAccessToken",
    "Principal",
    "Subject",
]
