"""Request validation of the embedded server: the schema's buf.validate rules, then its own.

Every request is checked against the rules in ``proto/`` by :mod:`ona_pats._rules`, the same
checks the client makes before sending. A violation is ``invalid_argument`` with a message that
starts with the field's path, as protovalidate names it (``filter.user_ids[3]: must be a valid
UUID``). The server's own policies (the default page size and lifetime, the description cap, the
``pageSize`` query parameter) are here too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from connectrpc.code import Code
from connectrpc.errors import ConnectError
from google.protobuf.duration_pb2 import Duration
from google.protobuf.message import Message

from ona_pats import _rules
from ona_pats._exceptions import ValidationError
from ona_pats._requests import MAX_PAGE_SIZE
from ona_pats._schema import pagination_pb2

DEFAULT_PAGE_SIZE = 25
#: The longest description this server stores, in characters (at most 4 bytes each in UTF-8).
#: With at most MAX_PAGE_SIZE tokens a page, a page stays far below the client's 16 MiB read
#: limit whatever the descriptions hold.
MAX_DESCRIPTION_CHARS = 1024
#: What an unset or zero ``valid_for`` means.
DEFAULT_VALID_FOR_S = 30 * 24 * 3600
_NS = 10**9
# URL query parameters ListPersonalAccessTokens honours besides ``pagination`` in the body.
QUERY_TOKEN = "token"  # noqa: S105 (a parameter name)
QUERY_PAGE_SIZE = "pageSize"


def invalid(field: str, reason: str) -> ConnectError:
    """The ``invalid_argument`` error for ``field``."""
    return ConnectError(Code.INVALID_ARGUMENT, f"{field}: {reason}")


def check(request: Message) -> None:
    """``invalid_argument`` for the first schema rule ``request`` breaks."""
    try:
        _rules.check(request)
    except ValidationError as exc:
        raise ConnectError(Code.INVALID_ARGUMENT, str(exc)) from None


def valid_for_ns(duration: Duration, present: bool) -> int:
    """The lifetime asked for (the rules have checked its range), in nanoseconds; unset or zero
    means the default."""
    if not present:
        return DEFAULT_VALID_FOR_S * _NS
    seconds, nanos = duration.seconds, duration.nanos
    if abs(nanos) >= _NS or (seconds > 0 > nanos) or (seconds < 0 < nanos):
        raise invalid("valid_for", "value must be a valid duration")
    return seconds * _NS + nanos or DEFAULT_VALID_FOR_S * _NS


def description(value: str) -> str:
    """The description of a new token, within :data:`MAX_DESCRIPTION_CHARS`.

    Raises:
        ConnectError: ``invalid_argument`` for a longer one.
    """
    if len(value) > MAX_DESCRIPTION_CHARS:
        raise invalid(
            "description", f"value must be at most {MAX_DESCRIPTION_CHARS} characters long"
        )
    return value


def page_size(body: int, query: Mapping[str, Sequence[str]]) -> int:
    """The page size from ``pagination.page_size`` or the ``pageSize`` query parameter."""
    field, value = "pagination.page_size", body
    raw = query.get(QUERY_PAGE_SIZE, [""])[-1].strip()
    if raw:
        field, value = QUERY_PAGE_SIZE, _query_int(raw)
        if body and body != value:
            raise invalid(QUERY_PAGE_SIZE, "conflicts with pagination.page_size in the body")
    try:
        _rules.check(pagination_pb2.PaginationRequest(page_size=value))
    except ValidationError as exc:
        raise invalid(field, exc.reason) from None
    return value or DEFAULT_PAGE_SIZE


def page_token(body: str, query: Mapping[str, Sequence[str]]) -> tuple[str, str]:
    """The continuation token and the name of the field it came from."""
    if QUERY_TOKEN not in query:
        return body, "pagination.token"
    value = query[QUERY_TOKEN][-1]
    if body and value and body != value:
        raise invalid(QUERY_TOKEN, "conflicts with pagination.token in the body")
    return (value, QUERY_TOKEN) if value else (body, "pagination.token")


def _query_int(text: str) -> int:
    if not re.fullmatch(r"[+-]?[0-9]{1,9}", text):
        raise invalid(QUERY_PAGE_SIZE, f"must be an integer from 0 to {MAX_PAGE_SIZE}")
    return int(text)
