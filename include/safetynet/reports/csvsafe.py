"""Spreadsheet-safe CSV (outputs.md): no text cell a spreadsheet would run as a formula.

Excel and WPS treat a cell that begins with ``=``, ``+``, ``-`` or ``@`` (and, in
some versions, a tab or a carriage return) as a formula when a CSV is opened, so
a name or a note like ``=HYPERLINK(...)`` delivered by a partner would run on an
inspector's machine. Every such *text* cell is written with a leading ``'``;
numbers stay numbers (a numeric column is never touched). Applied to every CSV
the pipeline publishes.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells starting with a formula trigger begin with ``'``."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if series.dtype.kind in "biufcmM":  # numbers, booleans and dates stay as they are
            continue
        text = series.astype("string")
        risky = text.str.startswith(TRIGGERS, na=False) & series.map(lambda v: isinstance(v, str))
        if risky.any():
            out[column] = series.astype(object).where(~risky, "'" + text.astype(object))
    return out


def write_safe_csv(frame: pd.DataFrame, path: Path) -> int:
    """Write ``frame`` as UTF-8 with BOM (opens cleanly in Excel), LF line ends, formula-safe."""
    spreadsheet_safe(frame).to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\n")
    return len(frame)
