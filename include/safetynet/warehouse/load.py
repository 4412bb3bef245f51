"""Load a staged batch into the core layer, whole or not at all.

One transaction per batch: replace what the batch supersedes (the keys of an
incremental database extract, the households of changed members, a table read
whole, a utility month, the version of a registry snapshot), append the batch's
rows, and record files, accounting, quarantine, freshness and the new
watermark. The watermark therefore advances only when the load commits, and
running the same load again leaves the warehouse exactly as before. A source's
``loaded_at`` moves only when what was delivered changed (a new file, a newer
watermark, a table whose content differs), so re-running a day without new
data reports the same load times and gives a byte-identical workbook.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Column, Connection, Table, delete, func, insert, select, text

from safetynet.config import Config
from safetynet.faults import fault_point
from safetynet.privacy import mask_text
from safetynet.progress import Stage, stage
from safetynet.sources.batch import StagedBatch, StagedItem, stem
from safetynet.sources.declarations import SOURCES
from safetynet.warehouse.acceptance import mark_used
from safetynet.warehouse.bulk import CHUNK_ROWS, BulkLoadError, insert_frame
from safetynet.warehouse.changes import log_months
from safetynet.warehouse.engine import get_engine, migrate
from safetynet.warehouse.file_registry import clear_refusal, register_file
from safetynet.warehouse.indexes import deferred_indexes
from safetynet.warehouse.schema import (
    meta_load_log,
    meta_quarantine,
    meta_source_state,
    meta_watermark,
    metadata,
    stg_batch_key,
)
from safetynet.warehouse.statistics import stale_statistics
from safetynet.warehouse.water_keys import update_water_keys

REBUILDS = {"int_water_key": update_water_keys}
"""Derived tables a source's declaration names (``Source.rebuild``), brought up to date in its load's
transaction: each is given the connection and the months the load wrote."""


def load_batch(cfg: Config, batch: StagedBatch) -> dict[str, Any]:
    """Load every item of ``batch`` in one transaction; return the accounting."""
    source = batch["source"]
    engine = get_engine(cfg.warehouse_url)
    migrate(engine)
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    totals = {"read": 0, "loaded": 0, "quarantined": 0, "duplicates": 0}
    sizes: dict[str, int] = {}
    for item in batch["items"]:
        sizes[item["target"]] = sizes.get(item["target"], 0) + item["loaded"]
    with engine.begin() as conn, stage(f"load {source}", unit="rows loaded") as st:
        with deferred_indexes(conn, sizes):
            changed, months = _load_items(conn, source, batch, now, st, totals)
        _record_state(conn, source, now, changed)  # the indexes are back: a lookup, not a scan
        if batch["items"]:  # derived tables follow their source's rows; none changed: no rebuild
            for derived in SOURCES[source].rebuild:
                REBUILDS[derived](conn, sorted(months))
        written = [(i["target"], replace_mode(source, i), i["loaded"] + int(i.get("removed") or 0))
                   for i in batch["items"]]
        for target in stale_statistics(conn, written):
            conn.execute(text(f"ANALYZE {target}"))  # fresh statistics after bulk loads (planner)
        fault_point("load.commit")
    return {"source": source, "report_date": batch["report_date"], "items": len(batch["items"]),
            **totals}


def _load_items(conn: Connection, source: str, batch: StagedBatch, now: datetime, st: Stage,
                totals: dict[str, int]) -> tuple[bool, set[str]]:
    """Replace what each item supersedes and append its rows; return whether any delivery changed
    and the months the monthly items wrote.

    The months of a batch's monthly items are deleted before any of them is copied: each
    ``DELETE`` would otherwise scan the rows the batch's earlier months had just added to
    a table whose indexes are dropped for the load (twelve months: 66 months' rows read).
    """
    folder, changed, months = Path(batch["path"]), False, set()
    monthly = {i["item"] for i in batch["items"] if replace_mode(source, i) == "month"}
    for item in batch["items"]:
        if item["item"] in monthly:
            _replace_scope(conn, source, item, metadata.tables[item["target"]], folder / stem(item["item"]))
    for item in batch["items"]:
        base = folder / stem(item["item"])
        staged = base.with_name(f"{base.name}.rows.parquet")
        quarantine = pd.read_parquet(base.with_name(f"{base.name}.quarantine.parquet"))
        table = metadata.tables[item["target"]]
        if item["item"] not in monthly:
            _replace_scope(conn, source, item, table, base)
        for rows in _row_batches(staged):
            _insert_naming_the_row(conn, table, rows, item["item"])
        if item["item"] in monthly:
            written = _months_written(source, item, staged)
            months.update(written)
            if "source" in table.c:  # a table several sources share (utility readings)
                log_months(conn, source, written)
        fault_point("load.copy")
        changed |= _record_item(conn, source, item, quarantine, batch, now)
        mark_used(conn, source, item, batch["report_date"])
        clear_refusal(conn, source, item["item"])
        st.advance(item["loaded"])
        for key, count in (("read", item["read"]), ("loaded", item["loaded"]),
                           ("quarantined", item["quarantined"]), ("duplicates", item["duplicates"])):
            totals[key] += count
    return changed, months


def _insert_naming_the_row(conn: Connection, table: Table, rows: pa.Table, item: str) -> None:
    """Insert a staged batch; a refused row is named by its file (or table) and delivered row."""
    try:
        insert_frame(conn, table, rows)
    except BulkLoadError as exc:
        at = exc.batch_row
        row = rows.column("_row")[at].as_py() if at is not None and "_row" in rows.column_names else None
        where = f"{item}, row {row}" if row is not None else item
        raise BulkLoadError(f"{where}: {exc}; nothing of the source was loaded") from None


def _row_batches(staged: Path) -> Iterator[pa.Table]:
    """A staged item's rows in batches of ``CHUNK_ROWS``: an item is never whole in memory."""
    for batch in pq.ParquetFile(staged).iter_batches(batch_size=CHUNK_ROWS):
        yield pa.Table.from_batches([batch])


def _replace_scope(conn: Connection, source: str, item: StagedItem, table: Table, base: Path) -> None:
    """Delete what the item supersedes (its ``replace`` scope) and record its new watermark."""
    declared = SOURCES[source]
    replace = replace_mode(source, item)
    if replace == "keys":  # an upsert: the batch's keys go, then its rows come in
        if item["loaded"]:
            _delete_staged(conn, table.c.row_key, base.with_name(base.name + ".rows.parquet"), "row_key")
        if item.get("removed"):  # and the rows deleted at the source go too
            _delete_staged(conn, table.c.row_key, base.with_name(base.name + ".vanished.parquet"), "row_key")
    elif replace == "groups":  # every group the batch names goes, even one now without rows
        _delete_staged(conn, table.c[item["group_column"]],
                       base.with_name(base.name + ".groups.parquet"), "group_key")
    elif replace == "month":  # the file's month of this source; its other months stay
        where = [table.c[declared.month_column or "month"] == _month_of(item)]
        if "source" in table.c:  # a table several sources share (utility readings)
            where.append(table.c.source == source)
        conn.execute(delete(table).where(*where))
    elif replace == "snapshot":  # one version of the registry; the others stay (docs/over-time.md)
        tag = item["tag"]
        conn.execute(delete(table).where(table.c.snapshot_date == date(int(tag[:4]), int(tag[4:6]),
                                                                       int(tag[6:]))))
    else:  # a table read whole (or a first, full read of an incremental one)
        conn.execute(delete(table))
    if item.get("watermark_column") and item.get("watermark") is not None:
        conn.execute(delete(meta_watermark).where(
            meta_watermark.c.source == source, meta_watermark.c.table_name == item["item"]))
        conn.execute(insert(meta_watermark).values(
            source=source, table_name=item["item"], column_name=item["watermark_column"],
            value=json.dumps(item["watermark"], default=str)))


def replace_mode(source: str, item: StagedItem) -> str:
    """What an item supersedes: ``keys`` or ``groups`` (an incremental read), its ``month`` or
    ``snapshot``, or the whole ``table``."""
    cadence = SOURCES[source].cadence or ""
    return str(item.get("replace") or {"monthly": "month", "snapshot": "snapshot"}.get(cadence, "table"))


def _months_written(source: str, item: StagedItem, staged: Path) -> list[str]:
    """The month a monthly item replaces and the months its rows hold (``warehouse.changes.log_months``)."""
    column = SOURCES[source].month_column or "month"
    held = pq.read_table(staged, columns=[column]).column(0).unique().drop_null().to_pylist()
    return sorted({_month_of(item), *map(str, held)})


def _month_of(item: StagedItem) -> str:
    """A monthly item's month, ``YYYY-MM``, from its file's ``YYYYMM`` tag."""
    return f"{item['tag'][:4]}-{item['tag'][4:]}"


def _delete_staged(conn: Connection, column: Column, path: Path, key: str) -> None:
    """Delete the rows whose ``column`` is one of the staged file's ``key`` values."""
    keys = pd.read_parquet(path, columns=[key]).drop_duplicates().rename(columns={key: "row_key"})
    conn.execute(delete(stg_batch_key))
    insert_frame(conn, stg_batch_key, keys)
    conn.execute(delete(column.table).where(column.in_(select(stg_batch_key.c.row_key))))
    conn.execute(delete(stg_batch_key))


def fingerprint(item: StagedItem) -> str:
    """What was delivered, to tell a changed delivery from the same one read again.

    A file's SHA-256; a table read whole, the digest of its content as delivered; an
    incremental table, its watermark (new rows move it).
    """
    if "sha256" in item:
        return str(item["sha256"])
    if "digest" in item:
        return str(item["digest"])
    return "watermark " + json.dumps(item.get("watermark"), default=str)


def _record_item(conn: Connection, source: str, item: StagedItem, quarantine: pd.DataFrame,
                 batch: StagedBatch, now: datetime) -> bool:
    """Record the item's quarantine, accounting and file; return whether its delivery changed."""
    name = item["item"]
    scope = (meta_quarantine.c.source == source, meta_quarantine.c.item == name,
             meta_quarantine.c.batch_id == batch["report_date"])  # earlier batches' quarantine is kept
    if item.get("mode") == "incremental":
        # A re-run of the day re-reads only from the committed watermark: keep the day's
        # quarantine and add what is new, or a retry after a crash would lose it.
        known = set(conn.execute(select(meta_quarantine.c.raw).where(*scope)).scalars())
        quarantine = quarantine[~quarantine["raw"].isin(known)]
    else:
        conn.execute(delete(meta_quarantine).where(*scope))
    q = quarantine.assign(source=source, item=name, batch_id=batch["report_date"])
    insert_frame(conn, meta_quarantine, q)
    print_ = fingerprint(item)
    before = conn.execute(select(meta_load_log.c.fingerprint).where(
        meta_load_log.c.source == source, meta_load_log.c.item == name)).first()
    conn.execute(delete(meta_load_log).where(
        meta_load_log.c.source == source, meta_load_log.c.item == name))
    conn.execute(insert(meta_load_log).values(
        source=source, item=name, batch_id=batch["report_date"], rows_read=item["read"],
        rows_loaded=item["loaded"], rows_quarantined=item["quarantined"],
        rows_duplicate=item["duplicates"], loaded_at=now, future_rows=item.get("future_rows") or 0,
        rows_removed=item.get("removed") or item.get("removed_from") or 0,
        future_max=item.get("future_max"), fingerprint=print_))
    if "sha256" in item:
        register_file(conn, source, name, item["size"], item["sha256"], "loaded", now)
    return before is None or before[0] != print_ or bool(item.get("removed") or item.get("removed_from"))


def _record_state(conn: Connection, source: str, now: datetime, changed: bool) -> None:
    table_name, column = SOURCES[source].freshness  # how the source's newest data is measured
    table = metadata.tables[table_name]
    query = select(func.max(table.c[column]))
    if "source" in table.c:  # a table several sources share (utility readings)
        query = query.where(table.c.source == source)
    newest = conn.execute(query).scalar()
    before = conn.execute(select(meta_source_state.c.loaded_at).where(
        meta_source_state.c.source == source)).scalar()
    conn.execute(delete(meta_source_state).where(meta_source_state.c.source == source))
    conn.execute(insert(meta_source_state).values(
        source=source, newest_data=None if newest is None else str(newest),
        loaded_at=now if changed or before is None else before,
        last_attempt_at=now, last_outcome="loaded", last_error=None))


def record_failure(cfg: Config, source: str, error: BaseException) -> None:
    """Mark a source's last attempt as failed (its loaded data stays as it was)."""
    engine = get_engine(cfg.warehouse_url)
    migrate(engine)
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    message = mask_text(f"{type(error).__name__}: {error}")[:500]  # shown on the status page
    with engine.begin() as conn:
        state = conn.execute(select(meta_source_state).where(
            meta_source_state.c.source == source)).mappings().first()
        conn.execute(delete(meta_source_state).where(meta_source_state.c.source == source))
        conn.execute(insert(meta_source_state).values(
            source=source, newest_data=state["newest_data"] if state else None,
            loaded_at=state["loaded_at"] if state else None, last_attempt_at=now,
            last_outcome="failed", last_error=message))
