"""Bearer secrets: shape, keyed hashing, and a constant-time check on every path."""

from __future__ import annotations

import hmac

import pytest

from ona_pats.server import _tokens


def test_new_secrets_parse_back_and_differ() -> None:
    first, second = _tokens.new_secret(), _tokens.new_secret()
    assert first != second
    assert _tokens.parse_secret(first.text) == first
    assert first.text.startswith("onapat_")
    assert len(first.text) == len("onapat_") + 16 + 43


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("onapat_", id="prefix-only"),
        pytest.param("ghp_" + "a" * 59, id="other-prefix"),
        pytest.param("onapat_" + "A" * 59, id="uppercase-lookup"),
        pytest.param("onapat_" + "0" * 58, id="one-short"),
        pytest.param("onapat_" + "0" * 60, id="one-long"),
        pytest.param("onapat_" + "0" * 16 + "!" * 43, id="bad-key-alphabet"),
        pytest.param(" onapat_" + "0" * 59, id="leading-space"),
    ],
)
def test_malformed_secrets_do_not_parse(text: str) -> None:
    assert _tokens.parse_secret(text) is None


def test_digest_is_keyed() -> None:
    key = _tokens.new_secret().key
    one, two = _tokens.new_key(), _tokens.new_key()
    assert _tokens.digest(one, key) != _tokens.digest(two, key)
    assert key.encode() not in _tokens.digest(one, key)


def test_verify_compares_in_constant_time_on_every_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """A hit, a miss and an unknown lookup all go through ``hmac.compare_digest``."""
    calls: list[tuple[bytes, bytes]] = []
    compare_digest = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return compare_digest(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    key, secret = _tokens.new_key(), _tokens.new_secret()
    stored = _tokens.digest(key, secret.key)
    assert _tokens.verify(key, secret.key, stored)
    assert not _tokens.verify(key, secret.key[:-1] + "x", stored)
    assert not _tokens.verify(key, secret.key, None)
    assert len(calls) == 3
    assert all(len(a) == len(b) == 32 for a, b in calls)
