"""The gitpod.v1 messages and enums, generated from ``proto/`` (google-protobuf classes).

```python
from ona_pats.types import PersonalAccessToken, Principal, Subject
```
"""

from __future__ import annotations

from ._gen.gitpod.v1.identity_pb2 import Principal, Subject
from ._gen.gitpod.v1.pagination_pb2 import PaginationRequest, PaginationResponse
from ._gen.gitpod.v1.user_pb2 import (
    CreatePersonalAccessTokenRequest,
    CreatePersonalAccessTokenResponse,
    DeletePersonalAccessTokenRequest,
    DeletePersonalAccessTokenResponse,
    GetPersonalAccessTokenRequest,
    GetPersonalAccessTokenResponse,
    ListPersonalAccessTokensRequest,
    ListPersonalAccessTokensResponse,
    PersonalAccessToken,
)
from ._schema import identity_pb2, pagination_pb2, user_pb2

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
