"""The chain of report dates that case life follows (docs/over-time.md, "Case life").

A case is NEW on D when it did not hold on D's predecessor, OPEN when it did,
RESOLVED on the first report date after it stopped. The predecessor of D is the
latest report date before D that had been evaluated when D was evaluated for
the first time. It is recorded then (``meta_report_chain``) and reused on every
re-run, so a back-fill of an earlier day — evaluated later — never changes a
later day's statuses, ``first_seen`` or monitoring comparison.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Connection, func, insert, select

from safetynet.warehouse.schema import mart_case_day, meta_report_chain


def _as_date(value: object) -> date | None:
    return None if value is None else date.fromisoformat(str(value)[:10])


def predecessor(conn: Connection, d: date) -> date | None:
    """D's predecessor as recorded, else the latest evaluated date before D (not recorded)."""
    row = conn.execute(select(meta_report_chain.c.previous_date).where(
        meta_report_chain.c.report_date == d)).first()
    if row is not None:
        return _as_date(row[0])
    chained = conn.execute(select(func.max(meta_report_chain.c.report_date)).where(
        meta_report_chain.c.report_date < d)).scalar()
    legacy = conn.execute(select(func.max(mart_case_day.c.report_date)).where(  # before the chain
        mart_case_day.c.report_date < d)).scalar()
    found = [x for x in (_as_date(chained), _as_date(legacy)) if x is not None]
    return max(found) if found else None


def link(conn: Connection, d: date) -> date | None:
    """D's predecessor, recorded on D's first evaluation (in the evaluation's transaction)."""
    known = conn.execute(select(meta_report_chain.c.report_date).where(
        meta_report_chain.c.report_date == d)).first()
    previous = predecessor(conn, d)
    if known is None:
        conn.execute(insert(meta_report_chain).values(
            report_date=d, previous_date=previous, recorded_at=datetime.now(UTC).replace(tzinfo=None)))
    return previous


def applies_from(conn: Connection, d: date) -> date:
    """The first report date a decision returned now applies to, when read by the run for D.

    D itself when D is past every report date evaluated so far (the daily run); else the
    day after the latest one: a decision that arrives after a report was published never
    changes that report, even when a back-fill or re-run of an earlier day is what reads it.
    """
    chained = conn.execute(select(func.max(meta_report_chain.c.report_date))).scalar()
    legacy = conn.execute(select(func.max(mart_case_day.c.report_date))).scalar()
    heads = [x for x in (_as_date(chained), _as_date(legacy)) if x is not None]
    head = max(heads) if heads else None
    return d if head is None or d > head else head + timedelta(days=1)
