"""Opaque, signed continuation tokens for ListPersonalAccessTokens.

A page token carries the keyset position of the last item sent (``created_at``, ``id``), when it
was issued and a fingerprint of the listing it belongs to (the caller and the user filter),
followed by a truncated HMAC-SHA256 under the database's page key. Anything forged, truncated,
issued for another listing or older than :data:`PAGE_TOKEN_TTL_NS` is rejected, never decoded
into a query.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import struct
import uuid
from collections.abc import Sequence
from typing import NamedTuple

PAGE_TOKEN_TTL_NS = 24 * 3600 * 10**9
_VERSION = 1
_PAYLOAD = struct.Struct(">Bq16sq8s")  # version, created_at ns, id, issued_at ns, scope
_MAC_BYTES = 16
_TOKEN_LENGTH = len(base64.urlsafe_b64encode(bytes(_PAYLOAD.size + _MAC_BYTES)).rstrip(b"="))
_ALPHABET = re.compile(r"[A-Za-z0-9_-]+")
# Allowed clock skew for tokens that claim to be issued slightly in the future.
_SKEW_NS = 60 * 10**9


class PageTokenError(ValueError):
    """A page token that is not one this server issued for this listing, or is too old."""


class Position(NamedTuple):
    """Where a listing stopped: the sort key of the last item already sent."""

    created_at: int
    id: str


def scope(caller_user_id: str, user_ids: Sequence[str] | None) -> bytes:
    """The fingerprint of a listing: who asks, and which users' tokens (``None``: all)."""
    listed = "*" if user_ids is None else ",".join(sorted(set(user_ids)))
    return hashlib.sha256(f"{caller_user_id}\n{listed}".encode()).digest()[:8]


def encode(key: bytes, position: Position, listing: bytes, now: int) -> str:
    """Sign ``position`` for ``listing`` into an opaque URL-safe token."""
    payload = _PAYLOAD.pack(
        _VERSION, position.created_at, uuid.UUID(position.id).bytes, now, listing
    )
    mac = hmac.new(key, payload, hashlib.sha256).digest()[:_MAC_BYTES]
    return base64.urlsafe_b64encode(payload + mac).rstrip(b"=").decode("ascii")


def decode(key: bytes, token: str, listing: bytes, now: int) -> Position:
    """Check and open a token made by :func:`encode`.

    Raises:
        PageTokenError: the token is malformed, forged, for another listing, or stale.
    """
    raw = _unpack_base64(token)
    payload, mac = raw[: _PAYLOAD.size], raw[_PAYLOAD.size :]
    expected = hmac.new(key, payload, hashlib.sha256).digest()[:_MAC_BYTES]
    if not hmac.compare_digest(mac, expected):
        raise PageTokenError("not a page token issued by this server")
    version, created_at, raw_id, issued_at, token_listing = _PAYLOAD.unpack(payload)
    if version != _VERSION or not hmac.compare_digest(token_listing, listing):
        raise PageTokenError("page token belongs to a different listing")
    if not now - PAGE_TOKEN_TTL_NS <= issued_at <= now + _SKEW_NS:
        raise PageTokenError("page token has expired; start the listing again")
    return Position(created_at, str(uuid.UUID(bytes=raw_id)))


def _unpack_base64(token: str) -> bytes:
    if len(token) != _TOKEN_LENGTH or not _ALPHABET.fullmatch(token):
        raise PageTokenError("malformed page token")
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
