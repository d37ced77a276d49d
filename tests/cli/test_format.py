"""The CLI's pure output helpers: durations, the table, JSON lines, the expiry filter, progress."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest

from ona_pats._cli import _format as fmt
from ona_pats.types import PersonalAccessToken

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def _pat(
    expires_in: timedelta, *, description: str = "ci", used: bool = False
) -> PersonalAccessToken:
    pat = PersonalAccessToken(
        id="182bd5e5-6e1a-4fe4-a799-aa6d9a6ab26e",
        user_id="f53d2330-3795-4c5d-a1f3-453121af9c60",
        description=description,
        read_only=True,
    )
    pat.created_at.FromDatetime(NOW - timedelta(days=1))
    pat.expires_at.FromDatetime(NOW + expires_in)
    if used:
        pat.last_used.FromDatetime(NOW - timedelta(hours=3))
    return pat


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("30d", timedelta(days=30), id="days"),
        pytest.param("12h", timedelta(hours=12), id="hours"),
        pytest.param("1w", timedelta(weeks=1), id="weeks"),
        pytest.param("90m", timedelta(minutes=90), id="minutes"),
        pytest.param("45s", timedelta(seconds=45), id="seconds"),
        pytest.param("1d12h", timedelta(days=1, hours=12), id="combined"),
        pytest.param(" 7D ", timedelta(days=7), id="case-and-spaces"),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert fmt.parse_human_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("7", id="no-unit"),
        pytest.param("d", id="no-number"),
        pytest.param("7x", id="unknown-unit"),
        pytest.param("-7d", id="negative"),
        pytest.param("1.5d", id="fraction"),
        pytest.param("7d ago", id="trailing-words"),
    ],
)
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        fmt.parse_human_duration(text)


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        pytest.param(timedelta(days=29, hours=23, minutes=5), "29d 23h", id="two-units-at-most"),
        pytest.param(timedelta(minutes=5), "5m", id="one-unit"),
        pytest.param(timedelta(0), "0s", id="zero"),
    ],
)
def test_format_duration(delta: timedelta, expected: str) -> None:
    assert fmt.human_duration(delta) == expected


def test_relative_says_future_and_past() -> None:
    assert fmt.relative(NOW + timedelta(days=2, hours=1), NOW) == "in 2d 1h"
    assert fmt.relative(NOW + timedelta(days=2, hours=1), NOW, units=1) == "in 2d"
    assert fmt.relative(NOW - timedelta(hours=3), NOW) == "3h ago"
    assert fmt.relative(NOW + timedelta(milliseconds=300), NOW) == "just now"


def test_table_has_header_and_aligned_rows() -> None:
    table = fmt.render_table([_pat(timedelta(days=30)), _pat(timedelta(days=2), used=True)], NOW)
    header, first, second = table.splitlines()
    assert header.split("  ")[0].strip() == "ID"
    assert "LAST USED" in header
    assert "2026-12-23 (in 30d)" in first
    assert "never" in first
    assert "2026-11-25 (in 2d)" in second
    assert "2026-11-23 (3h ago)" in second
    assert first.index("ci") == second.index("ci") == header.index("DESCRIPTION")


def test_details_show_every_field() -> None:
    details = fmt.render_details(_pat(timedelta(days=30)), NOW)
    for key in ("id:", "user:", "description:", "creator:", "created:", "expires:", "last used:"):
        assert key in details
    assert "read-only:   yes" in details


def test_expiring_within_keeps_valid_tokens_before_the_deadline_soonest_first() -> None:
    soon, sooner = _pat(timedelta(days=3)), _pat(timedelta(hours=5))
    later, expired = _pat(timedelta(days=30)), _pat(-timedelta(days=1))
    kept = fmt.expiring_within([soon, later, expired, sooner], timedelta(days=7), NOW)
    assert kept == [sooner, soon]


def test_table_says_expired() -> None:
    table = fmt.render_table([_pat(-timedelta(days=2))], NOW)
    assert "2026-11-21 (expired 2d ago)" in table


def test_json_line_is_one_compact_line() -> None:
    assert fmt.json_line({"id": "x", "readOnly": True}) == '{"id":"x","readOnly":true}'


def test_progress_draws_only_when_enabled() -> None:
    quiet, loud = io.StringIO(), io.StringIO()
    for stream, enabled in ((quiet, False), (loud, True)):
        progress = fmt.Progress(stream, enabled=enabled)
        progress.update(25)
        progress.update(5)
        progress.clear()
        assert (progress.pages, progress.items) == (2, 30)
    assert quiet.getvalue() == ""
    assert "2 pages, 30 tokens" in loud.getvalue()
    assert loud.getvalue().endswith("\r\x1b[K")


def test_control_characters_cannot_drive_the_terminal() -> None:
    table = fmt.render_table([_pat(timedelta(days=1), description="evil\x1b[2J\nrow")], NOW)
    assert "\x1b" not in table
    assert len(table.splitlines()) == 2
    assert "evil\\x1b[2J\\nrow" in table
