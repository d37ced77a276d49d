"""Retry eligibility, backoff and the call deadline: pure functions, no I/O.

A call is retried only when its method is marked ``NO_SIDE_EFFECTS`` in the schema (the
method's ``idempotency_level``, read from the descriptors) and the error says trying again
may help. The deadline covers every attempt and every sleep.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from connectrpc.code import Code
from connectrpc.method import IdempotencyLevel

from ._exceptions import APIError, ConfigurationError, DeadlineExceededError

RETRYABLE_CODES = frozenset({Code.UNAVAILABLE, Code.RESOURCE_EXHAUSTED})
# Connect-Timeout-Ms has at most 10 digits: https://connectrpc.com/docs/protocol/#unary-request
_MAX_TIMEOUT_MS = 10**10 - 1
#: The largest timeout accepted, in seconds (about 115 days): what Connect-Timeout-Ms carries.
MAX_TIMEOUT = _MAX_TIMEOUT_MS / 1000
#: A Retry-After longer than this is not "sane": the call fails at once instead of waiting.
MAX_RETRY_AFTER = 300.0


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How a retryable call is retried.

    Args:
        max_retries: retries after the first attempt (0 disables retrying).
        initial_delay: the first backoff, in seconds.
        max_delay: the cap of one backoff, in seconds (a server's Retry-After may exceed it).
        multiplier: the growth of the backoff per attempt.
        jitter: the fraction of each backoff that is randomized (0..1).
    """

    max_retries: int = 2
    initial_delay: float = 0.5
    max_delay: float = 8.0
    multiplier: float = 2.0
    jitter: float = 0.25


def is_retryable(level: IdempotencyLevel, code: Code) -> bool:
    """Whether an error with ``code`` on a method of ``level`` may be retried."""
    return level is IdempotencyLevel.NO_SIDE_EFFECTS and code in RETRYABLE_CODES


def backoff(attempt: int, policy: RetryPolicy, rand: Callable[[], float] = random.random) -> float:
    """The sleep before retry number ``attempt + 1``: exponential, capped, with jitter."""
    base = min(policy.max_delay, policy.initial_delay * policy.multiplier**attempt)
    return base * (1 - policy.jitter * rand())


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta seconds or an HTTP date).

    Returns:
        The delay (0 for a date in the past), or ``None`` if absent or unparsable.
    """
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = datetime.now(UTC) if now is None else now
    return max(0.0, (when - current).total_seconds())


def retry_delay(
    level: IdempotencyLevel,
    exc: APIError,
    attempt: int,
    policy: RetryPolicy,
    rand: Callable[[], float] = random.random,
) -> float | None:
    """How long to sleep before retrying after ``exc``, or ``None`` not to retry.

    Retried: a method without side effects failing with a retryable code, and any call whose
    connection could not be established (it never reached the server).

    Args:
        level: the method's idempotency level.
        exc: the error of attempt number ``attempt`` (0-based).
        attempt: how many retries were already made.
        policy: the retry settings of the call.
        rand: a source of uniform numbers in [0, 1), for the jitter.
    """
    if attempt >= policy.max_retries:
        return None
    if not is_retryable(level, exc.code) and not exc.never_sent:
        return None
    after = parse_retry_after(exc.headers.get("retry-after"))
    if after is not None and after <= MAX_RETRY_AFTER:
        return after
    if after is not None:
        return math.inf
    return backoff(attempt, policy, rand)


def check_timeout(timeout: float | None) -> float | None:
    """``timeout`` if it is a usable time budget in seconds.

    Raises:
        ConfigurationError: negative, not a number, infinite or beyond what
            ``Connect-Timeout-Ms`` can carry (use ``None`` for no limit).
    """
    if timeout is None:
        return None
    if not 0 <= timeout <= MAX_TIMEOUT:
        raise ConfigurationError(
            f"timeout must be between 0 and {MAX_TIMEOUT:.0f} seconds, or None for no limit; "
            f"got {timeout}"
        )
    return timeout


class Deadline:
    """The end of a call's time budget (``None``: no limit), on the monotonic clock.

    Args:
        timeout: the call's budget in seconds (``None``: no limit).
        not_after: a ``time.monotonic()`` the call must end by in any case (a listing's).
    """

    __slots__ = ("_end", "_first")

    def __init__(self, timeout: float | None, not_after: float | None = None) -> None:
        now = time.monotonic()
        end = None if timeout is None else now + timeout
        if not_after is not None and (end is None or not_after < end):
            end = not_after
        self._end = end
        left = None if end is None else max(0.0, end - now)
        self._first = None if left is None else min(_MAX_TIMEOUT_MS, math.ceil(left * 1000))

    def remaining(self) -> float | None:
        """Seconds left, or ``None`` when the call has no limit."""
        return None if self._end is None else self._end - time.monotonic()

    def timeout_ms(self) -> int | None:
        """The ``Connect-Timeout-Ms`` of the next attempt: what is left of the budget.

        Raises:
            DeadlineExceededError: nothing is left.
        """
        if self._first is not None:
            first, self._first = self._first, None
            return first
        left = self.remaining()
        if left is None:
            return None
        if left <= 0:
            raise DeadlineExceededError("the call's timeout expired between attempts")
        return min(_MAX_TIMEOUT_MS, max(1, math.ceil(left * 1000)))

    def allows(self, delay: float) -> bool:
        """Whether sleeping ``delay`` seconds still leaves time for another attempt."""
        left = self.remaining()
        return delay != math.inf and (left is None or delay < left)
