"""Rows deleted at a database source, found by comparing key columns (docs/over-time.md).

The replica keeps no tombstones, so an incremental read never sees a deletion:
on every read, the key columns the warehouse holds are compared with the
source's. Each side is one query fetched as plain DB-API tuples (building a
SQLAlchemy ``Row`` per row, and pandas probing each for a mapping interface, cost
several times the fetch itself), the source's keys are trimmed as conform trims
them (vectorised, with the same string operations), and the two sides are
compared as sets: a hash lookup per key, no sort, no merge.
"""

from __future__ import annotations

from operator import itemgetter

import pandas as pd
from sqlalchemy import Engine, text

from safetynet.config import Config
from safetynet.sources.specs import TableSpec
from safetynet.warehouse.engine import get_engine


def vanished_keys(cfg: Config, engine: Engine, spec: TableSpec) -> pd.Series:
    """Keys the warehouse holds that the source no longer has: rows deleted at the source.

    Compares the key column alone (one cheap pass each side, the source's trimmed
    as conform trims it). Single-column keys only. Sorted, as ``string`` values.
    """
    (delivered,) = [c for c, (target, _) in spec.columns.items() if target == spec.key[0]]
    (here,) = _columns(get_engine(cfg.warehouse_url), f"SELECT row_key FROM {spec.target}", 1)
    (there,) = _columns(engine, f"SELECT {delivered} FROM {spec.name}", 1)
    present = set(_trim(there).dropna().tolist())
    gone = sorted(k for k in set(here.tolist()) - present if pd.notna(k))
    return pd.Series(gone, dtype=object, name="k").astype("string")


def vanished_groups(cfg: Config, engine: Engine, spec: TableSpec) -> set[str]:
    """Groups holding a (group, ID) pair in the warehouse that the source no longer has:
    a member row deleted (or changed without a new ``updated_at``) at the source."""
    group, id_col = str(spec.replace_group), str(spec.group_id_column)
    g_col, i_col = spec.columns[group][0], spec.columns[id_col][0] + "_raw"
    here = _pairs(get_engine(cfg.warehouse_url), f"SELECT {g_col}, {i_col} FROM {spec.target}")
    there = _pairs(engine, f"SELECT {group}, {id_col} FROM {spec.name}")
    present = set(zip(*there, strict=True))
    return {g for g, i in zip(*here, strict=True) if (g, i) not in present} - {""}


def _pairs(engine: Engine, sql: str) -> tuple[list[str], list[str]]:
    """A two-column query's values, each trimmed with an absent value as ``""``."""
    g, i = (_trim(values).fillna("").tolist() for values in _columns(engine, sql, 2))
    return g, i


def _columns(engine: Engine, sql: str, width: int) -> list[pd.Series]:
    """A query's ``width`` columns as object series, fetched as plain DB-API tuples."""
    with engine.connect() as conn:
        rows = conn.execute(text(sql)).cursor.fetchall()  # type: ignore[union-attr]
    return [pd.Series(list(map(itemgetter(k), rows)), dtype=object) for k in range(width)]


def _trim(values: pd.Series) -> pd.Series:
    """As conform trims keys and raw IDs: text, surrounding whitespace removed, empty as NA."""
    trimmed = values.astype("string").str.strip()
    return trimmed.mask(trimmed == "")
