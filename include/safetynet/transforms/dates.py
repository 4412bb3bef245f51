"""Dates and months in every shape the departments deliver them.

Work is done on the distinct values of a column only (dates repeat a lot), so a
million-row column costs about as much as its few thousand distinct dates.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from safetynet.transforms._common import (
    NUMBER_TYPES,
    WS_PATTERN,
    clean_text,
    extract_ints,
    format_ymd,
    map_uniques,
    nfkc,
    valid_ymd,
)

_TIME = r"(?:(?:T| )[0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]*)?)?(?: ?Z|[+-][0-9]{2}:?[0-9]{2})?)?"
_DATE_RE = rf"^(?P<y>[0-9]{{4}}) ?[-/.年] ?(?P<m>[0-9]{{1,2}}) ?[-/.月] ?(?P<d>[0-9]{{1,2}}) ?日?{_TIME}$"
_COMPACT_RE = r"^(?P<y>[0-9]{4})(?P<m>[0-9]{2})(?P<d>[0-9]{2})$"
_SERIAL_RE = r"^[0-9]{1,5}(?:\.[0-9]+)?$"
_MONTH_RE = r"^(?P<y>[0-9]{4}) ?[-/.年] ?(?P<m>[0-9]{1,2}) ?月?$"
_COMPACT_MONTH_RE = r"^(?P<y>[0-9]{4})(?P<m>[0-9]{2})$"
_EXCEL_MAX = 2958465  # 9999-12-31, the last date Excel can hold


def _prepare(t: pd.Series) -> pd.Series:
    """NFKC, whitespace runs collapsed to one space, trimmed."""
    return nfkc(t).str.replace(WS_PATTERN, " ", regex=True).str.strip()


def _from_serials(x: np.ndarray) -> pd.Series:
    """Excel 1900-system serials (45356 → 2024-03-05); integral 8-digit numbers are YYYYMMDD.

    Serials keep Excel's fictitious 1900-02-29 (serial 60) out: it gives NA, and
    serials 1–59 count from 1900-01-01. The time of day (fraction) is dropped.
    """
    x = np.asarray(x, dtype=float)
    finite = np.isfinite(x)
    n = np.where(finite, np.floor(np.where(finite, x, 0)), 0).astype(np.int64)
    serial = finite & (n >= 1) & (n <= _EXCEL_MAX) & (n != 60)
    days = np.datetime64("1899-12-30", "D") + np.where(n < 60, n + 1, n).astype("m8[D]")
    out = pd.Series(pd.NA, index=range(len(x)), dtype="string")
    if serial.any():
        out[serial] = np.datetime_as_string(days[serial], unit="D")
    ymd = finite & (x == n) & (n >= 10000101) & (n <= 99991231)
    if ymd.any():
        y, m, d = n // 10000, n // 100 % 100, n % 100
        ok = ymd & valid_ymd(y, m, d)
        out[ok] = format_ymd(y, m, d, ok)[ok]
    return out


def _from_text(t: pd.Series) -> pd.Series:
    """Parse a `string` Series of date texts; positional result, NA where unparseable."""
    t = _prepare(t).reset_index(drop=True)
    out = pd.Series(pd.NA, index=t.index, dtype="string")
    for pattern in (_DATE_RE, _COMPACT_RE):
        hit, (y, m, d) = extract_ints(t, pattern)
        hit &= out.isna().to_numpy(bool)
        if hit.any():
            ok = hit & valid_ymd(y, m, d)
            out[ok] = format_ymd(y, m, d, ok)[ok]
    serial = t.str.fullmatch(_SERIAL_RE).fillna(False).to_numpy(bool)
    if serial.any():
        out[serial] = _from_serials(pd.to_numeric(t[serial]).to_numpy(float)).to_numpy()
    return out


def _from_object(v: object) -> str | None:
    """A date/datetime/Timestamp cell as 'YYYY-MM-DD' (calendar date as written, no tz shift)."""
    if isinstance(v, np.datetime64):
        v = pd.Timestamp(v)
    if isinstance(v, dt.date):
        return f"{v.year:04d}-{v.month:02d}-{v.day:02d}"
    return None


def _parse_uniques(u: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(u.dtype):
        return u.dt.strftime("%Y-%m-%d").astype("string")
    if pd.api.types.is_numeric_dtype(u.dtype) and not pd.api.types.is_bool_dtype(u.dtype):
        return _from_serials(u.to_numpy(float))
    if isinstance(u.dtype, pd.StringDtype):
        return _from_text(u)
    out = pd.Series([_from_object(v) for v in u], dtype="string")
    is_str = np.array([isinstance(v, str) for v in u], dtype=bool)
    is_num = np.array(
        [isinstance(v, NUMBER_TYPES) and not isinstance(v, bool | np.bool_) for v in u], dtype=bool
    )
    if is_str.any():
        out[is_str] = _from_text(u[is_str].astype("string")).to_numpy()
    if is_num.any():
        out[is_num] = _from_serials(u[is_num].astype(float).to_numpy()).to_numpy()
    return out


def parse_dates(s: pd.Series) -> pd.Series:
    """'YYYY-MM-DD' strings from any delivered date form; NA where empty or unparseable.

    Accepts `2024-03-05`, `2024/3/5`, `2024.3.5`, `20240305`, `2024年3月5日`
    (full-width digits and spaces too), a trailing time of day (dropped),
    date/datetime/Timestamp cells, and Excel serials (numbers, or numeric
    strings of at most 5 digits). An 8-digit string is always YYYYMMDD.
    """
    return map_uniques(s, _parse_uniques, "string")


def unparsed_mask(raw: pd.Series, parsed: pd.Series) -> pd.Series:
    """True where a raw cell held something but parsing gave NA: the rows to quarantine."""
    present = clean_text(raw).notna().to_numpy(bool)
    return pd.Series(present & parsed.isna().to_numpy(bool), index=raw.index, dtype=bool)


def _month_uniques(u: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(u.dtype):
        return u.dt.strftime("%Y-%m").astype("string")
    values = list(u)
    out = pd.Series([(_from_object(v) or "")[:7] or None for v in values], dtype="string")
    text = pd.Series(
        [
            v
            if isinstance(v, str)
            else f"{v:.0f}"
            if isinstance(v, NUMBER_TYPES) and not isinstance(v, bool | np.bool_) and float(v).is_integer()
            else None
            for v in values
        ],
        dtype="string",
    )
    t = _prepare(text)
    for pattern in (_MONTH_RE, _COMPACT_MONTH_RE):
        hit, (y, m) = extract_ints(t, pattern)
        if hit.any():
            ok = hit & valid_ymd(y, m, np.ones_like(y))
            out[ok] = format_ymd(y, m, np.ones_like(y), ok)[ok].str.slice(0, 7)
    return out


def parse_months(s: pd.Series) -> pd.Series:
    """'YYYY-MM' from `YYYYMM` (text or integer), `YYYY-MM`, `YYYY/M`, `YYYY年M月` or a date cell.

    A full date text (`2024-10-01`) is not a month and gives NA.
    """
    return map_uniques(s, _month_uniques, "string")
