"""Load a staged batch into the core layer, whole or not at all.

One transaction per batch: replace what the batch supersedes (the keys of an
incremental database extract, the property snapshot, a utility month, a small
table read whole), append the batch's rows, and record files, accounting,
quarantine, freshness and the new watermark. The watermark therefore advances
only when the load commits, and running the same load again leaves the
warehouse exactly as before.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import Connection, Table, delete, func, insert, select, text

from safetynet.config import Config
from safetynet.faults import fault_point
from safetynet.privacy import mask_text
from safetynet.progress import stage
from safetynet.warehouse.bulk import CHUNK_ROWS, insert_frame
from safetynet.warehouse.engine import get_engine, migrate
from safetynet.warehouse.indexes import deferred_indexes
from safetynet.warehouse.schema import (
    core_utility_reading,
    meta_file,
    meta_load_log,
    meta_quarantine,
    meta_source_state,
    meta_watermark,
    metadata,
    stg_batch_key,
)
from safetynet.warehouse.water_keys import rebuild_water_keys

FRESHNESS = {  # how each source's newest data is measured
    "civil_affairs": ("core_household", "updated_at"),
    "personnel": ("core_staff", "updated_at"),
    "property": ("core_property_right", "snapshot_date"),
}


def load_batch(cfg: Config, batch: dict) -> dict:
    """Load every item of ``batch`` in one transaction; return the accounting."""
    source, folder = batch["source"], Path(batch["path"])
    engine = get_engine(cfg.warehouse_url)
    migrate(engine)
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    totals = {"read": 0, "loaded": 0, "quarantined": 0, "duplicates": 0}
    sizes: dict[str, int] = {}
    for item in batch["items"]:
        sizes[item["target"]] = sizes.get(item["target"], 0) + item["loaded"]
    with engine.begin() as conn, stage(f"load {source}") as st, deferred_indexes(conn, sizes):
        for item in batch["items"]:
            stem = item["item"].replace("/", "_")
            staged = folder / f"{stem}.rows.parquet"
            quarantine = pd.read_parquet(folder / f"{stem}.quarantine.parquet")
            table = metadata.tables[item["target"]]
            _replace_scope(conn, source, item, table, staged)
            for rows in _row_batches(staged):
                insert_frame(conn, table, rows)
            fault_point("load.copy")
            _record_item(conn, source, item, quarantine, batch, now)
            st.advance(item["loaded"])
            for key in totals:
                totals[key] += item[key]
        _record_state(conn, source, now)
        if source == "water" and batch["items"]:  # keys follow the readings; none changed: no rebuild
            rebuild_water_keys(conn)
        for target in sorted({item["target"] for item in batch["items"]}):
            conn.execute(text(f"ANALYZE {target}"))  # fresh statistics after bulk loads (planner)
        fault_point("load.commit")
    return {"source": source, "report_date": batch["report_date"], "items": len(batch["items"]),
            **totals}


def _row_batches(staged: Path) -> Iterator[pa.Table]:
    """A staged item's rows in batches of ``CHUNK_ROWS``: an item is never whole in memory."""
    for batch in pq.ParquetFile(staged).iter_batches(batch_size=CHUNK_ROWS):
        yield pa.Table.from_batches([batch])


def _replace_scope(conn: Connection, source: str, item: dict, table: Table, staged: Path) -> None:
    """Delete what the item supersedes: upserted keys, a utility month, or everything."""
    if item.get("mode") == "incremental":
        keys = (pd.read_parquet(staged, columns=["row_key"]).drop_duplicates() if item["loaded"]
                else pd.DataFrame({"row_key": []}))
        conn.execute(delete(stg_batch_key))
        insert_frame(conn, stg_batch_key, keys)
        conn.execute(delete(table).where(table.c.row_key.in_(select(stg_batch_key.c.row_key))))
        conn.execute(delete(stg_batch_key))
        if item.get("watermark") is not None:
            conn.execute(delete(meta_watermark).where(
                meta_watermark.c.source == source, meta_watermark.c.table_name == item["item"]))
            conn.execute(insert(meta_watermark).values(
                source=source, table_name=item["item"], column_name=item["watermark_column"],
                value=json.dumps(item["watermark"])))
    elif item["target"] == "core_utility_reading":
        month = f"{item['tag'][:4]}-{item['tag'][4:]}"
        conn.execute(delete(core_utility_reading).where(
            core_utility_reading.c.source == source, core_utility_reading.c.month == month))
    else:  # full extracts and the property snapshot replace the whole table
        conn.execute(delete(table))


def _record_item(conn: Connection, source: str, item: dict, quarantine: pd.DataFrame,
                 batch: dict, now: datetime) -> None:
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
    conn.execute(delete(meta_load_log).where(
        meta_load_log.c.source == source, meta_load_log.c.item == name))
    conn.execute(insert(meta_load_log).values(
        source=source, item=name, batch_id=batch["report_date"], rows_read=item["read"],
        rows_loaded=item["loaded"], rows_quarantined=item["quarantined"],
        rows_duplicate=item["duplicates"], loaded_at=now))
    if "sha256" in item:
        conn.execute(delete(meta_file).where(
            meta_file.c.source == source, meta_file.c.file_name == name))
        conn.execute(insert(meta_file).values(
            source=source, file_name=name, size=item["size"], sha256=item["sha256"],
            seen_at=now, outcome="loaded"))


def _record_state(conn: Connection, source: str, now: datetime) -> None:
    if source in FRESHNESS:
        table, column = FRESHNESS[source]
        newest = conn.execute(select(func.max(metadata.tables[table].c[column]))).scalar()
    else:
        newest = conn.execute(select(func.max(core_utility_reading.c.month)).where(
            core_utility_reading.c.source == source)).scalar()
    conn.execute(delete(meta_source_state).where(meta_source_state.c.source == source))
    conn.execute(insert(meta_source_state).values(
        source=source, newest_data=None if newest is None else str(newest), loaded_at=now,
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
