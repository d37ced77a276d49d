"""``google.protobuf.Timestamp`` <-> ``datetime``, without losing nanoseconds silently.

The Timestamp's JSON text (RFC 3339) is ``_json._wkt``'s.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from ._exceptions import ValidationError
from ._json._wkt import TIMESTAMP_MAX_SECONDS, TIMESTAMP_MIN_SECONDS

_NANOS_PER_SECOND = 1_000_000_000
_EPOCH_UTC = datetime(1970, 1, 1, tzinfo=UTC)


def _check_range(ts: Timestamp) -> None:
    if not TIMESTAMP_MIN_SECONDS <= ts.seconds <= TIMESTAMP_MAX_SECONDS:
        raise ValidationError("seconds", f"{ts.seconds} is outside 0001-01-01..9999-12-31")
    if not 0 <= ts.nanos < _NANOS_PER_SECOND:
        raise ValidationError("nanos", f"{ts.nanos} is not within 0..999999999")


def timestamp_to_datetime_ns(ts: Timestamp) -> tuple[datetime, int]:
    """Convert a Timestamp to an aware UTC ``datetime`` and the nanoseconds it cannot hold.

    Lossless: ``datetime_to_timestamp(*timestamp_to_datetime_ns(ts)) == ts``.

    Args:
        ts: the Timestamp, within 0001-01-01T00:00:00Z..9999-12-31T23:59:59.999999999Z.

    Returns:
        ``(dt, extra_nanos)``: ``dt`` in UTC with microsecond precision, ``extra_nanos`` the
        remaining 0..999 nanoseconds.

    Raises:
        ValidationError: the Timestamp is outside its range or its nanos outside 0..999999999.
    """
    _check_range(ts)
    micros, extra = divmod(ts.nanos, 1_000)
    return _EPOCH_UTC + timedelta(seconds=ts.seconds, microseconds=micros), extra


def timestamp_to_datetime(ts: Timestamp, *, truncate: bool = False) -> datetime:
    """Convert a Timestamp to an aware UTC ``datetime``, refusing to drop nanoseconds silently.

    ``datetime`` holds microseconds. A Timestamp with sub-microsecond nanos raises unless
    ``truncate=True``; use :func:`timestamp_to_datetime_ns` to keep them.

    ```python
    from google.protobuf.timestamp_pb2 import Timestamp
    from ona_pats import timestamp_to_datetime
    timestamp_to_datetime(Timestamp(seconds=1484443815, nanos=10_000_000)).isoformat()
    # '2017-01-15T01:30:15.010000+00:00'
    ```

    Args:
        ts: the Timestamp.
        truncate: drop sub-microsecond nanoseconds (towards the past) instead of raising.

    Returns:
        The instant as a ``datetime`` with ``tzinfo=UTC``.

    Raises:
        ValidationError: nanoseconds would be lost and ``truncate`` is false, or the Timestamp
            is out of range.
    """
    dt, extra = timestamp_to_datetime_ns(ts)
    if extra and not truncate:
        raise ValidationError(
            "nanos",
            f"{ts.nanos} has sub-microsecond precision that datetime cannot hold; pass "
            "truncate=True or use timestamp_to_datetime_ns()",
        )
    return dt


def optional_datetime(message: Message, field: str, *, truncate: bool = True) -> datetime | None:
    """A Timestamp field of ``message`` as an aware UTC ``datetime``, or ``None`` when unset.

    A message field is always truthy and reads as 1970-01-01 when unset; this asks the
    message whether the field is set.

    ```python
    from ona_pats import optional_datetime
    optional_datetime(pat, "last_used")  # None for a token never used
    ```

    Args:
        message: the message holding the field (``PersonalAccessToken``).
        field: the field's proto name (``"last_used"``).
        truncate: drop sub-microsecond nanoseconds, which ``datetime`` cannot hold (the
            default); ``False`` raises instead, as :func:`timestamp_to_datetime` does.

    Returns:
        The instant, or ``None`` when the field is not set.

    Raises:
        ValueError: ``message`` has no message field of that name.
        ValidationError: the Timestamp is out of range (or has nanoseconds and ``truncate``
            is false).
    """
    if not message.HasField(field):
        return None
    return timestamp_to_datetime(getattr(message, field), truncate=truncate)


def datetime_to_timestamp(dt: datetime, extra_nanos: int = 0) -> Timestamp:
    """Convert a timezone-aware ``datetime`` (plus optional nanoseconds) to a Timestamp.

    Args:
        dt: an aware datetime; naive datetimes are rejected since their instant is unknown.
        extra_nanos: 0..999 nanoseconds below ``dt``'s microseconds (as returned by
            :func:`timestamp_to_datetime_ns`).

    Returns:
        The Timestamp of that instant.

    Raises:
        ValidationError: ``dt`` is naive, ``extra_nanos`` is outside 0..999, or the instant is
            outside the Timestamp range.
    """
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValidationError(
            "dt", "naive datetime: attach a timezone, e.g. dt.replace(tzinfo=timezone.utc)"
        )
    if not 0 <= extra_nanos <= 999:
        raise ValidationError("extra_nanos", f"{extra_nanos} is not within 0..999")
    delta = dt - _EPOCH_UTC
    seconds = delta.days * 86_400 + delta.seconds
    ts = Timestamp(seconds=seconds, nanos=delta.microseconds * 1_000 + extra_nanos)
    _check_range(ts)
    return ts
