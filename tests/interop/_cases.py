"""The error cases both interop directions check: the same calls, the same codes and bodies.

A Node client against the Python server and the Python client against the Node server must
each see these Connect errors, with a message that names what was wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from google.protobuf.message import Message

from ona_pats import Pats
from ona_pats.types import (
    DeletePersonalAccessTokenRequest,
    GetPersonalAccessTokenRequest,
    ListPersonalAccessTokensRequest,
    PaginationRequest,
)

MISSING_ID = "00000000-0000-4000-8000-00000000dead"
FORGED = "forged-page-token"
Filter = ListPersonalAccessTokensRequest.Filter


@dataclass(frozen=True)
class Actors:
    """Who calls: the admin, a read-only token of another user, and that token's id."""

    admin_token: str
    admin_user_id: str
    read_only_token: str
    read_only_pat_id: str


@dataclass(frozen=True)
class ErrorCase:
    """One failing call: the RPC, its request, the token sent, and what must come back.

    ``client_call`` makes the same call with ``ona_pats.Client``; ``client_refuses`` says the
    client rejects it before sending (``ValidationError``), as it does for malformed ids.
    """

    method: str
    request: Callable[[Actors], Message]
    token: Callable[[Actors], str]
    code: str
    message_names: str
    client_call: Callable[[Pats, Actors], object]
    client_refuses: bool = False

    @property
    def stub_method(self) -> str:
        """The generated Python stub's method name, such as ``get_personal_access_token``."""
        return "".join(f"_{c.lower()}" if c.isupper() else c for c in self.method).lstrip("_")


def _admin(actors: Actors) -> str:
    return actors.admin_token


def _read_only(actors: Actors) -> str:
    return actors.read_only_token


def _unknown(actors: Actors) -> str:
    return "onapat_not-a-real-token"


ERROR_CASES = [
    pytest.param(
        ErrorCase(
            "GetPersonalAccessToken",
            lambda a: GetPersonalAccessTokenRequest(personal_access_token_id=MISSING_ID),
            _admin,
            "not_found",
            MISSING_ID,
            lambda pats, a: pats.get(personal_access_token_id=MISSING_ID),
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
            lambda pats, a: pats.delete(personal_access_token_id=MISSING_ID),
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
            lambda pats, a: pats.get(personal_access_token_id="not-a-uuid"),
            client_refuses=True,
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
            lambda pats, a: list(pats.list(page_size=101)),
            client_refuses=True,
        ),
        id="list-page-size-over-100-invalid-argument",
    ),
    pytest.param(
        ErrorCase(
            "ListPersonalAccessTokens",
            lambda a: ListPersonalAccessTokensRequest(pagination=PaginationRequest(token=FORGED)),
            _admin,
            "invalid_argument",
            "pagination.token",
            lambda pats, a: list(pats.list(token=FORGED)),
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
            lambda pats, a: pats.delete(personal_access_token_id=a.read_only_pat_id),
        ),
        id="read-only-delete-permission-denied",
    ),
    pytest.param(
        ErrorCase(
            "ListPersonalAccessTokens",
            lambda a: ListPersonalAccessTokensRequest(filter=Filter(user_ids=[a.admin_user_id])),
            _read_only,
            "permission_denied",
            "filter.user_ids",
            lambda pats, a: list(pats.list(filter={"user_ids": [a.admin_user_id]})),
        ),
        id="list-other-user-permission-denied",
    ),
    pytest.param(
        ErrorCase(
            "ListPersonalAccessTokens",
            lambda a: ListPersonalAccessTokensRequest(),
            _unknown,
            "unauthenticated",
            "token",
            lambda pats, a: list(pats.list()),
        ),
        id="unknown-token-unauthenticated",
    ),
]
