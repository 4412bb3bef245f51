"""Pipeline health for the monitor page: freshness, load accounting, quarantine, failures,
and the inspectors' disposition files and rows that were rejected.

``meta_validation`` and ``meta_task_failure`` are newer than some warehouses,
so both are found by inspection and used only when present; the sources whose
last attempt did not load (``meta_source_state``) are shown either way.
Free text (errors, observed values, reasons) goes through :func:`mask_text`,
because messages quote the values that failed. Every time is shown in local time
(Asia/Shanghai) to the second, with its offset (:func:`safetynet.localtime.local_time`):
the warehouse keeps naive UTC.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, inspect, text

from safetynet.dispositions_report import recent_rejections
from safetynet.localtime import local_time
from safetynet.privacy import mask_text
from safetynet.reports.extract import source_freshness
from safetynet.reports.refusals import pending_refusals

FAILURE_LIMIT = 20
PERSONAL_COLUMNS = ("name", "raw", "evidence", "id_number", "holder", "owner")
"""Columns of an unknown table that are never shown, whatever they hold."""

_ACCOUNTING = """
    WITH last_at AS (SELECT source, MAX(loaded_at) AS at FROM meta_load_log GROUP BY source),
    last_batch AS (SELECT l.source, MAX(l.batch_id) AS batch_id FROM meta_load_log l
                   JOIN last_at a ON a.source = l.source AND a.at = l.loaded_at GROUP BY l.source)
    SELECT l.source, b.batch_id, COUNT(*), SUM(l.rows_read), SUM(l.rows_loaded),
           SUM(l.rows_quarantined), SUM(l.rows_duplicate), MAX(l.loaded_at)
    FROM meta_load_log l JOIN last_batch b ON b.source = l.source AND b.batch_id = l.batch_id
    GROUP BY l.source, b.batch_id"""


def short(value: Any, limit: int = 160) -> str | None:
    """Masked, one-line, bounded free text (errors can be tracebacks)."""
    if value is None:
        return None
    line = " ".join(str(value).split())
    return mask_text(line if len(line) <= limit else line[: limit - 1] + "…")


def sources(conn: Connection, configured: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """Each source's freshness (the extract's own definition) and its last batch's accounting.

    ``balanced`` checks the load log's invariant read = loaded + quarantined + duplicates.
    """
    batches = {r[0]: r for r in conn.execute(text(_ACCOUNTING))}
    out = []
    for name, fresh in source_freshness(conn, configured=configured).items():
        row = batches.get(name)
        counts = [int(v or 0) for v in row[3:7]] if row else [0, 0, 0, 0]
        out.append({
            "source": name, "newest_data": fresh["newest_data"], "loaded_at": when(fresh["loaded_at"]),
            "last_attempt_at": when(fresh["last_attempt_at"]), "last_outcome": fresh["last_outcome"],
            "stale": fresh["stale"], "last_error": short(fresh["last_error"]),
            "batch_id": row[1] if row else None, "items": int(row[2]) if row else 0,
            "rows_read": counts[0], "rows_loaded": counts[1], "rows_quarantined": counts[2],
            "rows_duplicate": counts[3], "balanced": counts[0] == sum(counts[1:]),
            "future_rows": fresh.get("future_rows", 0), "future_max": fresh.get("future_max"),
        })
    return out


def refused(conn: Connection) -> list[dict[str, Any]]:
    """Deliveries refused and still pending (file or table named, reason masked), per source."""
    return [{**r, "reason": short(r["reason"], 240), "refused_at": when(r.get("refused_at"))}
            for r in pending_refusals(conn)]


def quarantine(conn: Connection) -> list[dict[str, Any]]:
    """Quarantined rows counted by source, item and reason (never the rows themselves)."""
    rows = conn.execute(text(
        "SELECT source, item, reason, COUNT(*), MAX(batch_id) FROM meta_quarantine "
        "GROUP BY source, item, reason ORDER BY COUNT(*) DESC, source, item, reason"))
    return [{"source": s, "item": item, "reason": short(reason), "rows": int(n), "last_batch": b}
            for s, item, reason, n, b in rows]


def dispositions(conn: Connection) -> dict[str, Any] | None:
    """Inspectors' disposition files and rows rejected (file, row, reason, when), newest first,
    masked; None on a warehouse from before the audit trail."""
    if not all(inspect(conn).has_table(t) for t in ("meta_audit", "meta_quarantine", "core_disposition")):
        return None
    found = recent_rejections(conn, FAILURE_LIMIT)
    return {**found,
            "files_rejected": [{**f, "file": short(f["file"]), "reason": short(f["reason"], 240),
                                "at": when(f["at"])} for f in found["files_rejected"]],
            "rows_rejected": [{**r, "file": short(r["file"]), "reason": short(r["reason"], 240),
                               "at": when(r["at"])} for r in found["rows_rejected"]]}


def _columns(conn: Connection, table: str) -> list[str] | None:
    inspector = inspect(conn)
    if not inspector.has_table(table):
        return None
    return [c["name"] for c in inspector.get_columns(table)]


def validation(conn: Connection) -> dict[str, Any] | None:
    """How many expectation results ``meta_validation`` holds and those that did not pass,
    newest first; None without the table (a warehouse from before validation was recorded)."""
    have = _columns(conn, "meta_validation")
    if have is None or not {"source", "item", "outcome"} <= set(have):
        return None
    checked = int(conn.execute(text("SELECT COUNT(*) FROM meta_validation")).scalar() or 0)
    wanted = [c for c in ("validated_at", "source", "item", "batch_id", "expectation", "column_name",
                          "outcome", "unexpected_count", "observed") if c in have]
    order = "validated_at DESC, " if "validated_at" in have else ""
    rows = conn.execute(text(
        f"SELECT {', '.join(wanted)} FROM meta_validation WHERE outcome NOT IN ('passed', 'not_judged') "
        f"ORDER BY {order}source, item LIMIT {FAILURE_LIMIT * 5}")).mappings()
    return {"checked": checked, "failures": [{k: when(v) if k == "validated_at" else _cell(v)
                                              for k, v in r.items()} for r in rows]}


def task_failures(conn: Connection) -> dict[str, Any] | None:
    """Recent failed tasks from ``meta_task_failure``, newest first; None without the table.

    Read by inspection rather than through the schema module, so the page keeps
    working on a warehouse from before the table (and after a new column): the
    timestamp column leads, the surrogate key and any personal-looking column are dropped.
    """
    have = _columns(conn, "meta_task_failure")
    if have is None:
        return None
    stamp = next((c for c in have if c.lower().endswith(("_at", "_date", "time"))), None)
    shown = [c for c in have if c not in ("id", stamp)
             and not any(p in c.lower() for p in PERSONAL_COLUMNS)]
    shown = [stamp, *shown] if stamp else shown
    order = f" ORDER BY {stamp} DESC" if stamp else ""
    rows = conn.execute(text(
        f"SELECT {', '.join(shown)} FROM meta_task_failure{order} LIMIT {FAILURE_LIMIT}")).mappings()
    return {"columns": shown, "rows": [{k: when(v) if k == stamp else _cell(v) for k, v in r.items()}
                                       for r in rows]}


def failed_sources(conn: Connection) -> list[dict[str, Any]]:
    """Sources whose last attempt did not load (``meta_source_state``): what made the report stale."""
    rows = conn.execute(text(
        "SELECT source, last_attempt_at, last_outcome, last_error FROM meta_source_state "
        "WHERE last_outcome IS NULL OR last_outcome <> 'loaded' ORDER BY last_attempt_at DESC, source"))
    return [{"source": s, "last_attempt_at": when(at), "last_outcome": outcome, "last_error": short(err)}
            for s, at, outcome, err in rows]


def when(value: Any) -> str | None:
    """A stored instant (naive UTC, a datetime or SQLite's text with microseconds) as local time
    to the second with its offset, ``2026-12-07 04:09:28 +08:00``; None stays None."""
    return local_time(value) or None


def _cell(value: Any) -> Any:
    """A JSON-ready, masked table cell (a date as ISO text, an instant in local time)."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, datetime):
        return when(value)
    if isinstance(value, date):
        return value.isoformat()
    return short(value)
