"""Date and month parsing (sources.md "Dirt": dates, XLSX date cells and serials)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safetynet.transforms import parse_dates, parse_months, unparsed_mask

FAST = settings(max_examples=150, deadline=None, database=None)
EXCEL_EPOCH = dt.date(1899, 12, 30)  # valid for serials from 61 (1900-03-01) on


def one(value: object) -> object:
    got = parse_dates(pd.Series([value], dtype=object)).iloc[0]
    return None if got is pd.NA else got


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@pytest.mark.parametrize(
    "raw",
    [
        "2024-03-05",
        "2024/3/5",
        "2024/03/05",
        "2024.3.5",
        "20240305",
        "2024年3月5日",
        "2024年03月05日",
        "2024 年 3 月 5 日",
        "２０２４年３月５日",
        "\u3000２０２４－０３－０５ ",
        "2024-03-05 10:11:12",
        "2024-03-05 10:11",
        "2024-03-05T10:11:12.123+08:00",
        "2024/3/5 0:00:00",
        dt.date(2024, 3, 5),
        dt.datetime(2024, 3, 5, 23, 59),
        pd.Timestamp("2024-03-05 08:00"),
        np.datetime64("2024-03-05T12:00"),
        45356,
        45356.0,
        45356.99,  # time of day is dropped
        np.int64(45356),
        "45356",
        " 45356.5 ",
        20240305,  # an 8-digit number cannot be a serial (Excel stops at 2958465)
    ],
)
def test_every_form_gives_the_same_date(raw: object) -> None:
    assert one(raw) == "2024-03-05"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2024-02-29", "2024-02-29"),
        ("2023-02-29", None),
        ("2000-02-29", "2000-02-29"),
        ("1900-02-29", None),
        ("20230229", None),
        ("2024-04-31", None),
        ("2024-13-01", None),
        ("2024-00-10", None),
        ("12345678", None),  # 8 digits is YYYYMMDD, never a serial
        ("123456", None),  # 6-digit strings are not serials
        ("2024-3-510:11", None),  # glued time: ambiguous, refused
        ("2024年3月", None),
        ("junk", None),
        (1, "1900-01-01"),
        (59, "1900-02-28"),
        (60, None),  # Excel's fictitious 1900-02-29
        (61, "1900-03-01"),
        (0, None),
        (-5, None),
        (2958465, "9999-12-31"),
        (2958466, None),
        (True, None),
        (dt.time(10, 0), None),
    ],
)
def test_boundaries(raw: object, expected: str | None) -> None:
    assert one(raw) == expected


@pytest.mark.parametrize(
    "s",
    [
        pd.Series(pd.to_datetime(["2024-03-05 10:00", None])),
        pd.Series(pd.to_datetime(["2024-03-05 23:30", None]).tz_localize("Asia/Shanghai")),
        pd.Series([45356, pd.NA], dtype="Int64"),
        pd.Series([45356.25, np.nan]),
        pd.Series(["2024/3/5", None], dtype="str"),
        pd.Series(["2024年3月5日", None], dtype="string"),
    ],
)
def test_typed_columns(s: pd.Series) -> None:
    out = parse_dates(s.set_axis([7, 9]))
    assert isinstance(out.dtype, pd.StringDtype) and out.dtype.na_value is pd.NA
    assert out.tolist() == ["2024-03-05", pd.NA]
    assert list(out.index) == [7, 9]


def test_unparsed_mask_flags_only_non_empty_failures() -> None:
    raw = pd.Series(["2024-03-05", "", "  ", None, np.nan, "2023-02-29", "x", 60, 45356], dtype=object)
    mask = unparsed_mask(raw, parse_dates(raw))
    assert mask.dtype == bool
    assert mask.tolist() == [False, False, False, False, False, True, True, True, False]


@FAST
@given(st.dates(dt.date(1900, 3, 1), dt.date(9999, 12, 31)), st.data())
def test_any_rendering_round_trips(day: dt.date, data: st.DataObject) -> None:
    forms = [
        day.isoformat(),
        f"{day.year}/{day.month}/{day.day}",
        f"{day:%Y%m%d}",
        f"{day.year}年{day.month}月{day.day}日",
        full_width(f"{day.year} 年 {day.month:02d} 月 {day.day} 日"),
        f"{day.isoformat()} 12:34:56",
        dt.datetime.combine(day, dt.time(18, 30)),
        day,
        (day - EXCEL_EPOCH).days,
        (day - EXCEL_EPOCH).days + 0.5,
    ]
    if (day - EXCEL_EPOCH).days < 100000:
        forms.append(str((day - EXCEL_EPOCH).days))
    picked = data.draw(st.lists(st.sampled_from(forms), min_size=1, max_size=6))
    out = parse_dates(pd.Series(picked, dtype=object))
    assert out.tolist() == [day.isoformat()] * len(picked)
    assert not unparsed_mask(pd.Series(picked, dtype=object), out).any()


@FAST
@given(st.text(st.sampled_from(list("0123456789-/年月日 .:T")), max_size=14))
def test_output_is_always_a_real_date_or_na(raw: str) -> None:
    got = one(raw)
    if got is not None:
        assert dt.date.fromisoformat(got).isoformat() == got


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("202410", "2024-10"),
        ("2024-10", "2024-10"),
        ("2024/1", "2024-01"),
        ("2024/01", "2024-01"),
        ("2024年3月", "2024-03"),
        ("２０２４ 年 ３ 月", "2024-03"),
        (" 2024-10 ", "2024-10"),
        (202410, "2024-10"),
        (202410.0, "2024-10"),
        (dt.date(2024, 10, 17), "2024-10"),
        (pd.Timestamp("2024-10-01"), "2024-10"),
        ("2024-13", None),
        ("202400", None),
        ("20241", None),
        ("2024-10-01", None),
        ("", None),
        (None, None),
        ("Oct 2024", None),
    ],
)
def test_parse_months(raw: object, expected: str | None) -> None:
    got = parse_months(pd.Series([raw], dtype=object)).iloc[0]
    assert (None if got is pd.NA else got) == expected


@FAST
@given(st.integers(1900, 9999), st.integers(1, 12))
def test_months_round_trip(year: int, month: int) -> None:
    forms = [f"{year}{month:02d}", f"{year}-{month:02d}", f"{year}/{month}", f"{year}年{month}月"]
    out = parse_months(pd.Series([*forms, year * 100 + month], dtype=object))
    assert out.tolist() == [f"{year}-{month:02d}"] * 5
