"""The error cases both interop directions check: the same calls, the same codes and bodies.

A Node client against the Python server and the Python client against the Node server must
each see these Connect errors, with a message that names what was wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from google.protobuf.message import Message

from ona_pats.types import (
    DeletePersonalAccessTokenRequest,
    GetPersonalAccessTokenRequest,
    ListPersonalAccessTokensRequest,
    PaginationRequest,
)

MISSING_ID = "00000000-0000-4000-8000-00000000dead"


@dataclass(frozen=True)
class Actors:
    """Who calls: the admin, a read-only token of another user, and that token's id."""

    admin_token: str
    admin_user_id: str
    read_only_token: str
    read_only_pat_id: str


@dataclass(frozen=True)
class ErrorCase:
    """One failing call: the RPC, its request, the token sent, and what must come back."""

    method: str
    request: Callable[[Actors], Message]
    token: Callable[[Actors], str]
    code: str
    message_names: str


def _admin(actors: Actors) -> str:
    return actors.admin_token


def _read_only(actors: Actors) -> str:
    return actors.read_only_token


ERROR_CASES = [
    pytest.param(
        ErrorCase(
            "GetPersonalAccessToken",
            lambda a: GetPersonalAccessTokenRequest(personal_access_token_id=MISSING_ID),
            _admin,
            "not_found",
            MISSING_ID,
        ),
        id="get-unknown-id-not-found",
    ),
    pytest.param(
        ErrorCase(
            "DeletePersonalAccessToken",
            lambda a: DeletePersonalAccessTokenRequest(personal_access_token_id=MISSING_ID),
            _admin,
            "not_found",
            MISSING_ID,
        ),
        id="delete-unknown-id-not-found",
    ),
    pytest.param(
        ErrorCase(
            "GetPersonalAccessToken",
            lambda a: GetPersonalAccessTokenRequest(personal_access_token_id="not-a-uuid"),
            _admin,
            "invalid_argument",
            "personal_access_token_id",
        ),
        id="get-malformed-id-invalid-argument",
    ),
    pytest.param(
        ErrorCase(
            "ListPersonalAccessTokens",
            lambda a: ListPersonalAccessTokensRequest(pagination=PaginationRequest(page_size=101)),
            _admin,
            "invalid_argument",
            "page_size",
        ),
        id="list-page-size-over-100-invalid-argument",
    ),
    pytest.param(
        ErrorCase(
            "ListPersonalAccessTokens",
            lambda a: ListPersonalAccessTokensRequest(
                pagination=PaginationRequest(token="forged-page-token")
            ),
            _admin,
            "invalid_argument",
            "pagination.token",
        ),
        id="list-forged-page-token-invalid-argument",
    ),
    pytest.param(
        ErrorCase(
            "DeletePersonalAccessToken",
            lambda a: DeletePersonalAccessTokenRequest(personal_access_token_id=a.read_only_pat_id),
            _read_only,
            "permission_denied",
            "read-only",
        ),
        id="read-only-delete-permission-denied",
    ),
    pytest.param(
        ErrorCase(
            "ListPersonalAccessTokens",
            lambda a: ListPersonalAccessTokensRequest(
                filter=ListPersonalAccessTokensRequest.Filter(user_ids=[a.admin_user_id])
            ),
            _read_only,
            "permission_denied",
            "filter.user_ids",
        ),
        id="list-other-user-permission-denied",
    ),
    pytest.param(
        ErrorCase(
            "ListPersonalAccessTokens",
            lambda a: ListPersonalAccessTokensRequest(),
            lambda a: "onapat_not-a-real-token",
            "unauthenticated",
            "token",
        ),
        id="unknown-token-unauthenticated",
    ),
]
