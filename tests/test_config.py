"""Configuration: defaults and environment lookup of the token and the base URL."""

from __future__ import annotations

import pytest

from ona_pats import Client, ConfigurationError
from ona_pats._config import (
    DEFAULT_BASE_URL,
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    resolve_base_url,
    resolve_token,
)


def test_defaults() -> None:
    assert DEFAULT_BASE_URL == "https://app.ona.com/api"
    assert DEFAULT_TIMEOUT == 60.0
    assert DEFAULT_MAX_RETRIES == 2


@pytest.mark.parametrize(
    ("arg", "env", "expected"),
    [
        pytest.param(None, {}, "https://app.ona.com/api", id="default"),
        pytest.param(
            None, {"GITPOD_BASE_URL": "https://g.test/api"}, "https://g.test/api", id="gitpod"
        ),
        pytest.param(
            None,
            {"ONA_BASE_URL": "https://o.test/api/", "GITPOD_BASE_URL": "https://g.test"},
            "https://o.test/api",
            id="ona-first-and-no-trailing-slash",
        ),
        pytest.param(
            "https://a.test", {"ONA_BASE_URL": "https://o.test"}, "https://a.test", id="arg"
        ),
    ],
)
def test_base_url_resolution(arg: str | None, env: dict[str, str], expected: str) -> None:
    assert resolve_base_url(arg, env) == expected


def test_token_resolution_order() -> None:
    assert resolve_token("a", {"ONA_API_KEY": "b"}) == "a"
    assert resolve_token(None, {"ONA_API_KEY": "b", "GITPOD_API_KEY": "c"}) == "b"
    assert resolve_token(None, {"GITPOD_API_KEY": "c"}) == "c"
    with pytest.raises(ConfigurationError):
        resolve_token("  ", {})


def test_client_reads_base_url_from_env(monkeypatch: pytest.MonkeyPatch, no_env: None) -> None:
    monkeypatch.setenv("ONA_BASE_URL", "https://env.test/api")
    with Client(token="t") as client:
        assert client.base_url == "https://env.test/api"


def test_unknown_protocol_is_refused(no_env: None) -> None:
    with pytest.raises(ConfigurationError, match="protocol"):
        Client(token="t", protocol="xml")  # type: ignore[arg-type]


def test_negative_max_retries_is_refused(no_env: None) -> None:
    with pytest.raises(ConfigurationError, match="max_retries"):
        Client(token="t", max_retries=-1)


def test_negative_timeout_is_refused(no_env: None) -> None:
    with pytest.raises(ConfigurationError, match="timeout"):
        Client(token="t", timeout=-1)
