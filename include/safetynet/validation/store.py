"""Where validation outcomes go: ``meta_validation`` and the staged batch itself.

Results are written in their own transaction before a rejection is raised, so a
rejected batch still leaves its evidence in the warehouse while its data stays
out. Validating the same batch again replaces that batch's rows for the items
validated.

Row-level failures are moved inside the staged batch, from ``<item>.rows.parquet``
to ``<item>.quarantine.parquet`` (the same columns conform writes), and the
item's counts in ``batch.json`` follow, so ``read == loaded + quarantined +
duplicates`` still holds when the load records its accounting.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, delete, insert

from safetynet.sources.batch import StagedItem, stem
from safetynet.sources.staged import delivered_json, take_rows
from safetynet.validation.outcome import Finding
from safetynet.warehouse.schema import meta_validation


def record(engine: Engine, source: str, batch_id: str, findings: list[Finding]) -> int:
    """Replace this batch's stored results for the validated items; return rows written."""
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    items = sorted({f.item for f in findings})
    rows = [{"source": source, "item": f.item, "batch_id": batch_id, "expectation": f.expectation,
             "column_name": f.column, "level": f.level, "success": f.success, "outcome": f.outcome,
             "observed": f.observed, "expected": f.expected[:500],
             "unexpected_count": f.unexpected_count, "validated_at": now} for f in findings]
    with engine.begin() as conn:
        if items:
            conn.execute(delete(meta_validation).where(
                meta_validation.c.source == source, meta_validation.c.batch_id == batch_id,
                meta_validation.c.item.in_(items)))
        if rows:
            conn.execute(insert(meta_validation), rows)
    return len(rows)


def quarantine_rows(folder: Path, item: StagedItem, findings: list[Finding]) -> int:
    """Move the rows row-level findings name into the item's quarantine; return how many."""
    reason: dict[int, Finding] = {}
    for f in findings:  # a row failing twice keeps the first reason found
        for row in f.rows:
            reason.setdefault(row, f)
    if not reason:
        return 0
    base = stem(item["item"])
    rows_path, q_path = folder / f"{base}.rows.parquet", folder / f"{base}.quarantine.parquet"
    moved = take_rows(rows_path, reason)
    found = [reason[int(r)] for r in moved["_row"]]
    added = pd.DataFrame({
        "row_number": moved["_row"].astype("int64").to_numpy(),
        "column_name": [f.column for f in found],
        "reason": [f.reason for f in found],
        "raw": delivered_json(moved),
    })
    quarantine = pd.read_parquet(q_path)
    quarantine = pd.concat([quarantine, added], ignore_index=True) if len(quarantine) else added
    quarantine.astype({"row_number": "int64"}).to_parquet(q_path, index=False)
    item["loaded"] -= len(moved)
    item["quarantined"] += len(moved)
    return len(moved)
