"""Conform a delivered item into the staged batch: rows to Parquet, accounting to ``batch.json``.

Shared by file and database extraction: :func:`conform_stream` conforms an item
block by block (duplicates and key clashes found across blocks as within one),
:func:`check_unparsed_share` refuses an item whose column no longer parses
(schema drift), and :func:`stage_item` writes the quarantine and the item's
accounting entry.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from safetynet.config import Config
from safetynet.progress import Stage
from safetynet.sources.batch import StagedItem, stem
from safetynet.sources.conform import Conformed, conform
from safetynet.sources.drops import DeliveryError
from safetynet.sources.rowhash import KeyHashes, Seen
from safetynet.sources.specs import TableSpec
from safetynet.sources.staged import RowSink, delivered_json, take_rows


def conform_stream(cfg: Config, blocks: Iterable[pd.DataFrame], spec: TableSpec, path: Path, st: Stage,
                   first_row: int = 2, finish: Callable[[Conformed], None] | None = None,
                   ) -> tuple[Conformed, int]:
    """Conform an item block by block into a staged Parquet file; return its accounting.

    Rows go to disk as each block is conformed, so an item is never whole in
    memory; duplicates are found across blocks as within one (``rowhash.Seen``).
    ``finish`` may adjust each conformed block before it is written. The returned
    :class:`Conformed` holds the quarantine and counts, not the rows.
    """
    sink, parts = RowSink(path), []
    ahead = iter(blocks)
    first = list(itertools.islice(ahead, 2))  # one block alone needs no cross-block hashes
    seen = Seen() if len(first) > 1 else None
    try:
        for block in itertools.chain(first, ahead):
            part = conform(block, spec, cfg.address_prefixes, first_row=first_row, seen=seen)
            if finish is not None:
                finish(part)
            sink.write(part.rows)
            parts.append(Conformed(_empty_like(part.rows), part.quarantine, part.read, part.duplicates))
            first_row += len(block)
            st.advance(len(block))
    finally:
        written = sink.close()  # closed before a later check may refuse the item
    if seen is not None and spec.key:
        clashes = key_clashes(path, spec, seen.keys)
        parts.append(Conformed(pd.DataFrame(), clashes, 0, 0))
        written -= len(clashes)
    merged = merge(parts)
    st.result = (f"{merged.read:,} rows read: {written:,} staged, {len(merged.quarantine):,} quarantined, "
                 f"{merged.duplicates:,} duplicates")
    return merged, written


def _empty_like(rows: pd.DataFrame) -> pd.DataFrame:
    """No rows, same columns and types. Not ``rows.iloc[:0]``: that view keeps the whole
    block's buffers alive, and kept per block it held 440 bytes a row of a 2M-row snapshot."""
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in rows.dtypes.items()})


def key_clashes(path: Path, spec: TableSpec, keys: KeyHashes) -> pd.DataFrame:
    """Quarantine staged rows that share their key with a row of another block.

    Conform finds conflicting rows within a block; across blocks, ``keys`` holds
    every row's key as hashes. The staged rows among those sharing a key are moved
    out of the staged file with their reason; the others already are in the
    quarantine (as conflicting, or for a fault found first), as in an item
    conformed whole.
    """
    named = keys.shared()
    moved = take_rows(path, named.tolist()) if len(named) else pd.DataFrame({"_row": named})
    return pd.DataFrame({"row_number": moved["_row"].astype("int64").to_numpy(),
                         "column_name": ",".join(spec.key),
                         "reason": "conflicting rows for the same key",
                         "raw": delivered_json(moved) if len(moved) else []})


def check_unparsed_share(cfg: Config, c: Conformed, where: str) -> None:
    """Refuse a delivered item in which one column fails for most rows (schema drift).

    Conform quarantines the rows whose value does not parse, which is right for dirt
    but wrong for a retyped column (a number column that now holds text, dates in
    another format, a file that belongs to another month): every row would be
    quarantined and the item would load as nothing, replacing good data. The
    deployment's ``row_failure_ceiling`` (with its ``min_rows`` floor) is
    the line between the two, as for the row-level expectations.
    """
    from safetynet.thresholds import load_thresholds

    considered = c.read - c.duplicates
    if considered == 0 or c.quarantine.empty:
        return
    settings = load_thresholds(cfg)
    if considered < settings.min_rows:
        return
    counts = c.quarantine.groupby(["column_name", "reason"], dropna=False).size()
    (column, reason), worst = counts.idxmax(), int(counts.max())
    if worst > settings.row_failure_ceiling * considered:
        raise DeliveryError(
            f"{where}: column {column!r} failed in {worst} of {considered} rows ({reason}), more than "
            f"the row-failure ceiling of {settings.row_failure_ceiling:.0%}: its type or format "
            "changed? Nothing of the source was loaded")


def merge(parts: list[Conformed]) -> Conformed:
    """One item's accounting from its blocks' (rows are on disk, not in the parts)."""
    if not parts:  # an empty table is a valid delivery of nothing
        empty_q = pd.DataFrame({"row_number": pd.Series(dtype="int64"), "column_name": [],
                                "reason": [], "raw": []})
        return Conformed(pd.DataFrame(), empty_q, 0, 0)
    return Conformed(
        pd.concat([p.rows for p in parts], ignore_index=True),
        pd.concat([p.quarantine for p in parts], ignore_index=True),
        sum(p.read for p in parts), sum(p.duplicates for p in parts))


def stage_item(out: Path, item: str, target: str, c: Conformed, info: dict[str, Any],
               rows_written: int | None = None) -> StagedItem:
    """Stage an item's rows (unless a :class:`RowSink` already did) and quarantine."""
    name = stem(item)
    if rows_written is None:
        c.rows.to_parquet(out / f"{name}.rows.parquet", index=False)
    c.quarantine.astype({"row_number": "int64"}).to_parquet(
        out / f"{name}.quarantine.parquet", index=False)
    loaded = c.loaded if rows_written is None else rows_written
    staged: StagedItem = {"item": item, "target": target, "read": c.read, "loaded": loaded,
                          "quarantined": len(c.quarantine), "duplicates": c.duplicates, **info}  # type: ignore[typeddict-item]
    return staged
