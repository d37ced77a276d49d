"""Checks made before sending, from the production schema's buf.validate rules.

A failed check raises :class:`ValidationError` naming the field; nothing is sent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import cast

from ._exceptions import ValidationError

# buf.validate's `string.uuid`: 8-4-4-4-12 hex digits, any case.
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
MAX_PAGE_SIZE = 100
MAX_USER_IDS = 25
MAX_VALID_FOR = timedelta(days=90)


def check_uuid(field: str, value: object) -> str:
    """Return ``value`` if it is a UUID string.

    Raises:
        ValidationError: it is not.
    """
    if not isinstance(value, str) or _UUID.fullmatch(value) is None:
        raise ValidationError(field, f"must be a UUID, got {value!r}")
    return value


def check_page_size(value: object) -> int:
    """Return ``value`` if it is a page size the server accepts (0..100; 0 means the default, 25).

    Raises:
        ValidationError: it is not an int in 0..100.
    """
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_PAGE_SIZE:
        raise ValidationError("pagination.page_size", f"must be 0..{MAX_PAGE_SIZE}, got {value!r}")
    return value


def check_filter(value: object) -> list[str]:
    """Return the user ids of a ``filter={"user_ids": [...]}`` argument.

    Raises:
        ValidationError: unknown keys, more than 25 ids, or an id that is not a UUID.
    """
    if value is None:
        return []
    if not isinstance(value, Mapping):
        raise ValidationError(
            "filter", f"must be a mapping like {{'user_ids': [...]}}, got {value!r}"
        )
    mapping = cast("Mapping[str, object]", value)
    unknown = set(mapping) - {"user_ids"}
    if unknown:
        raise ValidationError("filter", f"unknown keys {sorted(unknown)!r}")
    ids = cast("Sequence[object]", mapping.get("user_ids") or ())
    if isinstance(ids, str) or not isinstance(ids, Sequence):
        raise ValidationError("filter.user_ids", f"must be a list of UUIDs, got {ids!r}")
    if len(ids) > MAX_USER_IDS:
        raise ValidationError("filter.user_ids", f"at most {MAX_USER_IDS} ids, got {len(ids)}")
    return [check_uuid(f"filter.user_ids[{i}]", uid) for i, uid in enumerate(ids)]


def check_limit(value: object) -> int | None:
    """Return ``value`` if it is ``None`` or a non-negative item limit.

    Raises:
        ValidationError: it is not.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError("limit", f"must be a non-negative int, got {value!r}")
    return value


def check_valid_for(value: object) -> timedelta | None:
    """Return ``value`` if it is ``None`` or a ``timedelta`` in 0..90 days.

    Raises:
        ValidationError: it is not.
    """
    if value is None:
        return None
    if not isinstance(value, timedelta):
        raise ValidationError("valid_for", f"must be a datetime.timedelta, got {value!r}")
    if not timedelta(0) <= value <= MAX_VALID_FOR:
        raise ValidationError("valid_for", f"must be between 0 and 90 days, got {value}")
    return value


def check_str(field: str, value: object) -> str:
    """Return ``value`` if it is a ``str``.

    Raises:
        ValidationError: it is not.
    """
    if not isinstance(value, str):
        raise ValidationError(field, f"must be a str, got {value!r}")
    return value
