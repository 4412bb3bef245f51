"""The audit trail: an append-only record of what was published and applied, and when.

Every extract generated and published (with its files' SHA-256), every
disposition file applied, and every re-run or back-fill of a report date is a
row in ``meta_audit``. Triggers (created with the table, see ``schema``) make it
append-only on SQLite and PostgreSQL alike: an UPDATE, DELETE (or TRUNCATE)
fails, whoever tries it.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime

from sqlalchemy import Connection, func, insert, select

from safetynet.warehouse.schema import meta_audit


def run_id() -> str:
    """The Airflow run this happens in (its task context exports it), else the command line."""
    return os.environ.get("AIRFLOW_CTX_DAG_RUN_ID") or "cli"


def record(conn: Connection, action: str, report_date: date | None, detail: dict) -> None:
    """Append one audit row (the caller's transaction commits it with the work it describes)."""
    conn.execute(insert(meta_audit).values(
        at=datetime.now(UTC).replace(tzinfo=None), action=action, report_date=report_date,
        run_id=run_id(), detail=json.dumps(detail, ensure_ascii=False, sort_keys=True)))


def publication_kind(conn: Connection, d: date) -> str:
    """``published`` the first time, ``republished`` for a re-run, ``backfilled`` for an earlier date."""
    prior = conn.execute(select(func.count()).select_from(meta_audit).where(
        meta_audit.c.action.in_(("extract_published", "extract_republished", "extract_backfilled")),
        meta_audit.c.report_date == d)).scalar()
    if prior:
        return "extract_republished"
    latest = conn.execute(select(func.max(meta_audit.c.report_date)).where(
        meta_audit.c.action.like("extract_%"))).scalar()
    return "extract_backfilled" if latest is not None and str(latest)[:10] > d.isoformat() else (
        "extract_published")
