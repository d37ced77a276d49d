"""The JSON text of Timestamp (RFC 3339) and Duration, and ``MappingProblem``, the internal
error every part of the mapping raises.

The JSON forms follow the proto3 JSON mapping
(https://protobuf.dev/programming-guides/json/) and RFC 3339 section 5.6
(https://www.rfc-editor.org/rfc/rfc3339#section-5.6) exactly:

* Output is UTC with ``Z`` and 0, 3, 6 or 9 fractional digits.
* Input accepts what RFC 3339's ``date-time`` allows: ``T``/``t``, ``Z``/``z`` or a numeric
  offset up to +-23:59, 1 to 9 fractional digits (RFC 3339 allows more; a Timestamp cannot hold
  them). Everything else is rejected: one-digit fields, an empty fraction, a space instead of
  ``T``, non-ASCII digits, invalid dates (Feb 30), and instants outside
  0001-01-01T00:00:00Z..9999-12-31T23:59:59.999999999Z once the offset is applied.
* Second ``60`` (a leap second, which RFC 3339 allows) is rejected: a Timestamp has no leap
  seconds (they are smeared, see timestamp.proto), so no instant could be chosen without
  guessing; Go's protojson rejects it too.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import TypeVar

# Seconds since the epoch of 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z (timestamp.proto).
TIMESTAMP_MIN_SECONDS = -62_135_596_800
TIMESTAMP_MAX_SECONDS = 253_402_300_799
# +-10,000 years in seconds (duration.proto).
DURATION_MAX_SECONDS = 315_576_000_000
_NANOS_PER_SECOND = 1_000_000_000
_EPOCH_DATE = date(1970, 1, 1)
_DAYS_IN_MONTH = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
# Speed: a listing's timestamps share few dates, so dates are converted once (bounded caches,
# cleared when full), and the time of day is assembled from precomputed pieces.
_CACHE_SIZE = 4_096
_DAY_SECONDS: dict[str, int] = {}  # "YYYY-MM-DD" (valid, year >= 1) -> seconds at its midnight
_DATE_PREFIX_CACHE: dict[int, str] = {}
_HH_MM = tuple(f"{h:02d}:{m:02d}:" for h in range(24) for m in range(60))
_SS = tuple(f"{s:02d}" for s in range(60))
# Reading: every valid "HH:MM" and "SS", so a lookup both converts and range-checks.
_MINUTE_SECONDS = {f"{h:02d}:{m:02d}": h * 3_600 + m * 60 for h in range(24) for m in range(60)}
_SECONDS = {f"{s:02d}": s for s in range(60)}
_NANOS_SCALE = (0, *(10 ** (9 - digits) for digits in range(1, 10)))  # by fraction length

# RFC 3339 section 5.6 date-time. [0-9], not \d: \d matches non-ASCII digits such as U+0660.
_RFC3339 = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})"
    r"(?:\.([0-9]*))?(?:[Zz]|([+-])([0-9]{2}):([0-9]{2}))"
)
_DURATION = re.compile(r"(-?)([0-9]{1,20})(?:\.([0-9]*))?s")


K = TypeVar("K")
V = TypeVar("V")


class MappingProblem(Exception):
    """A value breaks the JSON mapping; ``ona_pats._json`` adds the path and raises
    ``JSONMappingError``.

    ``segments`` collects the path from the inside out (``[3]``, ``.createdAt``...) as the
    error travels up, so the happy path never builds a path string.
    """

    def __init__(self, message: str, value: object) -> None:
        super().__init__(message)
        self.message = message
        self.value = value
        self.segments: list[str] = []

    def within(self, segment: str) -> MappingProblem:
        """This problem, one path segment further out (``.createdAt``, ``[3]``)."""
        self.segments.append(segment)
        return self


def _remember(cache: dict[K, V], key: K, value: V) -> V:
    """Keep ``value`` in a bounded cache (cleared when full) and return it."""
    if len(cache) >= _CACHE_SIZE:
        cache.clear()
    cache[key] = value
    return value


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil)."""
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146_097 + doe - 719_468


def _month_length(year: int, month: int) -> int:
    if month == 2 and year % 4 == 0 and (year % 100 != 0 or year % 400 == 0):
        return 29
    return _DAYS_IN_MONTH[month]


def _fraction_to_nanos(fraction: str | None, text: str) -> int:
    if fraction is None:
        return 0
    if not 1 <= len(fraction) <= 9:
        raise MappingProblem("fractional seconds must have 1 to 9 digits", text)
    return int(fraction.ljust(9, "0"))


def _day_seconds(text: str, year: str, month: str, day: str) -> int:
    """Seconds since the epoch at the midnight of a YYYY-MM-DD date, validated, cached."""
    ymd = f"{year}-{month}-{day}"
    seconds = _DAY_SECONDS.get(ymd)
    if seconds is None:
        y, mo, d = int(year), int(month), int(day)
        if not (1 <= mo <= 12 and 1 <= d <= _month_length(y, mo)):
            raise MappingProblem("no such date", text)
        seconds = _days_from_civil(y, mo, d) * 86_400
        if y >= 1:  # the fast path trusts cached dates to be in range; year 0 never is
            _remember(_DAY_SECONDS, ymd, seconds)
    return seconds


