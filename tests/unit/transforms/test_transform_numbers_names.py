"""Numbers (thousands separators, spaces) and names (inner spaces, full-width)."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safetynet.transforms import normalize_names, parse_numbers, unparsed_mask

FAST = settings(max_examples=150, deadline=None, database=None)


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1,234.5", 1234.5),
        (" 1,234.5 ", 1234.5),
        ("\u30001234\t", 1234.0),
        ("１，２３４．５", 1234.5),  # full-width digits, comma and point
        ("1，234", 1234.0),
        ("1,234,567", 1234567.0),
        ("-12.5", -12.5),
        ("+3", 3.0),
        (".5", 0.5),
        ("5.", 5.0),
        ("1e3", 1000.0),
        ("0", 0.0),
        (12, 12.0),
        (12.75, 12.75),
        (np.int64(7), 7.0),
        (Decimal("1.25"), 1.25),
        ("", None),
        ("  ", None),
        (None, None),
        (np.nan, None),
        ("abc", None),
        ("1 234", None),  # an inner space is not a separator
        ("12kWh", None),
        ("1.2.3", None),
        ("nan", None),
        ("inf", None),
        (True, None),
    ],
)
def test_parse_numbers(raw: object, expected: float | None) -> None:
    out = parse_numbers(pd.Series([raw], dtype=object))
    assert str(out.dtype) == "Float64"
    got = out.iloc[0]
    assert (None if got is pd.NA else got) == expected


def test_parse_numbers_typed_columns_and_mask() -> None:
    assert parse_numbers(pd.Series([1, 2], dtype="int64")).tolist() == [1.0, 2.0]
    assert parse_numbers(pd.Series([1.5, np.nan])).tolist() == [1.5, pd.NA]
    raw = pd.Series([" 1,000 ", None, "", "x", "2"], dtype="str", index=list("abcde"))
    out = parse_numbers(raw)
    assert out.tolist() == [1000.0, pd.NA, pd.NA, pd.NA, 2.0]
    assert list(out.index) == list("abcde")
    assert unparsed_mask(raw, out).tolist() == [False, False, False, True, False]


@FAST
@given(st.decimals(-(10**9), 10**9, places=2, allow_nan=False, allow_infinity=False), st.data())
def test_formatted_numbers_round_trip(value: Decimal, data: st.DataObject) -> None:
    text = f"{value:,.2f}"
    if data.draw(st.booleans()):
        text = full_width(text)
    pad = st.sampled_from(["", " ", "\u3000", "\t"])
    text = data.draw(pad) + text + data.draw(pad)
    assert parse_numbers(pd.Series([text])).iloc[0] == float(value)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("张 三", "张三"),
        (" 张\u3000三 ", "张三"),
        ("李\t四\n", "李四"),
        ("ＡＢＣ　王五", "ABC王五"),
        ("", None),
        ("\u3000", None),
        (None, None),
    ],
)
def test_normalize_names(raw: object, expected: str | None) -> None:
    out = normalize_names(pd.Series([raw], dtype=object))
    assert isinstance(out.dtype, pd.StringDtype) and out.dtype.na_value is pd.NA
    got = out.iloc[0]
    assert (None if got is pd.NA else got) == expected


@FAST
@given(st.text(st.sampled_from(list("张三李四王五ＡＢａ1１ \u3000\t")), max_size=10))
def test_names_have_no_whitespace_and_are_idempotent(raw: str) -> None:
    once = normalize_names(pd.Series([raw]))
    twice = normalize_names(once)
    assert once.equals(twice)
    value = once.iloc[0]
    if value is not pd.NA:
        assert value and not any(c.isspace() for c in value)
        assert not any("\uff01" <= c <= "\uff5e" for c in value)
