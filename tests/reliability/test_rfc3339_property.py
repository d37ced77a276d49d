"""The RFC 3339 parser agrees with an independent reference grammar on generated strings.

The reference (``_rfc3339.py``) is written from the ABNF of RFC 3339 section 5.6 with the
standard library's calendar; the strings are valid-looking date-times built field by field
(with out-of-range fields), the same strings mutated character by character, and arbitrary text.
The parser is reached through the public ``ona_pats.from_json`` on a Timestamp field, so this
holds for what users and the JSON transport see, and directly for the internal helper.
"""

from __future__ import annotations

import json

from hypothesis import example, given, settings
from hypothesis import strategies as st

from ona_pats import JSONMappingError, from_json
from ona_pats._json._wkt import MappingProblem, parse_timestamp
from ona_pats.types import PersonalAccessToken

from ._rfc3339 import reference_parse
from ._settings import HYPOTHESIS_EXAMPLES

_ALPHABET = "0123456789-:.+TtZz \u0660\uff11\u00b2\n"


def _two(top: int) -> st.SearchStrategy[str]:
    return st.integers(0, top).map(lambda n: f"{n:02d}")


@st.composite
def date_times(draw: st.DrawFn) -> str:
    """Valid-looking RFC 3339 date-times, each field drawn a little beyond its range."""
    year = draw(st.one_of(st.integers(0, 9999), st.sampled_from([0, 1, 1969, 1970, 9999])))
    date = f"{year:04d}-{draw(_two(13))}-{draw(_two(32))}"
    time = f"{draw(_two(24))}:{draw(_two(60))}:{draw(_two(61))}"
    digits = draw(st.integers(0, 12))
    fraction = (
        "" if digits == 0 else "." + draw(st.text("0123456789", min_size=digits, max_size=digits))
    )
    offset = draw(
        st.one_of(
            st.sampled_from(["Z", "z"]),
            st.builds(lambda s, h, m: f"{s}{h}:{m}", st.sampled_from("+-"), _two(25), _two(60)),
        )
    )
    return f"{date}{draw(st.sampled_from('Tt'))}{time}{fraction}{offset}"


@st.composite
def mutated(draw: st.DrawFn) -> str:
    """A date-time with one to three characters deleted, inserted, replaced or duplicated."""
    text = draw(date_times())
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(text)))
        char = draw(st.sampled_from(_ALPHABET))
        op = draw(st.sampled_from(["delete", "insert", "replace", "duplicate"]))
        if op == "delete":
            text = text[:i] + text[i + 1 :]
        elif op == "insert":
            text = text[:i] + char + text[i:]
        elif op == "replace":
            text = text[:i] + char + text[i + 1 :]
        else:
            text = text[:i] + text[i : i + 2] + text[i:]
    return text


def _parse_public(text: str) -> tuple[int, int] | None:
    try:
        pat = from_json(json.dumps({"createdAt": text}), PersonalAccessToken)
    except JSONMappingError as exc:
        path = exc.path
        assert path == "createdAt", path
        return None
    return pat.created_at.seconds, pat.created_at.nanos


def _parse_internal(text: str) -> tuple[int, int] | None:
    try:
        return parse_timestamp(text)
    except MappingProblem:
        return None


_CASES = st.one_of(date_times(), mutated(), st.text(_ALPHABET, max_size=40), st.text(max_size=40))


@settings(max_examples=HYPOTHESIS_EXAMPLES * 3, deadline=None)
@given(_CASES)
@example("2017-01-15t01:30:15z")
@example("2017-1-15T01:30:15Z")
@example("2017-01-15T01:30:15.Z")
@example("2017-01-15T01:30:15+24:00")
@example("0000-12-31T23:00:00-01:00")
@example("0001-01-01T00:00:00+00:01")
@example("9999-12-31T23:59:59.999999999Z")
@example("9999-12-31T23:59:59-00:01")
@example("2016-12-31T23:59:60Z")
@example("2017-01-15T01:30:15.1234567890Z")
@example("2017-01-15T01:30:15\u0660Z")
def test_parser_agrees_with_reference_grammar(text: str) -> None:
    expected = reference_parse(text)
    assert _parse_public(text) == expected
    assert _parse_internal(text) == expected
