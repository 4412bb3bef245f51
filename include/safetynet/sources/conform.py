"""Turn one delivered table into warehouse rows: normalise, de-duplicate, quarantine.

Pure pandas, vectorised per column. Every row read ends up in exactly one of
three places — loaded, quarantined (with row number, column and reason) or
counted as a duplicate (identical as delivered, or once normalised), so
``read == loaded + quarantined + duplicates``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd

from safetynet.sources.specs import TableSpec
from safetynet.transforms import (
    normalize_addresses,
    normalize_ids,
    normalize_names,
    parse_dates,
    parse_months,
    parse_numbers,
    unparsed_mask,
)
from safetynet.warehouse.schema import core_member

ID_NORM_WIDTH: int = core_member.c.id_norm.type.length  # type: ignore[attr-defined]
"""Width of every ``*_norm`` ID column (``schema._id``)."""


@dataclass
class Conformed:
    """The outcome of conforming one delivered table."""

    rows: pd.DataFrame
    quarantine: pd.DataFrame  # row_number, column_name, reason, raw
    read: int
    duplicates: int

    @property
    def loaded(self) -> int:
        """Rows that go to the warehouse."""
        return len(self.rows)


def conform(raw: pd.DataFrame, spec: TableSpec, prefixes: list[str], first_row: int = 2) -> Conformed:
    """Conform ``raw`` (delivered columns, in delivery order) to ``spec``'s target."""
    read = len(raw)
    raw = raw.reset_index(drop=True)
    row_number = pd.Series(range(first_row, first_row + read), dtype="int64")
    dup = raw.astype("string").duplicated(keep="first")
    raw, row_number = raw[~dup].reset_index(drop=True), row_number[~dup].reset_index(drop=True)
    out = pd.DataFrame(index=raw.index)
    bad: list[tuple[pd.Series, str, str]] = []  # (mask, column, reason)
    for src, (dst, kind) in spec.columns.items():
        values = raw[src]
        if kind == "id":
            ids = normalize_ids(values)
            out[f"{dst}_raw"] = _trimmed(values)
            # Clipped to the column's width: only 18-character values ever join, and an
            # over-long one would fail PostgreSQL's COPY, which logs the value in full.
            out[f"{dst}_norm"] = ids["id_norm"].str.slice(0, ID_NORM_WIDTH)
            out[f"{dst}_birth"] = ids["id_birth"]
            out[f"{dst}_problem"] = ids["id_problem"]
        elif kind == "name":
            out[dst] = normalize_names(values)
        elif kind == "address":
            out[dst] = _trimmed(values)
            out[f"{dst}_norm"] = normalize_addresses(values, prefixes)
        elif kind in ("date", "number", "month"):
            parser = {"date": parse_dates, "number": parse_numbers, "month": parse_months}[kind]
            out[dst] = parser(values)
            bad.append((unparsed_mask(values, out[dst]), src, f"unparseable {kind}"))
        elif kind == "code":
            out[dst] = _trimmed(values).str.replace(r"\s+", "", regex=True).astype("string")
        else:
            out[dst] = _trimmed(values)
            if kind == "key":
                bad.append((out[dst].isna(), src, "missing key"))
    for column, (origin, how) in spec.derived.items():
        if how == "month_of":  # 'YYYY-MM' of a parsed date, so SQL compares months portably
            out[column] = out[origin].str[:7]
    same = out.astype("string").duplicated(keep="first")  # equal once normalised (e.g. " 12 " vs "12")
    if same.any():
        keep = ~same
        raw, out, row_number = raw[keep], out[keep], row_number[keep]
        bad = [(m[keep], c, r) for m, c, r in bad]
    duplicates = int(dup.sum() + same.sum())
    if spec.key:
        out["row_key"] = _row_key(out, spec.key)
        keyed = out[list(spec.key)]
        clash = keyed.duplicated(keep=False) & keyed.notna().all(axis=1)
        bad.append((clash, ",".join(spec.key), "conflicting rows for the same key"))
    return _split(raw, out, row_number, bad, read, duplicates)


def _row_key(out: pd.DataFrame, key: tuple[str, ...]) -> pd.Series:
    """One text key per row (parts joined by U+001F), so upserts delete by one column."""
    parts = [out[c].astype("string").fillna("") for c in key]
    joined = parts[0]
    for part in parts[1:]:
        joined = joined + "\x1f" + part
    return joined


def _trimmed(values: pd.Series) -> pd.Series:
    s = values.astype("string").str.strip()
    return s.mask(s == "")


def _split(
    raw: pd.DataFrame,
    out: pd.DataFrame,
    row_number: pd.Series,
    bad: list[tuple[pd.Series, str, str]],
    read: int,
    duplicates: int,
) -> Conformed:
    reason = pd.Series(pd.NA, index=out.index, dtype="string")
    column = pd.Series(pd.NA, index=out.index, dtype="string")
    for mask, col, why in bad:
        hit = mask.fillna(False).astype(bool) & reason.isna()
        reason[hit] = why
        column[hit] = col
    is_bad = reason.notna()
    q_raw = raw[is_bad]
    quarantine = pd.DataFrame({
        "row_number": row_number[is_bad],
        "column_name": column[is_bad],
        "reason": reason[is_bad],
        "raw": [json.dumps(r, ensure_ascii=False, default=str)
                for r in q_raw.astype(object).where(q_raw.notna(), None).to_dict("records")],
    })
    rows = out[~is_bad].copy()
    rows["_row"] = row_number[~is_bad]
    return Conformed(rows.reset_index(drop=True), quarantine.reset_index(drop=True), read, duplicates)
