"""Arguments to request messages, checked before sending.

Python types are checked here (a ``str``, a ``timedelta``, a ``{"user_ids": [...]}`` mapping);
everything the schema says about values (UUID shapes, how many user ids, page sizes, lifetimes)
is checked on the built message by :mod:`ona_pats._rules`, from the rules in ``proto/``.
Either way a failure is a :class:`ValidationError` naming the field; nothing is sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import cast

from . import _rules
from ._aliases import PatListFilter
from ._exceptions import ValidationError
from ._schema import pagination_pb2, user_pb2

_INT32 = range(-(2**31), 2**31)
#: The largest page (the schema's rule on ``PaginationRequest.page_size``).
MAX_PAGE_SIZE = int(
    str(_rules.rule(pagination_pb2.PaginationRequest.DESCRIPTOR, "page_size", "int32", "lte"))
)
#: The longest lifetime a token may be created with (the schema's rule on ``valid_for``).
MAX_VALID_FOR = _rules.duration_rule(
    user_pb2.CreatePersonalAccessTokenRequest.DESCRIPTOR, "valid_for", "lte"
)


def get(personal_access_token_id: str) -> user_pb2.GetPersonalAccessTokenRequest:
    """The Get request for a token id."""
    pat_id = check_str("personal_access_token_id", personal_access_token_id)
    return _checked(user_pb2.GetPersonalAccessTokenRequest(personal_access_token_id=pat_id))


def delete(personal_access_token_id: str) -> user_pb2.DeletePersonalAccessTokenRequest:
    """The Delete request for a token id."""
    pat_id = check_str("personal_access_token_id", personal_access_token_id)
    return _checked(user_pb2.DeletePersonalAccessTokenRequest(personal_access_token_id=pat_id))


def create(
    user_id: str, description: str, valid_for: timedelta | None, read_only: bool
) -> user_pb2.CreatePersonalAccessTokenRequest:
    """The Create request; an unset ``valid_for`` leaves the lifetime to the server."""
    request = user_pb2.CreatePersonalAccessTokenRequest(
        user_id=check_str("user_id", user_id),
        description=check_str("description", description),
        read_only=bool(read_only),
    )
    lifetime = check_valid_for(valid_for)
    if lifetime is not None:
        request.valid_for.FromTimedelta(lifetime)
    return _checked(request)


def list_template(
    filter: PatListFilter | None, page_size: int | None
) -> user_pb2.ListPersonalAccessTokensRequest:
    """The List request every page of a listing starts from."""
    request = user_pb2.ListPersonalAccessTokensRequest()
    if page_size is not None:
        if isinstance(page_size, bool) or not isinstance(page_size, int):
            raise ValidationError("pagination.page_size", f"must be an int, got {page_size!r}")
        # Past int32 the field cannot hold it; -1 breaks the same range rule, with its message.
        request.pagination.page_size = page_size if page_size in _INT32 else -1
    user_ids = _filter_user_ids(filter)
    if user_ids:
        request.filter.user_ids.extend(user_ids)
    return _checked(request)


def at_token(
    template: user_pb2.ListPersonalAccessTokensRequest, token: str
) -> user_pb2.ListPersonalAccessTokensRequest:
    """``template`` for the page at ``token`` (the first page for ``""``)."""
    if not token:
        return template
    request = user_pb2.ListPersonalAccessTokensRequest()
    request.CopyFrom(template)
    request.pagination.token = token
    return request


def _checked(request: _rules.M) -> _rules.M:
    _rules.check(request)
    return request


def _filter_user_ids(value: object) -> list[str]:
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
    return [check_str(f"filter.user_ids[{i}]", uid) for i, uid in enumerate(ids)]


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
    """Return ``value`` if it is ``None`` or a ``timedelta`` (its range is the schema's rule).

    Raises:
        ValidationError: it is not.
    """
    if value is not None and not isinstance(value, timedelta):
        raise ValidationError("valid_for", f"must be a datetime.timedelta, got {value!r}")
    return value


def check_str(field: str, value: object) -> str:
    """Return ``value`` if it is a ``str``.

    Raises:
        ValidationError: it is not.
    """
    if not isinstance(value, str):
        raise ValidationError(field, f"must be a str, got {value!r}")
    return value
