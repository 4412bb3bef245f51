"""Shared helpers for the normalisation transforms (private).

Everything here is vectorised over pandas Series; per-value Python code only
ever runs on the distinct values of a column (`map_uniques`).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Callable
from decimal import Decimal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

SPACE_CHARS = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
    + "".join(chr(c) for c in range(0x2000, 0x200B))
    + "\u2028\u2029\u202f\u205f\u3000"
)
"""Every character Python's ``str.isspace()`` accepts, which is what ``re`` takes ``\\s`` for
on text (a test checks both over all of Unicode). Literal characters (not ``\\uXXXX``
escapes) so a class of them means the same in Python's ``re`` and in RE2."""
SPACE_PATTERN = f"[{SPACE_CHARS}]+"
"""Python's ``\\s+``, in a form Arrow runs (RE2's ``\\s`` means fewer characters, so pandas
sends a ``\\s`` pattern through Python row by row)."""
WS_CHARS = SPACE_CHARS + "\u200b\u2060\ufeff"
"""The whitespace removed from values: ``SPACE_CHARS`` plus the invisible zero-width space,
word joiner and BOM that copy-paste leaves behind."""
WS_PATTERN = f"[{WS_CHARS}]+"
WS_RE = re.compile(WS_PATTERN)

NUMBER_TYPES = (int, float, Decimal, np.integer, np.floating)


def is_missing(value: object) -> bool:
    """True for None, NaN, pd.NA and NaT: the values that mean 'no value'."""
    if value is None:
        return True
    try:
        return bool(pd.api.types.is_scalar(value) and pd.isna(value))
    except (TypeError, ValueError):
        return False


def scalar_text(value: object) -> str | None:
    """Render one cell as text; integral numbers lose their '.0' (IDs read as numbers)."""
    if is_missing(value):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, NUMBER_TYPES):
        number = float(value)
        if math.isfinite(number) and number == int(number):
            return str(int(value)) if isinstance(value, int | np.integer) else str(int(number))
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def clean_scalar(value: object) -> str | None:
    """NFKC then remove all whitespace; empty gives None."""
    text = scalar_text(value)
    if text is None:
        return None
    text = WS_RE.sub("", unicodedata.normalize("NFKC", text))
    return text or None


def map_uniques(s: pd.Series, fn: Callable[[pd.Series], pd.Series], dtype: str) -> pd.Series:
    """Apply `fn` to the distinct non-missing values only and spread the result back.

    Missing inputs give NA. Values that compare equal (1 and 1.0) share a result.
    """
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    done = fn(pd.Series(uniques, dtype=uniques.dtype))
    values = pd.array(done.to_numpy(), dtype=dtype)
    return pd.Series(values.take(codes, allow_fill=True), index=s.index, dtype=dtype)


def to_text(s: pd.Series) -> pd.Series:
    """Any Series as nullable `string`, with numbers rendered like `scalar_text`."""
    if isinstance(s.dtype, pd.StringDtype) or pd.api.types.is_integer_dtype(s.dtype):
        return s.astype("string")

    def render(u: pd.Series) -> pd.Series:
        return pd.Series([scalar_text(v) for v in u], dtype="string")

    return map_uniques(s, render, "string")


def strip_ws(t: pd.Series) -> pd.Series:
    """Remove all whitespace from a `string` Series, touching only rows that have some."""
    has = t.str.contains(WS_PATTERN, regex=True).fillna(False).to_numpy(bool)
    if has.any():
        t = t.copy()
        t[has] = t[has].str.replace(WS_PATTERN, "", regex=True)
    return t


def nfkc(t: pd.Series) -> pd.Series:
    """NFKC of a `string` Series, exactly as ``unicodedata`` gives it, at C speed.

    Arrow (utf8proc, a newer Unicode) finds the rows NFKC changes; only those go
    through Python's ``unicodedata``, so a character Python's older Unicode leaves
    alone is never changed. Stability policy: a row Arrow leaves alone, Python does too.
    """
    arrow = pa.array(t.array)
    changed = pc.not_equal(pc.utf8_normalize(arrow, form="NFKC"), arrow)
    wide = np.asarray(pc.fill_null(changed, False), dtype=bool)
    if wide.any():
        t = t.copy()
        t[wide] = t[wide].str.normalize("NFKC")
    return t


def clean_text(s: pd.Series) -> pd.Series:
    """NFKC, all whitespace removed, empty → NA (vectorised `clean_scalar`)."""
    t = strip_ws(nfkc(to_text(s)))
    return t.mask(t == "", pd.NA)


def extract_ints(t: pd.Series, pattern: str) -> tuple[np.ndarray, list[np.ndarray]]:
    """Which rows of a `string` Series match ``pattern`` and its named groups as integers (0 elsewhere).

    ``pattern`` is anchored (``^…$``) and names its groups (RE2 wants names), each of
    ASCII digits; it runs in Arrow (RE2), not row by row through Python's ``re`` as
    ``Series.str.extract`` does. On text without line breaks (callers trim whitespace)
    both engines agree: ``tests/unit/transforms`` compares them.
    """
    found = pc.extract_regex(pa.array(t.array, type=pa.large_string()), pattern)
    hit = np.asarray(pc.is_valid(found), dtype=bool)
    parts = [np.asarray(pc.fill_null(pc.cast(pc.struct_field(found, [name]), pa.int64()), 0), dtype=np.int64)
             for name in re.compile(pattern).groupindex]
    return hit, parts


def valid_ymd(y: np.ndarray, m: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Boolean mask of (year, month, day) triples that are real Gregorian dates."""
    y, m, d = (np.asarray(a, dtype=np.int64) for a in (y, m, d))
    leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
    month_len = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])
    last = month_len[np.clip(m, 0, 12)] + ((m == 2) & leap)
    return (y >= 1) & (y <= 9999) & (m >= 1) & (m <= 12) & (d >= 1) & (d <= last)


def format_ymd(y: np.ndarray, m: np.ndarray, d: np.ndarray, ok: np.ndarray) -> pd.Series:
    """'YYYY-MM-DD' strings where `ok`, NA elsewhere (positional, RangeIndex)."""
    out = pd.Series(pd.NA, index=range(len(ok)), dtype="string")
    if ok.any():
        days = (
            (np.asarray(y)[ok] - 1970).astype("M8[Y]").astype("M8[M]")
            + (np.asarray(m)[ok] - 1).astype("m8[M]")
        ).astype("M8[D]") + (np.asarray(d)[ok] - 1).astype("m8[D]")
        out[ok] = np.datetime_as_string(days, unit="D")
    return out
