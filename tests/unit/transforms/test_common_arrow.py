"""The Arrow (RE2) forms of Python regular expressions used by the transforms agree with ``re``."""

from __future__ import annotations

import re

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from safetynet.transforms._common import SPACE_CHARS, SPACE_PATTERN, WS_CHARS, extract_ints
from safetynet.transforms.dates import _COMPACT_MONTH_RE, _COMPACT_RE, _DATE_RE, _MONTH_RE

FAST = settings(max_examples=300, deadline=None, database=None)
PATTERNS = (_DATE_RE, _COMPACT_RE, _MONTH_RE, _COMPACT_MONTH_RE)
# the characters the date and month patterns are made of, and a few that are not
TEXTS = st.text(alphabet="0123456789-/.年月日 T:Z+３x", max_size=26)


def test_space_chars_are_what_re_calls_whitespace() -> None:
    every = [chr(c) for c in range(0x110000)]
    spaces = {c for c in every if c.isspace()}
    assert set(SPACE_CHARS) == spaces == {c for c in every if re.fullmatch(r"\s", c)}
    assert set(WS_CHARS) - set(SPACE_CHARS) == {"\u200b", "\u2060", "\ufeff"}  # removed from values too


@FAST
@given(st.lists(st.text(alphabet="ab \t\x0b\u3000\u200b\u2060\x1c\n", max_size=6), max_size=8))
def test_space_pattern_in_arrow_is_python_backslash_s(values: list[str]) -> None:
    s = pd.Series(values, dtype="string")
    assert list(s.str.replace(SPACE_PATTERN, "", regex=True)) == [re.sub(r"\s+", "", v) for v in values]


def _python(values: list[str | None], pattern: str) -> list[tuple[int, ...] | None]:
    out: list[tuple[int, ...] | None] = []
    for v in values:
        m = re.search(pattern, v) if v is not None else None
        out.append(tuple(int(g) for g in m.groups()) if m else None)
    return out


@FAST
@given(st.lists(st.one_of(TEXTS, st.none()), max_size=12), st.sampled_from(PATTERNS))
def test_extract_ints_matches_python_re(values: list[str | None], pattern: str) -> None:
    hit, parts = extract_ints(pd.Series(values, dtype="string"), pattern)
    arrow = [tuple(int(p[i]) for p in parts) if hit[i] else None for i in range(len(values))]
    assert arrow == _python(values, pattern)


def test_extract_ints_on_dates_and_nothing() -> None:
    hit, (y, m, d) = extract_ints(pd.Series(["2024-3-5", "2024年03月05日 12:00", "20240305", None],
                                            dtype="string"), _DATE_RE)
    assert hit.tolist() == [True, True, False, False]
    assert (y.tolist(), m.tolist(), d.tolist()) == ([2024, 2024, 0, 0], [3, 3, 0, 0], [5, 5, 0, 0])
    hit, parts = extract_ints(pd.Series([], dtype="string"), _MONTH_RE)
    assert len(hit) == 0 and [len(p) for p in parts] == [0, 0]