def parse_timestamp(text: str) -> tuple[int, int]:
    """Parse an RFC 3339 ``date-time`` into (seconds, nanos) since the epoch, UTC.

    Raises:
        MappingProblem: ``text`` is not an RFC 3339 date-time in the Timestamp range.
    """
    # Fast path: the shape protobuf runtimes write (UTC, "Z", 0 to 9 fraction digits), on a
    # date seen before. The tables hold only valid dates, hours, minutes and seconds, so each
    # lookup converts and validates its slice at once; anything else takes the precise path.
    size = len(text)
    if (size == 20 or 22 <= size <= 30) and text[10] == "T" and text[16] == ":" and text[-1] == "Z":
        day = _DAY_SECONDS.get(text[:10])
        minute = _MINUTE_SECONDS.get(text[11:16])
        second = _SECONDS.get(text[17:19])
        if day is not None and minute is not None and second is not None:
            if size == 20:
                return day + minute + second, 0
            fraction = text[20:-1]
            if text[19] == "." and fraction.isascii() and fraction.isdigit():
                return day + minute + second, int(fraction) * _NANOS_SCALE[size - 21]
    return _parse_any(text)


def _parse_any(text: str) -> tuple[int, int]:
    """Every RFC 3339 form, each rule checked in turn, with a precise message."""
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise MappingProblem("not an RFC 3339 date-time (YYYY-MM-DDTHH:MM:SS[.f]Z|+HH:MM)", text)
    year, month, day, hour, minute, second, fraction, sign, off_h, off_m = match.groups()
    h, mi, sec = int(hour), int(minute), int(second)
    if h > 23 or mi > 59:
        raise MappingProblem("hour must be 00..23 and minute 00..59", text)
    if sec > 59:
        raise MappingProblem("second must be 00..59 (Timestamps smear leap seconds)", text)
    seconds = _day_seconds(text, year, month, day) + h * 3_600 + mi * 60 + sec
    nanos = 0 if fraction is None else _fraction_to_nanos(fraction, text)
    if sign is not None:
        oh, om = int(off_h), int(off_m)
        if oh > 23 or om > 59:
            raise MappingProblem("offset must be within -23:59..+23:59", text)
        offset = oh * 3_600 + om * 60
        seconds -= offset if sign == "+" else -offset
    if not TIMESTAMP_MIN_SECONDS <= seconds <= TIMESTAMP_MAX_SECONDS:
        raise MappingProblem("outside 0001-01-01T00:00:00Z..9999-12-31T23:59:59.999999999Z", text)
    return seconds, nanos


def _fraction(nanos: int) -> str:
    """The fractional part for non-negative ``nanos``: "", ".123", ".123456" or ".123456789"."""
    # str() of the value plus a leading 1 zero-pads faster than a format spec.
    if nanos == 0:
        return ""
    if nanos % 1_000_000 == 0:
        return f".{str(nanos // 1_000_000 + 1_000)[1:]}"
    if nanos % 1_000 == 0:
        return f".{str(nanos // 1_000 + 1_000_000)[1:]}"
    return f".{str(nanos + _NANOS_PER_SECOND)[1:]}"


def format_timestamp(seconds: int, nanos: int) -> str:
    """Format (seconds, nanos) as RFC 3339 in UTC with ``Z`` and 0, 3, 6 or 9 digits.

    Raises:
        MappingProblem: the Timestamp is outside its documented range or nanos is not 0..999999999.
    """
    if not TIMESTAMP_MIN_SECONDS <= seconds <= TIMESTAMP_MAX_SECONDS:
        raise MappingProblem("Timestamp seconds outside 0001-01-01..9999-12-31", seconds)
    if not 0 <= nanos < _NANOS_PER_SECOND:
        raise MappingProblem("Timestamp nanos must be 0..999999999", nanos)
    days, second_of_day = divmod(seconds, 86_400)
    prefix = _DATE_PREFIX_CACHE.get(days) or _date_prefix(days)
    minute, second = divmod(second_of_day, 60)
    if nanos == 0:
        return f"{prefix}{_HH_MM[minute]}{_SS[second]}Z"
    return f"{prefix}{_HH_MM[minute]}{_SS[second]}{_fraction(nanos)}Z"


def _date_prefix(days: int) -> str:
    """``"YYYY-MM-DDT"`` of a day since the epoch, cached."""
    # date covers exactly years 1..9999; isoformat() zero-pads the year to 4 digits.
    return _remember(
        _DATE_PREFIX_CACHE, days, f"{(_EPOCH_DATE + timedelta(days=days)).isoformat()}T"
    )


def parse_duration(text: str) -> tuple[int, int]:
    """Parse a proto3 JSON Duration (``"-1.5s"``) into (seconds, nanos) with matching signs.

    Raises:
        MappingProblem: not a Duration string, or beyond +-315,576,000,000 seconds.
    """
    match = _DURATION.fullmatch(text)
    if match is None:
        raise MappingProblem("not a Duration (for example '1.5s' or '-0.000000001s')", text)
    negative, whole, fraction = match.groups()
    seconds, nanos = int(whole), _fraction_to_nanos(fraction, text)
    if seconds > DURATION_MAX_SECONDS:
        raise MappingProblem("Duration outside +-315576000000 seconds", text)
    if negative:
        return -seconds, -nanos
    return seconds, nanos


def format_duration(seconds: int, nanos: int) -> str:
    """Format (seconds, nanos) as ``"<seconds>[.<0, 3, 6 or 9 digits>]s"``.

    Raises:
        MappingProblem: out of range, nanos beyond +-999999999, or signs that disagree.
    """
    if not -DURATION_MAX_SECONDS <= seconds <= DURATION_MAX_SECONDS:
        raise MappingProblem("Duration seconds outside +-315576000000", seconds)
    if not -_NANOS_PER_SECOND < nanos < _NANOS_PER_SECOND:
        raise MappingProblem("Duration nanos must be within +-999999999", nanos)
    if (seconds < 0 < nanos) or (nanos < 0 < seconds):
        raise MappingProblem("Duration seconds and nanos must have the same sign", (seconds, nanos))
    sign = "-" if seconds < 0 or nanos < 0 else ""
    return f"{sign}{abs(seconds)}{_fraction(abs(nanos))}s"
