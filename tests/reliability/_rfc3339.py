"""An independent reference for RFC 3339 ``date-time``, as the proto3 JSON mapping profiles it.

Written straight from the ABNF of RFC 3339 section 5.6
(https://www.rfc-editor.org/rfc/rfc3339#section-5.6), one regular expression per rule, with
the calendar checks from its comments done by the standard library's ``calendar`` and
``datetime``, never by the code under test. The proto3 profile
(https://protobuf.dev/programming-guides/json/, timestamp.proto) then narrows it:

* at most 9 fractional digits (a Timestamp holds nanoseconds);
* the instant, once the offset is applied, within
  0001-01-01T00:00:00Z..9999-12-31T23:59:59.999999999Z;
* second ``60`` rejected: Timestamps smear leap seconds (the project's documented choice).
"""

from __future__ import annotations

import calendar
import re
from datetime import datetime, timedelta

# RFC 3339 section 5.6, rule by rule. DIGIT is %x30-39 (RFC 5234 B.1): ASCII only.
DIGIT = "[0-9]"
DATE_FULLYEAR = f"(?P<year>{DIGIT}{{4}})"
DATE_MONTH = f"(?P<month>{DIGIT}{{2}})"
DATE_MDAY = f"(?P<mday>{DIGIT}{{2}})"
TIME_HOUR = f"(?P<hour>{DIGIT}{{2}})"
TIME_MINUTE = f"(?P<minute>{DIGIT}{{2}})"
TIME_SECOND = f"(?P<second>{DIGIT}{{2}})"
TIME_SECFRAC = rf"(?P<secfrac>\.{DIGIT}+)"
TIME_NUMOFFSET = f"(?P<sign>[+-])(?P<off_hour>{DIGIT}{{2}}):(?P<off_minute>{DIGIT}{{2}})"
# "Z" and "T" may be lowercase (section 5.6, NOTE after the ABNF).
TIME_OFFSET = f"(?:(?P<zulu>[Zz])|{TIME_NUMOFFSET})"
PARTIAL_TIME = f"{TIME_HOUR}:{TIME_MINUTE}:{TIME_SECOND}{TIME_SECFRAC}?"
FULL_DATE = f"{DATE_FULLYEAR}-{DATE_MONTH}-{DATE_MDAY}"
FULL_TIME = f"{PARTIAL_TIME}{TIME_OFFSET}"
DATE_TIME = re.compile(f"{FULL_DATE}[Tt]{FULL_TIME}", re.ASCII)

_EPOCH = datetime(1970, 1, 1)
MIN_SECONDS = (datetime(1, 1, 1) - _EPOCH) // timedelta(seconds=1)
MAX_SECONDS = (datetime(9999, 12, 31, 23, 59, 59) - _EPOCH) // timedelta(seconds=1)
# The Gregorian calendar repeats every 400 years, which lets year 0000 (valid in the ABNF) be
# computed with datetime, whose years start at 1.
_CYCLE_YEARS = 400
_CYCLE_SECONDS = (datetime(2400, 1, 1) - datetime(2000, 1, 1)) // timedelta(seconds=1)


def reference_parse(text: str) -> tuple[int, int] | None:
    """(seconds, nanos) since the epoch of an RFC 3339 date-time, or None if it is not one."""
    match = DATE_TIME.fullmatch(text)
    if match is None:
        return None
    g = match.groupdict()
    year, month, mday = int(g["year"]), int(g["month"]), int(g["mday"])
    hour, minute, second = int(g["hour"]), int(g["minute"]), int(g["second"])
    shift = _CYCLE_YEARS if year == 0 else 0
    # date-month 01-12; date-mday 01-28/29/30/31 by month and year; hour 00-23; minute 00-59.
    if not 1 <= month <= 12 or not 1 <= mday <= calendar.monthrange(year + shift, month)[1]:
        return None
    if hour > 23 or minute > 59 or second > 60:
        return None
    if second == 60:  # RFC 3339 allows a leap second; the Timestamp profile does not.
        return None
    frac = g["secfrac"]
    if frac is not None and len(frac) - 1 > 9:
        return None
    nanos = 0 if frac is None else int(frac[1:].ljust(9, "0"))
    offset = 0
    if g["sign"] is not None:
        off_hour, off_minute = int(g["off_hour"]), int(g["off_minute"])
        if off_hour > 23 or off_minute > 59:  # time-numoffset uses time-hour and time-minute
            return None
        offset = (off_hour * 60 + off_minute) * 60 * (1 if g["sign"] == "+" else -1)
    local = datetime(year + shift, month, mday, hour, minute, second)
    seconds = (local - _EPOCH) // timedelta(seconds=1)
    seconds -= (_CYCLE_SECONDS if shift else 0) + offset
    if not MIN_SECONDS <= seconds <= MAX_SECONDS:
        return None
    return seconds, nanos
