"""Rows deleted at a database source, found by comparing key columns (docs/over-time.md).

The replica keeps no tombstones, so an incremental read never sees a deletion:
on every read, the key columns the warehouse holds are compared with the
source's. Each side is one query fetched as plain DB-API tuples (building a
SQLAlchemy ``Row`` per row, and pandas probing each for a mapping interface, cost
several times the fetch itself) and turned into Arrow text; the source's keys are
trimmed as conform trims them (the same Arrow function), and Arrow's hashed
``is_in`` finds the warehouse's keys the source no longer has: no Python loop over
the rows, no sort, no merge.
"""

from __future__ import annotations

from operator import itemgetter

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
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
    present = pc.drop_null(_trim(there))
    gone = pc.filter(here, pc.and_(pc.is_valid(here), pc.invert(pc.is_in(here, value_set=present))))
    return pd.Series(sorted(pc.unique(gone).to_pylist()), dtype=object, name="k").astype("string")


def vanished_groups(cfg: Config, engine: Engine, spec: TableSpec) -> set[str]:
    """Groups holding a (group, ID) pair in the warehouse that the source no longer has:
    a member row deleted (or changed without a new ``updated_at``) at the source."""
    group, id_col = str(spec.replace_group), str(spec.group_id_column)
    g_col, i_col = spec.columns[group][0], spec.columns[id_col][0] + "_raw"
    groups, here = _pairs(get_engine(cfg.warehouse_url), f"SELECT {g_col}, {i_col} FROM {spec.target}")
    _, there = _pairs(engine, f"SELECT {group}, {id_col} FROM {spec.name}")
    gone = pc.filter(groups, pc.invert(pc.is_in(here, value_set=there)))
    return set(pc.unique(gone).to_pylist()) - {""}


def _pairs(engine: Engine, sql: str) -> tuple[pa.Array, pa.Array]:
    """A two-column query's groups (trimmed, an absent one as ``""``) and its pairs, each as one
    text that only an equal pair shares: the group's length in characters, ``:``, the group,
    ``:`` and the ID (trimmed, absent as ``""``)."""
    empty = pa.scalar("", pa.large_string())
    g, i = (pc.fill_null(_trim(values), empty) for values in _columns(engine, sql, 2))
    length = pc.cast(pc.utf8_length(g), pa.large_string())
    return g, pc.binary_join_element_wise(length, g, i, pa.scalar(":", pa.large_string()))


def _columns(engine: Engine, sql: str, width: int) -> list[pa.Array]:
    """A query's ``width`` columns as Arrow text, fetched as plain DB-API tuples (a column of
    numbers is rendered as pandas renders it as ``string``)."""
    with engine.connect() as conn:
        rows = conn.execute(text(sql)).cursor.fetchall()  # type: ignore[union-attr]
    return [_text(list(map(itemgetter(k), rows))) for k in range(width)]


def _text(values: list[object]) -> pa.Array:
    try:
        return pa.array(values, type=pa.large_string())
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # not all text: as conform would see it
        return pa.array(pd.Series(values, dtype=object).astype("string"), type=pa.large_string())


def _trim(values: pa.Array) -> pa.Array:
    """As conform trims keys and raw IDs (pandas' ``str.strip`` is this Arrow function): surrounding
    whitespace removed, empty as missing."""
    trimmed = pc.utf8_trim_whitespace(values)
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.large_string()), trimmed)
