"""Defaults and environment lookup: where the token and the base URL come from."""

from __future__ import annotations

import os
from collections.abc import Mapping

from ._exceptions import ConfigurationError

DEFAULT_BASE_URL = "https://app.ona.com/api"
#: Seconds one call may take in all, every attempt and every backoff sleep included.
DEFAULT_TIMEOUT = 60.0
DEFAULT_MAX_RETRIES = 2
#: The largest response body read, in bytes; a bigger one fails as an invalid response.
DEFAULT_READ_MAX_BYTES = 16 * 1024 * 1024

TOKEN_ENV_VARS = ("ONA_API_KEY", "GITPOD_API_KEY")
BASE_URL_ENV_VARS = ("ONA_BASE_URL", "GITPOD_BASE_URL")
#: What the Ona docs tell CI users to export; not read, only mentioned when it is set.
CI_TOKEN_ENV_VAR = "GITPOD_TOKEN"  # noqa: S105 - a variable name, not a secret


def _first_env(names: tuple[str, ...], environ: Mapping[str, str]) -> str | None:
    for name in names:
        value = environ.get(name, "").strip()
        if value:
            return value
    return None


def resolve_token(
    token: str | None, environ: Mapping[str, str] | None = None, *, from_code: bool = True
) -> str:
    """Return the API token: the argument, else ``ONA_API_KEY``, else ``GITPOD_API_KEY``.

    ``from_code`` says whether the caller could pass the token as an argument: the message
    for a missing token suggests ``token=...`` only then (the CLI takes no token argument).

    Raises:
        ConfigurationError: no token was found; the message names where it was looked for.
    """
    env = os.environ if environ is None else environ
    if token is not None:
        if not token.strip():
            raise ConfigurationError("the token argument is empty")
        return token.strip()
    found = _first_env(TOKEN_ENV_VARS, env)
    if found is not None:
        return found
    message = "no API token: set the ONA_API_KEY or GITPOD_API_KEY environment variable"
    if from_code:
        message = message.replace(": set", ": pass token=... or set", 1)
    if env.get(CI_TOKEN_ENV_VAR):
        message += (
            f"; {CI_TOKEN_ENV_VAR} is set but not read by ona_pats: pass it on with "
            f'ONA_API_KEY="${CI_TOKEN_ENV_VAR}"'
        )
        if from_code:
            message += f' or Client(token=os.environ["{CI_TOKEN_ENV_VAR}"])'

    raise ConfigurationError(message)


def resolve_base_url(base_url: str | None, environ: Mapping[str, str] | None = None) -> str:
    """Return the base URL: the argument, else the environment, else the default.

    The environment variables are ``ONA_BASE_URL``, then ``GITPOD_BASE_URL``. The result has
    no trailing slash.
    """
    env = os.environ if environ is None else environ
    url = base_url or _first_env(BASE_URL_ENV_VARS, env) or DEFAULT_BASE_URL
    return url.rstrip("/")
