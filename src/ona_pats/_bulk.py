"""Bulk deletes: many tokens, a bounded number in flight, an honest outcome for each.

``pats.delete_many`` (sync: a thread pool; async: worker tasks) deletes each id once, with at
most ``concurrency`` deletes in flight. A delete is never retried once sent (as
``pats.delete``), so a failure after the request may have reached the server is reported as
``unknown``, not as ``failed``: the token may be gone. A failure of one delete never stops the
others; an error that is not an API error (a bug, a cancellation) does.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass

from . import _requests
from ._exceptions import (
    APIError,
    InvalidResponseError,
    NotFoundError,
    OnaPatsError,
    ValidationError,
)

#: The most deletes in flight that ``delete_many`` accepts.
MAX_CONCURRENCY = 256


class Outcome(enum.StrEnum):
    """What became of one delete."""

    DELETED = "deleted"
    """The server deleted the token."""
    NOT_FOUND = "not_found"
    """The server does not know the token (deleted meanwhile, or never yours): it is gone."""
    FAILED = "failed"
    """The token is still there: the request was never sent, or the server refused it."""
    UNKNOWN = "unknown"
    """The request may have reached the server, but no answer came back (a dropped
    connection, a cut or non-Connect response, a deadline): the token may or may not exist."""


@dataclass(frozen=True, slots=True)
class DeleteOutcome:
    """The outcome of deleting one token, from ``pats.delete_many``.

    Attributes:
        personal_access_token_id: the token's id.
        outcome: what became of the delete.
        error: the error, unless the token was deleted.
    """

    personal_access_token_id: str
    outcome: Outcome
    error: OnaPatsError | None = None

    @property
    def gone(self) -> bool:
        """Whether the token certainly no longer exists (deleted, or not found)."""
        return self.outcome in (Outcome.DELETED, Outcome.NOT_FOUND)


def outcome_of(exc: OnaPatsError) -> Outcome:
    """Classify a failed delete by whether the server can have acted on it."""
    if not isinstance(exc, APIError):
        return Outcome.UNKNOWN
    if exc.never_sent:
        return Outcome.FAILED
    if isinstance(exc, InvalidResponseError) or exc.http_status is None:
        return Outcome.UNKNOWN  # no Connect answer from the server
    if isinstance(exc, NotFoundError):
        return Outcome.NOT_FOUND
    return Outcome.FAILED  # a Connect error from the server: it refused the delete


def check_ids(ids: Iterable[str]) -> list[str]:
    """The distinct ids of ``ids``, in their first order, each checked as a UUID.

    Raises:
        ValidationError: an id is not a UUID (or ``ids`` is a single string); nothing was sent.
    """
    if isinstance(ids, str | bytes):
        raise ValidationError("ids", "must be an iterable of token ids, not one string")
    distinct = dict.fromkeys(ids)
    for n, pat_id in enumerate(distinct):
        try:
            _requests.delete(pat_id)
        except ValidationError as exc:
            raise ValidationError(f"ids[{n}]", exc.reason, rule=exc.rule) from None
    return list(distinct)


def check_concurrency(value: object) -> int:
    """``value`` if it is a usable number of deletes in flight.

    Raises:
        ValidationError: not an int in 1..:data:`MAX_CONCURRENCY`.
    """
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_CONCURRENCY:
        raise ValidationError("concurrency", f"must be 1..{MAX_CONCURRENCY}, got {value!r}")
    return value


OnOutcome = Callable[[DeleteOutcome], None]


def _settle(pat_id: str, error: OnaPatsError | None) -> DeleteOutcome:
    if error is None:
        return DeleteOutcome(pat_id, Outcome.DELETED)
    return DeleteOutcome(pat_id, outcome_of(error), error)


def delete_all(
    delete: Callable[[str], None],
    ids: list[str],
    concurrency: int,
    on_outcome: OnOutcome | None,
) -> list[DeleteOutcome]:
    """Run ``delete`` for each id on at most ``concurrency`` threads; outcomes in id order."""

    def one(pat_id: str) -> DeleteOutcome:
        try:
            delete(pat_id)
        except OnaPatsError as exc:
            return _settle(pat_id, exc)
        return _settle(pat_id, None)

    done: dict[str, DeleteOutcome] = {}
    with ThreadPoolExecutor(concurrency, thread_name_prefix="ona-pats delete") as pool:
        futures = [pool.submit(one, pat_id) for pat_id in ids]
        try:
            for future in as_completed(futures):
                outcome = future.result()
                done[outcome.personal_access_token_id] = outcome
                if on_outcome is not None:
                    on_outcome(outcome)
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise
    return [done[pat_id] for pat_id in ids]


async def adelete_all(
    delete: Callable[[str], Awaitable[None]],
    ids: list[str],
    concurrency: int,
    on_outcome: OnOutcome | None,
) -> list[DeleteOutcome]:
    """The async twin of :func:`delete_all`: ``concurrency`` worker tasks."""
    pending = iter(ids)
    done: dict[str, DeleteOutcome] = {}

    async def worker() -> None:
        for pat_id in pending:
            try:
                await delete(pat_id)
            except OnaPatsError as exc:
                outcome = _settle(pat_id, exc)
            else:
                outcome = _settle(pat_id, None)
            done[pat_id] = outcome
            if on_outcome is not None:
                on_outcome(outcome)

    async with asyncio.TaskGroup() as group:
        for _ in range(min(concurrency, len(ids))):
            group.create_task(worker())
    return [done[pat_id] for pat_id in ids]
