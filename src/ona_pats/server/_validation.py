"""The request rules of the official schema (buf.validate), enforced by the embedded server.

See ``gitpod-v1-wire.md``, "Validation rules in the official schema". A violation is
``invalid_argument`` with a message that starts with the field's path, as protovalidate names
it (``filter.user_ids[3]: value must be a valid UUID``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from connectrpc.code import Code
from connectrpc.errors import ConnectError
from google.protobuf.duration_pb2 import Duration

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
MAX_FILTER_USER_IDS = 25
MAX_VALID_FOR_S = 90 * 24 * 3600
#: The longest description this server stores, in characters (at most 4 bytes each in UTF-8).
#: With at most MAX_PAGE_SIZE tokens a page, a page stays far below the client's 16 MiB read
#: limit whatever the descriptions hold.
MAX_DESCRIPTION_CHARS = 1024
#: What an unset or zero ``valid_for`` means.
DEFAULT_VALID_FOR_S = 30 * 24 * 3600
_UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_NS = 10**9
# URL query parameters ListPersonalAccessTokens honours besides ``pagination`` in the body.
QUERY_TOKEN = "token"  # noqa: S105 (a parameter name)
QUERY_PAGE_SIZE = "pageSize"


def invalid(field: str, reason: str) -> ConnectError:
    """The ``invalid_argument`` error for ``field``."""
    return ConnectError(Code.INVALID_ARGUMENT, f"{field}: {reason}")


def require_uuid(field: str, value: str) -> str:
    """``value`` if it is a UUID (any version, either case), else ``invalid_argument``."""
    if not _UUID.fullmatch(value):
        raise invalid(field, "value must be a valid UUID")
    return value


def valid_for_ns(duration: Duration, present: bool) -> int:
    """The lifetime asked for, in nanoseconds; unset or zero means the default."""
    if not present:
        return DEFAULT_VALID_FOR_S * _NS
    seconds, nanos = duration.seconds, duration.nanos
    if abs(nanos) >= _NS or (seconds > 0 > nanos) or (seconds < 0 < nanos):
        raise invalid("valid_for", "value must be a valid duration")
    total = seconds * _NS + nanos
    if not 0 <= total <= MAX_VALID_FOR_S * _NS:
        raise invalid("valid_for", f"value must be between 0s and {MAX_VALID_FOR_S}s")
    return total or DEFAULT_VALID_FOR_S * _NS


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


def filter_user_ids(user_ids: Sequence[str]) -> list[str]:
    """``filter.user_ids``, checked: at most 25 items, each a UUID."""
    if len(user_ids) > MAX_FILTER_USER_IDS:
        raise invalid("filter.user_ids", f"value must contain at most {MAX_FILTER_USER_IDS} items")
    return [require_uuid(f"filter.user_ids[{i}]", uid) for i, uid in enumerate(user_ids)]


def page_size(body: int, query: Mapping[str, Sequence[str]]) -> int:
    """The page size from ``pagination.page_size`` or the ``pageSize`` query parameter."""
    field, value = "pagination.page_size", body
    raw = query.get(QUERY_PAGE_SIZE, [""])[-1].strip()
    if raw:
        field, value = QUERY_PAGE_SIZE, _query_int(raw)
        if body and body != value:
            raise invalid(QUERY_PAGE_SIZE, "conflicts with pagination.page_size in the body")
    if not 0 <= value <= MAX_PAGE_SIZE:
        raise invalid(field, f"value must be between 0 and {MAX_PAGE_SIZE}")
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
        raise invalid(QUERY_PAGE_SIZE, f"value must be an integer between 0 and {MAX_PAGE_SIZE}")
    return int(text)
