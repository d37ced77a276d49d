"""Output helpers of the ``ona-pats`` CLI: durations, timestamps, the token table, progress.

Pure functions over protobuf messages and plain values, so they are tested without a server.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import IO, Any

from ona_pats._schema import identity_pb2, user_pb2
from ona_pats._timestamps import optional_datetime

#: The units a duration on the command line may use, largest first.
_UNITS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}
_DURATION = re.compile(r"(?:\d+[wdhms])+")
_PART = re.compile(r"(\d+)([wdhms])")
#: The longest duration accepted (what ``timedelta`` and later date arithmetic can hold).
_MAX_DURATION_DAYS = 100 * 365
_MAX_DURATION_SECONDS = _MAX_DURATION_DAYS * 86400


def parse_human_duration(text: str) -> timedelta:
    """Parse a duration such as ``30d``, ``12h``, ``1w``, ``90m`` or ``1d12h``.

    Args:
        text: digits followed by a unit (w, d, h, m, s), one or more such parts.

    Returns:
        The duration as a ``timedelta``.

    Raises:
        ValueError: when ``text`` is not such a duration.
    """
    cleaned = text.strip().lower()
    if not _DURATION.fullmatch(cleaned):
        raise ValueError(f"invalid duration {text!r}: use a number and a unit, like 30d, 12h or 1w")
    seconds = sum(int(n) * _UNITS[unit] for n, unit in _PART.findall(cleaned))
    if seconds > _MAX_DURATION_SECONDS:
        raise ValueError(f"duration {text!r} is too long: at most {_MAX_DURATION_DAYS} days")
    return timedelta(seconds=seconds)


def human_duration(delta: timedelta, units: int = 2) -> str:
    """Format a duration for people, to ``units`` units at most: ``29d 23h``, ``5m``, ``0s``."""
    seconds = int(abs(delta).total_seconds())
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return " ".join(parts[:units]) or "0s"


def relative(when: datetime, now: datetime, units: int = 2) -> str:
    """Say how far ``when`` is from ``now``: ``in 29d 23h``, ``3h 2m ago`` or ``just now``."""
    if abs(when - now) < timedelta(seconds=1):
        return "just now"
    if when > now:
        return f"in {human_duration(when - now, units)}"
    return f"{human_duration(now - when, units)} ago"


def printable(text: str) -> str:
    """Escape control characters (newlines, ANSI escapes) so that text cannot drive a terminal."""
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


def to_datetime(pat: user_pb2.PersonalAccessToken, name: str) -> datetime | None:
    """Return a Timestamp field of ``pat`` as an aware UTC datetime, or None when unset."""
    return optional_datetime(pat, name)


def short_time(when: datetime | None, now: datetime) -> str:
    """Format a point in time as ``2026-12-23 16:03Z (in 30d)``; ``never`` when unset."""
    if when is None:
        return "never"
    return f"{when:%Y-%m-%d %H:%MZ} ({relative(when, now)})"


def short_date(when: datetime | None, now: datetime, *, expiry: bool = False) -> str:
    """Format a time for the table: ``2026-12-23 (in 30d)``, ``2026-10-06 (expired 47d ago)``."""
    if when is None:
        return "never"
    said = relative(when, now, units=1)
    if expiry and when <= now:
        said = f"expired {said}"
    return f"{when:%Y-%m-%d} ({said})"


#: The columns of the token table, in the order of :func:`table_row`.
COLUMNS = ("ID", "USER", "DESCRIPTION", "EXPIRES", "LAST USED", "READ-ONLY")


def table_row(pat: user_pb2.PersonalAccessToken, now: datetime) -> tuple[str, ...]:
    """The table cells of one token, in the order of the table's columns."""
    return (
        pat.id,
        pat.user_id,
        printable(pat.description) or "-",
        short_date(to_datetime(pat, "expires_at"), now, expiry=True),
        short_date(to_datetime(pat, "last_used"), now),
        "yes" if pat.read_only else "no",
    )


def render_rows(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """Render rows of cells as an aligned, plain-text table under ``header``."""
    table = [header, *rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in table]
    return "\n".join(line.rstrip() for line in lines)


def render_table(pats: Sequence[user_pb2.PersonalAccessToken], now: datetime) -> str:
    """Render tokens as an aligned, plain-text table with a header line."""
    return render_rows(COLUMNS, (table_row(pat, now) for pat in pats))


def render_details(pat: user_pb2.PersonalAccessToken, now: datetime) -> str:
    """Render one token as ``key: value`` lines, for ``ona-pats get``."""
    created = to_datetime(pat, "created_at")
    creator = f"{pat.creator.id or '-'} ({principal_name(pat.creator.principal)})"
    pairs = (
        ("id", pat.id),
        ("user", pat.user_id),
        ("description", printable(pat.description) or "-"),
        ("creator", creator),
        ("created", short_time(created, now)),
        ("expires", short_time(to_datetime(pat, "expires_at"), now)),
        ("last used", short_time(to_datetime(pat, "last_used"), now)),
        ("read-only", "yes" if pat.read_only else "no"),
    )
    return "\n".join(f"{key + ':':<13}{value}" for key, value in pairs)


def principal_name(number: int) -> str:
    """The enum name of a Principal number, or the number itself when this schema lacks it."""
    try:
        return identity_pb2.Principal.Name(number)  # type: ignore[arg-type]
    except ValueError:
        return str(number)


def json_line(document: dict[str, Any]) -> str:
    """One compact JSON line (JSON Lines), keys kept in the order given."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def expiring_within(
    pats: Iterable[user_pb2.PersonalAccessToken], window: timedelta, now: datetime
) -> list[user_pb2.PersonalAccessToken]:
    """The tokens still valid at ``now`` that expire by ``now + window``, soonest first."""
    deadline = now + window
    dated = [(to_datetime(pat, "expires_at"), n, pat) for n, pat in enumerate(pats)]
    kept = [(when, n, pat) for when, n, pat in dated if when and now < when <= deadline]
    return [pat for _, _, pat in sorted(kept, key=lambda row: row[:2])]


@dataclass
class Progress:
    """A one-line progress indicator on a terminal; silent when ``enabled`` is false.

    Attributes:
        stream: where to draw, normally ``sys.stderr``.
        enabled: draw only when true (the CLI passes ``stream.isatty()``).
    """

    stream: IO[str]
    enabled: bool
    noun: str = "listing tokens"
    pages: int = 0
    items: int = 0
    _drawn: bool = field(default=False, repr=False)

    def update(self, page_items: int, *, of: int | None = None) -> None:
        """Count one more page holding ``page_items`` tokens (or, with ``of``, ``page_items``
        more done of ``of``) and redraw the line."""
        self.pages += 1
        self.items += page_items
        if self.enabled:
            if of is not None:
                said = f"{self.items} of {of}"
            else:
                said = f"{self.pages} {'page' if self.pages == 1 else 'pages'}, {self.items} tokens"
            self.stream.write(f"\r\x1b[K{self.noun}: {said}")
            self.stream.flush()
            self._drawn = True

    def clear(self) -> None:
        """Erase the line, so that the output after it starts clean."""
        if self._drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._drawn = False
