"""What ``Client`` and ``AsyncClient`` share: their options, and every decision of a call.

The clients themselves (``_async/_client.py`` and its generated sync half) only do I/O: send,
sleep, close. :class:`_Call` decides a call's deadline and retries; redirects, body limits and
connection failures are the transport's (``_transport``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectrpc.method import IdempotencyLevel

from . import _stubs, _transport
from ._aliases import WireProtocol
from ._auth import BearerToken, RequestHeaders, check_base_url
from ._config import resolve_base_url, resolve_token
from ._exceptions import APIError, ConfigurationError
from ._retries import Deadline, RetryPolicy, check_timeout, retry_delay
from ._version import __version__

_NO_SIDE_EFFECTS = IdempotencyLevel.NO_SIDE_EFFECTS


class _Call:
    """The decisions of one call across its attempts: deadline and retries (sans-I/O)."""

    __slots__ = ("attempt", "deadline", "level", "policy")

    def __init__(
        self,
        level: IdempotencyLevel,
        timeout: float | None,
        policy: RetryPolicy,
        not_after: float | None,
    ) -> None:
        self.level = level
        self.deadline = Deadline(timeout, not_after)
        self.policy = policy
        self.attempt = 0

    def delay(self, exc: APIError) -> float:
        """Seconds to sleep before the next attempt.

        Raises:
            APIError: ``exc`` itself, when the call is not to be retried or the sleep would
                outlast the deadline.
        """
        delay = retry_delay(self.level, exc, self.attempt, self.policy)
        if delay is None or not self.deadline.allows(delay):
            raise exc
        self.attempt += 1
        return delay


class BaseClient:
    """What both clients share: configuration, headers, and the call decisions."""

    def __init__(
        self,
        *,
        token: str | None,
        base_url: str | None,
        protocol: WireProtocol,
        timeout: float | None,
        max_retries: int,
        use_get: bool,
        default_headers: Mapping[str, str] | None,
        allow_insecure_http: bool,
        reader: _transport.URLReader | None,
    ) -> None:
        self._token = BearerToken(resolve_token(token))
        self._base_url = check_base_url(
            resolve_base_url(base_url), allow_insecure_http=allow_insecure_http, reader=reader
        )
        if max_retries < 0:
            raise ConfigurationError(f"max_retries must be >= 0, got {max_retries}")
        check_timeout(timeout)
        self._protocol: WireProtocol = protocol
        self._codec = _stubs.codec_for(protocol)
        self._timeout = timeout
        self._policy = RetryPolicy(max_retries=max_retries)
        self._use_get = use_get
        self._reader = reader
        # Built once; connectrpc copies them into each request.
        self._headers = RequestHeaders({"user-agent": f"ona-pats/{__version__}"})
        self._headers.update({k.lower(): v for k, v in (default_headers or {}).items()})
        self._headers["authorization"] = self._token.header()

    @property
    def base_url(self) -> str:
        """The base URL calls are sent to, without a trailing slash."""
        return self._base_url

    @property
    def protocol(self) -> WireProtocol:
        """The wire encoding, ``"proto"`` or ``"json"``."""
        return self._protocol

    @property
    def timeout(self) -> float | None:
        """The default time budget of one call, in seconds (``None``: no limit)."""
        return self._timeout

    @property
    def max_retries(self) -> int:
        """The default number of retries of a retryable call."""
        return self._policy.max_retries

    def __repr__(self) -> str:
        # getattr: a repr may be asked for while __init__ is failing (tracebacks' locals).
        base_url = getattr(self, "_base_url", None)
        protocol = getattr(self, "_protocol", None)
        return f"{type(self).__name__}(base_url={base_url!r}, protocol={protocol!r})"

    def _start(
        self,
        level: IdempotencyLevel,
        timeout: float | None,
        max_retries: int | None,
        not_after: float | None,
    ) -> _Call:
        policy = self._policy
        if max_retries is not None and max_retries != policy.max_retries:
            policy = RetryPolicy(max_retries=max_retries)
        budget = self._timeout if timeout is None else check_timeout(timeout)
        return _Call(level, budget, policy, not_after)

    def _transport_options(self) -> dict[str, Any]:
        try:
            return _transport.transport_options(self._base_url)
        except OSError as exc:
            raise ConfigurationError(f"SSL_CERT_FILE cannot be read: {exc}") from exc

    def _use_get_for(self, level: IdempotencyLevel) -> bool:
        return self._use_get and level is _NO_SIDE_EFFECTS
