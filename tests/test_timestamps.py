"""RFC 3339 Timestamps and Duration strings as the proto3 JSON mapping reads and writes them,
and the datetime helpers."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from google.protobuf import json_format
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from ona_pats import (
    JSONMappingError,
    ValidationError,
    datetime_to_timestamp,
    from_json,
    timestamp_to_datetime,
    timestamp_to_datetime_ns,
    to_json,
)
from ona_pats._json._wkt import (
    DURATION_MAX_SECONDS,
    TIMESTAMP_MAX_SECONDS,
    TIMESTAMP_MIN_SECONDS,
    MappingProblem,
    format_duration,
    format_timestamp,
    parse_duration,
    parse_timestamp,
)
from ona_pats.types import GetPersonalAccessTokenResponse, PersonalAccessToken

T_2017 = 1_484_443_815  # 2017-01-15T01:30:15Z

ACCEPTED = [
    pytest.param("2017-01-15T01:30:15Z", (T_2017, 0), id="utc-z"),
    pytest.param("2017-01-15t01:30:15z", (T_2017, 0), id="lowercase-t-and-z"),
    pytest.param("2017-01-15T01:30:15.01Z", (T_2017, 10_000_000), id="two-fraction-digits"),
    pytest.param("2017-01-15T01:30:15.1Z", (T_2017, 100_000_000), id="one-fraction-digit"),
    pytest.param("2017-01-15T01:30:15.123456789Z", (T_2017, 123_456_789), id="nine-digits"),
    pytest.param("2017-01-15T01:30:15.000000001Z", (T_2017, 1), id="one-nanosecond"),
    pytest.param("2017-01-15T02:30:15+01:00", (T_2017, 0), id="positive-offset"),
    pytest.param("2017-01-14T20:00:15-05:30", (T_2017, 0), id="negative-offset-half-hour"),
    pytest.param("2017-01-15T01:30:15-00:00", (T_2017, 0), id="unknown-local-offset"),
    pytest.param("2017-01-16T01:29:15+23:59", (T_2017, 0), id="offset-plus-23-59"),
    pytest.param("2017-01-14T01:31:15-23:59", (T_2017, 0), id="offset-minus-23-59"),
    pytest.param("2016-02-29T00:00:00Z", (1_456_704_000, 0), id="leap-day"),
    pytest.param("2000-02-29T00:00:00Z", (951_782_400, 0), id="leap-day-400-year"),
    pytest.param("1970-01-01T00:00:00Z", (0, 0), id="epoch"),
    pytest.param("1969-12-31T23:59:59.5Z", (-1, 500_000_000), id="before-epoch-fraction"),
    pytest.param("0001-01-01T00:00:00Z", (TIMESTAMP_MIN_SECONDS, 0), id="minimum"),
    pytest.param(
        "9999-12-31T23:59:59.999999999Z", (TIMESTAMP_MAX_SECONDS, 999_999_999), id="maximum"
    ),
    pytest.param(
        "0000-12-31T23:30:00-01:00", (TIMESTAMP_MIN_SECONDS + 1_800, 0), id="year-0-offset-in-range"
    ),
    pytest.param(
        "9999-12-31T23:30:00+01:00", (TIMESTAMP_MAX_SECONDS - 1_799 - 3_600, 0), id="offset-9999"
    ),
]

REJECTED = [
    pytest.param("2017-1-15T01:30:15Z", id="one-digit-month"),
    pytest.param("2017-01-5T01:30:15Z", id="one-digit-day"),
    pytest.param("2017-01-15T1:30:15Z", id="one-digit-hour"),
    pytest.param("17-01-15T01:30:15Z", id="two-digit-year"),
    pytest.param("2017-01-15T01:30:15.Z", id="empty-fraction"),
    pytest.param("2017-01-15T01:30:15.1234567890Z", id="ten-fraction-digits"),
    pytest.param("2017-01-15T01:30:15+24:00", id="offset-plus-24-00"),
    pytest.param("2017-01-15T01:30:15-24:00", id="offset-minus-24-00"),
    pytest.param("2017-01-15T01:30:15+01:60", id="offset-minute-60"),
    pytest.param("2017-01-15T01:30:15+0100", id="offset-without-colon"),
    pytest.param("2017-01-15T01:30:15+01", id="offset-hours-only"),
    pytest.param("2017-01-15T01:30:15", id="no-offset"),
    pytest.param("2017-01-15 01:30:15Z", id="space-separator"),
    pytest.param("2017-01-15", id="date-only"),
    pytest.param(" 2017-01-15T01:30:15Z", id="leading-space"),
    pytest.param("2017-01-15T01:30:15Z\n", id="trailing-newline"),
    pytest.param("2017-01-15T01:30:15UTC", id="named-zone"),
    pytest.param("\u0662\u0660\u0661\u0667-01-15T01:30:15Z", id="arabic-indic-digits"),
    pytest.param("\uff12017-01-15T01:30:15Z", id="fullwidth-digit"),
    pytest.param("2017-01-15T01:30:15.\uff11Z", id="fullwidth-fraction"),
    pytest.param("2017-02-30T00:00:00Z", id="february-30"),
    pytest.param("2017-02-29T00:00:00Z", id="february-29-common-year"),
    pytest.param("1900-02-29T00:00:00Z", id="february-29-century"),
    pytest.param("2017-04-31T00:00:00Z", id="april-31"),
    pytest.param("2017-00-10T00:00:00Z", id="month-0"),
    pytest.param("2017-13-10T00:00:00Z", id="month-13"),
    pytest.param("2017-01-00T00:00:00Z", id="day-0"),
    pytest.param("2017-01-15T24:00:00Z", id="hour-24"),
    pytest.param("2017-01-15T01:60:00Z", id="minute-60"),
    pytest.param("2016-12-31T23:59:60Z", id="leap-second-60"),
    pytest.param("0000-01-01T00:00:00Z", id="year-0"),
    pytest.param("0001-01-01T00:30:00+01:00", id="offset-below-minimum"),
    pytest.param("9999-12-31T23:30:00-01:00", id="offset-above-maximum"),
    pytest.param("+2017-01-15T01:30:15Z", id="signed-year"),
    pytest.param("", id="empty"),
]


@pytest.mark.parametrize(("text", "expected"), ACCEPTED)
def test_rfc3339_accepts(text: str, expected: tuple[int, int]) -> None:
    assert parse_timestamp(text) == expected


@pytest.mark.parametrize("text", REJECTED)
def test_rejected_even_when_its_date_was_seen_before(text: str) -> None:
    """The fast path (dates seen before, canonical shape) rejects exactly what the rest does."""
    with contextlib.suppress(MappingProblem):  # put the date in the cache, if it is one
        parse_timestamp(f"{text[:10]}T00:00:00Z")
    with pytest.raises(MappingProblem):
        parse_timestamp(text)


@pytest.mark.parametrize("text", REJECTED)
def test_rfc3339_rejects(text: str) -> None:
    with pytest.raises(MappingProblem):
        parse_timestamp(text)


@pytest.mark.parametrize("text", REJECTED)
def test_rfc3339_rejection_names_the_field_and_value(text: str) -> None:
    with pytest.raises(JSONMappingError) as info:
        from_json(json.dumps({"pat": {"lastUsed": text}}), GetPersonalAccessTokenResponse)
    assert info.value.path == "pat.lastUsed"
    assert info.value.value == text


@pytest.mark.parametrize(
    ("text", "json_format_accepts"),
    [
        pytest.param("2017-01-15t01:30:15z", False, id="lowercase-t-and-z"),
        pytest.param("2017-1-15T01:30:15Z", True, id="one-digit-month"),
        pytest.param("2017-01-15T01:30:15.Z", True, id="empty-fraction"),
        pytest.param("2017-01-15T01:30:15+24:00", True, id="offset-24h"),
    ],
)
def test_json_format_gaps_are_closed(text: str, json_format_accepts: bool) -> None:
    """The four strings on which google.protobuf.json_format departs from RFC 3339 (it accepts
    what the RFC refuses, or refuses what it allows): we decide as the RFC does."""
    try:
        json_format.Parse(f'"{text}"', Timestamp())
        accepted_by_json_format = True
    except json_format.ParseError:
        accepted_by_json_format = False
    assert accepted_by_json_format is json_format_accepts
    try:
        from_json(f'"{text}"', Timestamp)
        accepted = True
    except JSONMappingError:
        accepted = False
    assert accepted is not json_format_accepts


@pytest.mark.parametrize(
    ("seconds", "nanos", "expected"),
    [
        pytest.param(T_2017, 0, "2017-01-15T01:30:15Z", id="no-fraction"),
        pytest.param(T_2017, 10_000_000, "2017-01-15T01:30:15.010Z", id="millis"),
        pytest.param(T_2017, 10_000, "2017-01-15T01:30:15.000010Z", id="micros"),
        pytest.param(T_2017, 10, "2017-01-15T01:30:15.000000010Z", id="nanos"),
        pytest.param(-1, 500_000_000, "1969-12-31T23:59:59.500Z", id="before-epoch"),
        pytest.param(TIMESTAMP_MIN_SECONDS, 0, "0001-01-01T00:00:00Z", id="minimum"),
        pytest.param(
            TIMESTAMP_MAX_SECONDS, 999_999_999, "9999-12-31T23:59:59.999999999Z", id="maximum"
        ),
    ],
)
def test_timestamp_output_is_utc_z_with_0_3_6_or_9_digits(
    seconds: int, nanos: int, expected: str
) -> None:
    assert format_timestamp(seconds, nanos) == expected
    assert to_json(Timestamp(seconds=seconds, nanos=nanos)) == f'"{expected}"'


@pytest.mark.parametrize(
    ("seconds", "nanos"),
    [
        pytest.param(TIMESTAMP_MIN_SECONDS - 1, 0, id="below-minimum"),
        pytest.param(TIMESTAMP_MAX_SECONDS + 1, 0, id="above-maximum"),
        pytest.param(0, -1, id="negative-nanos"),
        pytest.param(0, 1_000_000_000, id="nanos-overflow"),
    ],
)
def test_timestamp_output_rejects_out_of_range(seconds: int, nanos: int) -> None:
    pat = PersonalAccessToken(created_at=Timestamp(seconds=seconds, nanos=nanos))
    with pytest.raises(JSONMappingError) as info:
        to_json(GetPersonalAccessTokenResponse(pat=pat))
    assert info.value.path == "pat.createdAt"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("1.5s", (1, 500_000_000), id="fraction"),
        pytest.param("-1.5s", (-1, -500_000_000), id="negative"),
        pytest.param("-0.5s", (0, -500_000_000), id="negative-below-one-second"),
        pytest.param("0s", (0, 0), id="zero"),
        pytest.param("3s", (3, 0), id="whole"),
        pytest.param("0.000000001s", (0, 1), id="one-nanosecond"),
        pytest.param("315576000000.999999999s", (DURATION_MAX_SECONDS, 999_999_999), id="max"),
        pytest.param("-315576000000.999999999s", (-DURATION_MAX_SECONDS, -999_999_999), id="min"),
    ],
)
def test_duration_accepts(text: str, expected: tuple[int, int]) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("1.5", id="no-unit"),
        pytest.param("1.5S", id="uppercase-unit"),
        pytest.param("1.s", id="empty-fraction"),
        pytest.param(".5s", id="no-whole-part"),
        pytest.param("+1s", id="plus-sign"),
        pytest.param("1.0000000001s", id="ten-fraction-digits"),
        pytest.param("315576000001s", id="beyond-ten-thousand-years"),
        pytest.param("-315576000001s", id="beyond-minus-ten-thousand-years"),
        pytest.param("1m", id="minutes"),
        pytest.param(" 1s", id="leading-space"),
        pytest.param("\u0661s", id="arabic-indic-digit"),
    ],
)
def test_duration_rejects(text: str) -> None:
    with pytest.raises(MappingProblem):
        parse_duration(text)


@pytest.mark.parametrize(
    ("seconds", "nanos", "expected"),
    [
        pytest.param(1, 500_000_000, "1.500s", id="millis"),
        pytest.param(-1, -500_000_000, "-1.500s", id="negative"),
        pytest.param(0, -1, "-0.000000001s", id="negative-nanos-only"),
        pytest.param(0, 0, "0s", id="zero"),
        pytest.param(2_592_000, 0, "2592000s", id="thirty-days"),
        pytest.param(0, 1_000, "0.000001s", id="micros"),
    ],
)
def test_duration_output(seconds: int, nanos: int, expected: str) -> None:
    assert format_duration(seconds, nanos) == expected


@pytest.mark.parametrize(
    ("seconds", "nanos"),
    [
        pytest.param(1, -1, id="mixed-signs"),
        pytest.param(-1, 1, id="mixed-signs-negative-seconds"),
        pytest.param(DURATION_MAX_SECONDS + 1, 0, id="too-long"),
        pytest.param(0, 1_000_000_000, id="nanos-overflow"),
    ],
)
def test_duration_output_rejects_invalid(seconds: int, nanos: int) -> None:
    with pytest.raises(JSONMappingError):
        to_json(Duration(seconds=seconds, nanos=nanos))


def test_timestamp_to_datetime_is_aware_utc() -> None:
    dt = timestamp_to_datetime(Timestamp(seconds=T_2017, nanos=10_000_000))
    assert dt == datetime(2017, 1, 15, 1, 30, 15, 10_000, tzinfo=UTC)
    assert dt.utcoffset() == timedelta(0)


def test_timestamp_to_datetime_refuses_to_drop_nanoseconds() -> None:
    ts = Timestamp(seconds=T_2017, nanos=123_456_789)
    with pytest.raises(ValidationError, match="timestamp_to_datetime_ns"):
        timestamp_to_datetime(ts)
    truncated = timestamp_to_datetime(ts, truncate=True)
    assert truncated.microsecond == 123_456


def test_timestamp_to_datetime_ns_is_lossless() -> None:
    ts = Timestamp(seconds=-1, nanos=123_456_789)
    dt, extra = timestamp_to_datetime_ns(ts)
    assert (dt.microsecond, extra) == (123_456, 789)
    assert datetime_to_timestamp(dt, extra) == ts


@pytest.mark.parametrize(
    ("seconds", "nanos"),
    [
        pytest.param(TIMESTAMP_MIN_SECONDS, 0, id="minimum"),
        pytest.param(TIMESTAMP_MAX_SECONDS, 999_999_999, id="maximum"),
        pytest.param(0, 1, id="one-nanosecond"),
    ],
)
def test_datetime_helpers_round_trip_the_whole_range(seconds: int, nanos: int) -> None:
    ts = Timestamp(seconds=seconds, nanos=nanos)
    assert datetime_to_timestamp(*timestamp_to_datetime_ns(ts)) == ts


def test_datetime_to_timestamp_applies_the_offset() -> None:
    dt = datetime(2017, 1, 15, 2, 30, 15, tzinfo=timezone(timedelta(hours=1)))
    assert datetime_to_timestamp(dt) == Timestamp(seconds=T_2017)


def test_datetime_to_timestamp_rejects_naive_datetimes() -> None:
    with pytest.raises(ValidationError, match="naive"):
        datetime_to_timestamp(datetime(2017, 1, 15))


@pytest.mark.parametrize(
    ("dt", "extra"),
    [
        pytest.param(datetime(1, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))), 0, id="before"),
        pytest.param(datetime(2017, 1, 1, tzinfo=UTC), 1_000, id="extra-nanos-1000"),
        pytest.param(datetime(2017, 1, 1, tzinfo=UTC), -1, id="extra-nanos-negative"),
    ],
)
def test_datetime_to_timestamp_rejects_out_of_range(dt: datetime, extra: int) -> None:
    with pytest.raises(ValidationError):
        datetime_to_timestamp(dt, extra)


@pytest.mark.parametrize(
    "ts",
    [
        pytest.param(Timestamp(seconds=TIMESTAMP_MAX_SECONDS + 1), id="after-9999"),
        pytest.param(Timestamp(seconds=0, nanos=-1), id="negative-nanos"),
    ],
)
def test_timestamp_to_datetime_rejects_invalid_timestamps(ts: Timestamp) -> None:
    with pytest.raises(ValidationError):
        timestamp_to_datetime_ns(ts)


def test_date_caches_stay_correct_when_they_overflow() -> None:
    """Formatting and parsing agree with datetime across more dates than the caches hold."""
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    for days in range(-3_000, 7_000, 2):
        seconds = days * 86_400 + 3_723
        text = format_timestamp(seconds, 0)
        assert text == (epoch + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert parse_timestamp(text) == (seconds, 0)
