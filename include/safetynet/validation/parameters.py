"""Suite parameters filled at run time from the warehouse: volume and freshness.

The suites hold ``{"$PARAMETER": "min_rows"}``, ``"max_rows"`` and
``"fresh_since"`` instead of numbers, because the yardsticks change every run:

- **volume** (the guard of sources.md, "Deliveries over time"): a full delivery
  (a utility month, a registry snapshot, a table read whole) must hold at least
  ``volume_floor`` of the rows of the previous accepted delivery of the same
  item — the same month again if this is a redelivery, else the newest earlier
  month or snapshot, from this batch or from ``meta_load_log``. Incremental
  database deltas have no yardstick (a quiet day is a small delta), and neither
  has a first delivery nor one an operator accepted (``safetynet accept``):
  ``None`` leaves the bound open. There is no upper bound: growth is not a fault.
- **freshness**: the newest value must not be older than the source's
  ``max_age_days`` on the report date — but only when the warehouse does not
  already hold fresh data for it, so a correction of an old utility month or a
  late payment for an old period still loads. For the monthly utility files only
  the batch's newest item is the source's heartbeat.
"""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta

import pandas as pd
from sqlalchemy import Connection, func, select

from safetynet.sources.batch import StagedItem
from safetynet.sources.declarations import of_cadence
from safetynet.thresholds import Thresholds
from safetynet.validation.projection import as_datetime
from safetynet.warehouse.schema import meta_load_log, metadata

MONTHLY_FILES = of_cadence("monthly")


def previous_counts(conn: Connection, source: str) -> dict[str, int]:
    """Rows loaded per item of the source's earlier deliveries (from the load log)."""
    rows = conn.execute(select(meta_load_log.c.item, meta_load_log.c.rows_loaded).where(
        meta_load_log.c.source == source))
    return {item: int(n or 0) for item, n in rows}


def volume_bounds(settings: Thresholds, item: StagedItem, database: bool, earlier: dict[str, int],
                  accepted: bool = False) -> dict:
    """``min_rows`` for a full delivery (``max_rows`` is always open), open bounds otherwise."""
    open_bounds: dict = {"min_rows": None, "max_rows": None}
    if item.get("mode") in ("incremental", "group") or accepted:
        return open_bounds
    name = item["item"]
    if name in earlier:
        prev: int | None = earlier[name]
    elif database:
        prev = None
    else:
        older = [n for n in earlier if n < name]  # file names sort by their date tag
        prev = earlier[max(older)] if older else None
    if not prev:
        return open_bounds
    return {"min_rows": math.ceil(prev * settings.volume_floor), "max_rows": None}


def fresh_since(conn: Connection, settings: Thresholds, source: str, item: StagedItem, column: str,
                report_date: date, newest_item: str | None) -> str | None:
    """The oldest acceptable newest value (ISO datetime), or None when not enforced."""
    if newest_item is not None and item["item"] != newest_item:
        return None
    since = datetime.combine(report_date - timedelta(days=settings.max_age_days[source]), time())
    table = metadata.tables[item["target"]]
    query = select(func.max(table.c[column]))
    if "source" in table.c:
        query = query.where(table.c.source == source)
    held = conn.execute(query).scalar()
    if held is not None:
        held_at = as_datetime(pd.Series([str(held)])).iloc[0]
        if pd.notna(held_at) and held_at >= since:
            return None  # the source is fresh already; this delivery does not have to be
    return since.isoformat()


def newest_file_item(source: str, items: list[StagedItem]) -> str | None:
    """For monthly files, the batch's newest month is the one freshness is judged on."""
    if source not in MONTHLY_FILES:
        return None
    names = [i["item"] for i in items if i["loaded"]]
    return max(names) if names else None
