"""Token lifecycle for the CLI: the ``audit`` report and the ``prune`` rules.

Pure functions over listed tokens and a fixed ``now``, so they are tested without a server;
``_main`` lists, asks, deletes and prints.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ona_pats._bulk import DeleteOutcome
from ona_pats._json import to_dict
from ona_pats._schema import user_pb2
from ona_pats._timestamps import datetime_to_timestamp

from . import _format as fmt
from ._errors import describe

PersonalAccessToken = user_pb2.PersonalAccessToken

#: A token used this recently is "in use" and never deleted by a rule: the listing that
#: ``prune`` just made authenticated with the caller's own token, so the server shows it used
#: now (the embedded server records a use within a second).
IN_USE_WINDOW = timedelta(seconds=60)


class Reason(enum.StrEnum):
    """Why a token needs attention, riskiest first (the order of the audit's list)."""

    EXPIRED = "expired"
    NEVER_USED_READ_WRITE = "never_used_read_write"
    UNUSED = "unused"
    EXPIRING_SOON = "expiring_soon"


#: Why ``prune`` keeps a matched token that was used within :data:`IN_USE_WINDOW`.
IN_USE = "in use: used within the last minute (the caller's own token is among these)"

_RANK = {reason: n for n, reason in enumerate(Reason)}


@dataclass(frozen=True, slots=True)
class Facts:
    """What the rules see of one token at ``now``."""

    pat: PersonalAccessToken
    expires_at: datetime | None
    last_used: datetime | None
    created_at: datetime | None
    expired: bool

    @classmethod
    def of(cls, pat: PersonalAccessToken, now: datetime) -> Facts:
        """The facts of ``pat`` at ``now``."""
        expires = fmt.to_datetime(pat, "expires_at")
        return cls(
            pat,
            expires,
            fmt.to_datetime(pat, "last_used"),
            fmt.to_datetime(pat, "created_at"),
            expires is not None and expires <= now,
        )

    def unused_for(self, window: timedelta, now: datetime) -> bool:
        """Not used within ``window`` before ``now``: last used earlier, or never used and
        created earlier."""
        since = self.last_used or self.created_at
        return since is not None and since < now - window


# --- audit ------------------------------------------------------------------------------------


@dataclass
class Counts:
    """The audit's counts for one user (or for everyone)."""

    tokens: int = 0
    active: int = 0
    expiring_soon: int = 0
    expired: int = 0
    never_used: int = 0
    unused: int = 0
    read_write: int = 0
    read_only: int = 0

    def add(self, facts: Facts, reasons: Collection[Reason]) -> None:
        """Count one token."""
        self.tokens += 1
        self.active += not facts.expired
        self.expiring_soon += Reason.EXPIRING_SOON in reasons
        self.expired += facts.expired
        self.never_used += facts.last_used is None
        self.unused += Reason.UNUSED in reasons
        self.read_only += facts.pat.read_only
        self.read_write += not facts.pat.read_only


@dataclass
class Audit:
    """The audit of every token the caller may see."""

    now: datetime
    expiring_within: timedelta
    unused_for: timedelta
    users: dict[str, Counts] = field(default_factory=dict)
    total: Counts = field(default_factory=Counts)
    attention: list[tuple[Reason, Facts]] = field(default_factory=list)


def reasons_of(facts: Facts, audit: Audit) -> list[Reason]:
    """Every reason ``facts`` needs attention, riskiest first."""
    now = audit.now
    if facts.expired:
        return [Reason.EXPIRED]
    reasons = []
    if facts.last_used is None and not facts.pat.read_only:
        reasons.append(Reason.NEVER_USED_READ_WRITE)
    if facts.last_used is not None and facts.last_used < now - audit.unused_for:
        reasons.append(Reason.UNUSED)
    if facts.expires_at is not None and facts.expires_at <= now + audit.expiring_within:
        reasons.append(Reason.EXPIRING_SOON)
    return reasons


def _urgency(reason: Reason, facts: Facts) -> tuple[int, float]:
    """Sort key within the attention list: by reason, then the oldest or soonest first."""
    when = {
        Reason.EXPIRED: facts.expires_at,
        Reason.NEVER_USED_READ_WRITE: facts.created_at,
        Reason.UNUSED: facts.last_used,
        Reason.EXPIRING_SOON: facts.expires_at,
    }[reason]
    return _RANK[reason], when.timestamp() if when is not None else 0.0


def audit(
    pats: Iterable[PersonalAccessToken],
    now: datetime,
    expiring_within: timedelta,
    unused_for: timedelta,
) -> Audit:
    """Count the tokens per user and list those that need attention, riskiest first."""
    report = Audit(now, expiring_within, unused_for)
    for pat in pats:
        facts = Facts.of(pat, now)
        reasons = reasons_of(facts, report)
        report.users.setdefault(pat.user_id, Counts()).add(facts, reasons)
        report.total.add(facts, reasons)
        if reasons:
            report.attention.append((reasons[0], facts))
    report.attention.sort(key=lambda item: _urgency(*item))
    report.users = dict(sorted(report.users.items()))
    return report


#: The keys of a token in the audit's and prune's JSON, always present.
_TOKEN_KEYS = ("id", "userId", "description", "createdAt", "expiresAt", "lastUsed", "readOnly")


def token_document(facts: Facts) -> dict[str, Any]:
    """One token in the audit's and prune's JSON: the project's proto3 JSON mapping (as
    ``list --json`` writes it), with stable keys and ``null`` for a time that is not set."""
    data = to_dict(facts.pat)
    return {key: data.get(key) for key in _TOKEN_KEYS}


def _counts_document(counts: Counts) -> dict[str, int]:
    return {
        "tokens": counts.tokens,
        "active": counts.active,
        "expiringSoon": counts.expiring_soon,
        "expired": counts.expired,
        "neverUsed": counts.never_used,
        "unused": counts.unused,
        "readWrite": counts.read_write,
        "readOnly": counts.read_only,
    }


def audit_document(report: Audit) -> dict[str, Any]:
    """The audit as one JSON document with stable keys."""
    return {
        "generatedAt": to_dict(datetime_to_timestamp(report.now)),
        "expiringWithinSeconds": int(report.expiring_within.total_seconds()),
        "unusedForSeconds": int(report.unused_for.total_seconds()),
        "total": _counts_document(report.total),
        "users": [
            {"userId": user_id, **_counts_document(counts)}
            for user_id, counts in report.users.items()
        ],
        "attention": [
            {"reason": reason.value, **token_document(facts)} for reason, facts in report.attention
        ],
    }


_COUNT_COLUMNS = (
    "USER",
    "TOKENS",
    "ACTIVE",
    "EXPIRING",
    "EXPIRED",
    "NEVER USED",
    "UNUSED",
    "READ-WRITE",
    "READ-ONLY",
)


def _count_row(label: str, counts: Counts) -> tuple[str, ...]:
    numbers = _counts_document(counts).values()
    return (label, *(str(n) for n in numbers))


def render_audit(report: Audit) -> str:
    """The audit for a terminal: counts per user, then the tokens that need attention."""
    window = fmt.human_duration(report.expiring_within)
    unused = fmt.human_duration(report.unused_for)
    lines = [
        f"Audit of {report.total.tokens} tokens of {len(report.users)} users at "
        f"{report.now:%Y-%m-%d %H:%MZ} (expiring: within {window}; unused: for over {unused})",
        "",
    ]
    rows = [_count_row(user_id, counts) for user_id, counts in report.users.items()]
    lines.append(fmt.render_rows(_COUNT_COLUMNS, [*rows, _count_row("all users", report.total)]))
    lines.append("")
    if report.attention:
        lines.append(f"Needs attention ({len(report.attention)}), riskiest first:")
        lines.append(
            fmt.render_rows(
                ("REASON", *fmt.COLUMNS),
                [
                    (reason.value, *fmt.table_row(facts.pat, report.now))
                    for reason, facts in report.attention
                ],
            )
        )
    else:
        lines.append("Nothing needs attention.")
    return "\n".join(lines)


# --- prune ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rules:
    """What ``prune`` deletes: a token matching any condition, within the users given.

    With no condition, every token of the given users matches.
    """

    expired: bool = False
    unused_for: timedelta | None = None
    never_used: bool = False
    user_ids: frozenset[str] = frozenset()
    keep: frozenset[str] = frozenset()

    @property
    def any(self) -> bool:
        """Whether at least one rule was given."""
        return self.expired or self.unused_for is not None or self.never_used or bool(self.user_ids)

    def match(self, facts: Facts, now: datetime) -> str | None:
        """The rule ``facts`` matches, or ``None``."""
        if self.user_ids and facts.pat.user_id not in self.user_ids:
            return None
        if self.expired and facts.expired:
            return "expired"
        if self.never_used and facts.last_used is None:
            return "never used"
        if self.unused_for is not None and facts.unused_for(self.unused_for, now):
            return f"unused for over {fmt.human_duration(self.unused_for)}"
        if not (self.expired or self.never_used or self.unused_for is not None):
            return "of the given users"
        return None


@dataclass
class Plan:
    """The tokens ``prune`` deletes, and those it keeps although a rule matched them."""

    delete: list[tuple[str, Facts]] = field(default_factory=list)
    kept: list[tuple[str, Facts]] = field(default_factory=list)


def plan(pats: Iterable[PersonalAccessToken], rules: Rules, now: datetime) -> Plan:
    """Match every token against ``rules``; keep those in use or named by ``--keep``."""
    result = Plan()
    for pat in pats:
        facts = Facts.of(pat, now)
        matched = rules.match(facts, now)
        if matched is None:
            continue
        if pat.id in rules.keep:
            result.kept.append(("named by --keep", facts))
        elif facts.last_used is not None and facts.last_used >= now - IN_USE_WINDOW:
            result.kept.append((IN_USE, facts))
        else:
            result.delete.append((matched, facts))
    return result


def render_plan(entries: Sequence[tuple[str, Facts]], now: datetime) -> str:
    """The tokens of a plan as a table, with the rule each matched."""
    return fmt.render_rows(
        (*fmt.COLUMNS, "RULE"), [(*fmt.table_row(f.pat, now), rule) for rule, f in entries]
    )


def outcome_document(rule: str, facts: Facts, outcome: str, error: str | None) -> dict[str, Any]:
    """One JSON line of ``prune --json``."""
    return {**token_document(facts), "rule": rule, "outcome": outcome, "error": error}


def error_text(outcome: DeleteOutcome) -> str | None:
    """What went wrong with one delete, in one line, or ``None``."""
    return None if outcome.error is None else describe(outcome.error)
