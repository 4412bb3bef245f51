"""Numeric measures (kWh, m³, m², amounts) delivered as text or as numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from safetynet.transforms._common import NUMBER_TYPES, WS_CHARS, map_uniques, nfkc

# A plain decimal number, optionally signed, optionally with an exponent.
_NUMBER = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"


def _parse_text(t: pd.Series) -> pd.Series:
    """Parse a `string` Series; anything that is not a plain number gives NA."""
    t = nfkc(t).str.strip(WS_CHARS).str.replace(",", "", regex=False)
    ok = t.str.fullmatch(_NUMBER).fillna(False).to_numpy(bool)
    out = pd.Series(pd.NA, index=t.index, dtype="Float64")
    if ok.any():
        out[ok] = pd.to_numeric(t[ok].astype(object)).astype("Float64")
    return out


def _parse_uniques(u: pd.Series) -> pd.Series:
    """Mixed cells: numbers pass through, strings are parsed, anything else is NA."""
    if isinstance(u.dtype, pd.StringDtype):
        return _parse_text(u)
    kinds = [
        "num"
        if isinstance(v, NUMBER_TYPES) and not isinstance(v, bool | np.bool_)
        else "str"
        if isinstance(v, str)
        else "other"
        for v in u
    ]
    kind = pd.Series(kinds, index=u.index)
    out = pd.Series(pd.NA, index=u.index, dtype="Float64")
    is_num, is_str = (kind == "num").to_numpy(), (kind == "str").to_numpy()
    if is_num.any():
        out[is_num] = u[is_num].astype(float).astype("Float64")
    if is_str.any():
        out[is_str] = _parse_text(u[is_str].astype("string"))
    return out


def parse_numbers(s: pd.Series) -> pd.Series:
    """Float64 from `1,234.5`, ` 12 `, full-width digits or real numbers; empty or junk → NA.

    NFKC turns the full-width comma `，` into `,`, so both separators go. Inner
    spaces (`1 234`) are not a separator here: such a value is unparseable, and
    `dates.unparsed_mask(raw, parsed)` flags it for quarantine.
    """
    if pd.api.types.is_numeric_dtype(s.dtype) and not pd.api.types.is_bool_dtype(s.dtype):
        return s.astype("Float64")
    if isinstance(s.dtype, pd.StringDtype):
        return _parse_text(s.astype("string"))
    return map_uniques(s, _parse_uniques, "Float64")
