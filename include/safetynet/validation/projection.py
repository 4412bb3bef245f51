"""The frame Great Expectations sees: a staged item without any personal data.

GX copies failing values into its results and Data Docs, so it must never be
given ID numbers, birth dates, names or addresses. It gets the staged item's
other columns plus a few derived ones the suites ask for by name:

- ``<p>_present``: the ID number was given at all (``<p>_raw`` not empty);
- ``<p>_hash``: a keyed hash of the normalised ID, for uniqueness checks that
  involve a person. The key is random per run, so a hash seen in a report can be
  linked neither to an ID number nor to another run.

Only the needed parquet columns are read, which keeps a 2M-row item cheap.
Freshness columns (text dates, ``YYYY-MM`` months) become datetimes so GX can
compare their maximum with a date.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from safetynet.validation.settings import is_personal, referenced_columns

DERIVED = ("_present", "_hash")


def new_salt() -> str:
    """A per-run hash key (pandas' keyed hash takes exactly 16 characters)."""
    return secrets.token_hex(8)


def needed_columns(suite: dict) -> set[str]:
    """Columns a suite names anywhere (kwargs, row conditions, the expected column set)."""
    out: set[str] = set()
    for exp in suite["expectations"]:
        out.update(referenced_columns(exp["kwargs"]))
        out.update(exp["kwargs"].get("column_set", []))
    return out


def freshness_columns(suite: dict) -> set[str]:
    """Columns whose newest value a suite compares with a date."""
    return {e["kwargs"]["column"] for e in suite["expectations"]
            if (e.get("meta") or {}).get("check") == "freshness"}


def project(path: Path, suite: dict, salt: str) -> pd.DataFrame:
    """Read a staged item's rows as GX may see them (see the module docstring)."""
    staged = pq.read_schema(path).names
    wanted = needed_columns(suite)
    derived = sorted(c for c in wanted if c not in staged and c.endswith(DERIVED))
    sources = {c: _source_column(c) for c in derived}
    plain = [c for c in staged if not is_personal(c)]
    frame = pd.read_parquet(path, columns=sorted(set(plain) | {s for s in sources.values() if s in staged}))
    pa.default_memory_pool().release_unused()  # the reader's buffers: ~250 MB for 4.7M rows
    for column, source in sources.items():
        if source not in frame.columns:
            continue  # the column-set expectation reports what is missing
        values = frame[source]
        if column.endswith("_present"):
            frame[column] = values.notna()
        else:
            hashed = pd.util.hash_pandas_object(values.fillna(""), index=False, hash_key=salt)
            frame[column] = hashed.astype("UInt64").mask(values.isna())
    for column in freshness_columns(suite) & set(frame.columns):
        frame[column] = as_datetime(frame[column])
    for column in frame.columns:  # numpy floats: GX's range checks are vectorised only for these
        if pd.api.types.is_numeric_dtype(frame[column]) and not pd.api.types.is_bool_dtype(frame[column]) \
                and column != "_row" and not column.endswith("_hash"):
            frame[column] = frame[column].astype("float64")
    return frame[[c for c in frame.columns if not is_personal(c)]]


def _source_column(derived: str) -> str:
    prefix = derived.rsplit("_", 1)[0]
    return f"{prefix}_raw" if derived.endswith("_present") else f"{prefix}_norm"


def as_datetime(values: pd.Series) -> pd.Series:
    """ISO dates, timestamps or ``YYYY-MM`` months as datetimes (a month is its first day).

    Each distinct value is parsed once: 4.7M payment rows hold a dozen months, and
    text operations over every row cost ~600 MB at that size.
    """
    codes, uniques = pd.factorize(values)
    text = pd.Series([*uniques, None], dtype="string").str.slice(0, 10)  # the last: missing values
    text = text.where(text.str.len() != 7, text + "-01")
    parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce").to_numpy()
    return pd.Series(parsed[np.where(codes < 0, len(uniques), codes)], index=values.index)
