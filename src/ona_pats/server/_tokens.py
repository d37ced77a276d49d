"""Bearer secrets: how they are made, parsed, hashed and checked.

A secret reads ``onapat_<lookup><key>``: ``lookup`` is 16 hex digits stored in the clear to find
the row, ``key`` 43 URL-safe characters (256 random bits) that are never stored. The database
holds ``HMAC-SHA256(token_key, key)`` under a random per-database ``token_key``, and the check
compares digests with :func:`hmac.compare_digest`, so neither a stolen file nor response timing
gives the secret away.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import NamedTuple

PREFIX = "onapat_"
_LOOKUP_HEX = 16
_KEY_BYTES = 32
_SHAPE = re.compile(rf"{PREFIX}(?P<lookup>[0-9a-f]{{{_LOOKUP_HEX}}})(?P<key>[A-Za-z0-9_-]{{43}})")
# Compared against when no row matches, so a miss costs the same as a wrong key.
_DUMMY_DIGEST = bytes(hashlib.sha256().digest_size)


class Secret(NamedTuple):
    """A bearer secret split into its stored lookup half and its never-stored key half."""

    lookup: str
    key: str

    @property
    def text(self) -> str:
        """The secret as the caller sends it in ``Authorization: Bearer``."""
        return f"{PREFIX}{self.lookup}{self.key}"


def new_secret() -> Secret:
    """Make a fresh random secret."""
    return Secret(secrets.token_hex(_LOOKUP_HEX // 2), secrets.token_urlsafe(_KEY_BYTES))


def parse_secret(text: str) -> Secret | None:
    """Split a presented bearer secret, or return ``None`` when it has the wrong shape."""
    match = _SHAPE.fullmatch(text)
    if match is None:
        return None
    return Secret(match["lookup"], match["key"])


def digest(token_key: bytes, key: str) -> bytes:
    """The keyed hash stored for a secret's key half."""
    return hmac.new(token_key, key.encode("ascii"), hashlib.sha256).digest()


def verify(token_key: bytes, key: str, stored: bytes | None) -> bool:
    """Whether ``key`` hashes to ``stored``, compared in constant time (``None``: no row)."""
    expected = digest(token_key, key)
    if stored is None:
        hmac.compare_digest(expected, _DUMMY_DIGEST)
        return False
    return hmac.compare_digest(expected, stored)


def new_key() -> bytes:
    """A fresh random HMAC key (for the token hash or for signing page tokens)."""
    return secrets.token_bytes(32)
