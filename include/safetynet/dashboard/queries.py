"""Case and population figures for the monitor page: set-based SQL over the warehouse.

Every function takes an open SQLAlchemy connection and returns plain Python
values (ISO date strings, ints), so the same figures feed the HTML, the SVG charts
and the JSON API. Dates are passed as ISO strings, as ``reports.monitoring`` does,
so the SQL runs unchanged on SQLite (dates stored as text) and PostgreSQL.
Suppressed cases are excluded everywhere, as in the inspectors' extract.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, text

from safetynet.privacy import mask_id

TREND_DAYS = 30
NOT_SUPPRESSED = "(suppressed IS NULL OR suppressed = 0)"

# "Active on D" as rules.md and reports.monitoring define it, evaluated for every
# report date at once by joining the dates in: one statement, not one per day.
_POPULATION = """
    WITH dates AS (SELECT DISTINCT report_date AS d FROM mart_case_day
                   WHERE report_date >= :start AND report_date <= :end),
    persons AS (
        SELECT dd.d, CASE WHEN m.id_problem IS NULL THEN m.id_norm
                          ELSE m.household_id || ':' || COALESCE(m.id_raw, '') END AS person
        FROM dates dd
        JOIN core_household h ON h.status = 'ACTIVE' AND h.approved_on <= dd.d
             AND (h.terminated_on IS NULL OR h.terminated_on > dd.d)
        JOIN core_member m ON m.household_id = h.household_id AND m.joined_on <= dd.d
             AND (m.left_on IS NULL OR m.left_on > dd.d)
        UNION ALL
        SELECT dd.d, CASE WHEN a.id_problem IS NULL THEN a.id_norm ELSE a.allowance_id END
        FROM dates dd
        JOIN core_allowance a ON a.start_on <= dd.d AND (a.end_on IS NULL OR a.end_on > dd.d)
    )
    SELECT dd.d, COUNT(DISTINCT p.person) FROM dates dd LEFT JOIN persons p ON p.d = dd.d
    GROUP BY dd.d ORDER BY dd.d"""


def iso(value: Any) -> str | None:
    """A date or timestamp from either dialect as ISO text (SQLite gives strings, PostgreSQL objects)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)[:19].replace("T", " ")


def masked(value: str | None) -> str | None:
    """:func:`mask_id`, except that a short (malformed) number is hidden whole, not shown as is."""
    if value is None:
        return None
    return mask_id(value) if len(value) > 10 else "*" * len(value)


def latest_report_date(conn: Connection) -> date | None:
    """The newest report date in ``mart_case_day``: what "today" means on the page."""
    value = conn.execute(text("SELECT MAX(report_date) FROM mart_case_day")).scalar()
    return date.fromisoformat(str(value)[:10]) if value else None


def case_counts(conn: Connection, d: date) -> list[dict[str, Any]]:
    """D's unsuppressed cases counted by rule, township and status (the page sums these up)."""
    rows = conn.execute(text(
        "SELECT c.rule_code, c.township_code, r.name, c.status, COUNT(*) FROM mart_case_day c "
        "LEFT JOIN ref_region r ON r.code = c.township_code "
        f"WHERE c.report_date = :d AND {NOT_SUPPRESSED} "
        "GROUP BY c.rule_code, c.township_code, r.name, c.status"), {"d": d.isoformat()})
    return [{"rule_code": rule, "township_code": town, "township_name": name, "status": status,
             "cases": int(n)} for rule, town, name, status, n in rows]


def suppressed_count(conn: Connection, d: date) -> int:
    """How many of D's cases are hidden by a disposition's suppression (shown, not listed)."""
    return int(conn.execute(text(
        f"SELECT COUNT(*) FROM mart_case_day WHERE report_date = :d AND NOT {NOT_SUPPRESSED}"),
        {"d": d.isoformat()}).scalar() or 0)


def window(d: date, days: int = TREND_DAYS) -> tuple[str, str]:
    """The trend window ending on D, inclusive, as ISO bounds."""
    return (d - timedelta(days=days - 1)).isoformat(), d.isoformat()


def case_trend(conn: Connection, d: date, days: int = TREND_DAYS) -> list[dict[str, Any]]:
    """Unsuppressed cases per report date and status over the window ending on D."""
    start, end = window(d, days)
    rows = conn.execute(text(
        "SELECT report_date, status, COUNT(*) FROM mart_case_day "
        f"WHERE report_date >= :start AND report_date <= :end AND {NOT_SUPPRESSED} "
        "GROUP BY report_date, status ORDER BY report_date, status"), {"start": start, "end": end})
    return [{"report_date": iso(day), "status": status, "cases": int(n)} for day, status, n in rows]


def population_trend(conn: Connection, d: date, days: int = TREND_DAYS) -> list[dict[str, Any]]:
    """Distinct persons active in any programme on each report date of the window.

    Computed from today's warehouse, so a later correction (a termination entered
    with a past date) also changes the past points: a stored daily figure would
    freeze history, at the cost of a new mart table.
    """
    start, end = window(d, days)
    rows = conn.execute(text(_POPULATION), {"start": start, "end": end})
    return [{"report_date": iso(day), "active_persons": int(n)} for day, n in rows]


def recent_cases(conn: Connection, d: date, limit: int = 12) -> list[dict[str, Any]]:
    """D's newest unsuppressed cases with person and household numbers masked (first 6 + last 4).

    Case keys, names, summaries and evidence stay in the warehouse: keys embed
    ID numbers as delivered, which masking by shape cannot be trusted to catch.
    """
    rows = conn.execute(text(
        "SELECT c.rule_code, c.status, c.first_seen, c.township_code, r.name, c.id_number, "
        "c.household_id FROM mart_case_day c LEFT JOIN ref_region r ON r.code = c.township_code "
        f"WHERE c.report_date = :d AND {NOT_SUPPRESSED} "
        "ORDER BY c.first_seen DESC, c.case_key LIMIT :n"), {"d": d.isoformat(), "n": limit})
    return [{"rule_code": rule, "status": status, "first_seen": (iso(first) or "")[:10],
             "township_code": town, "township_name": name, "id_masked": masked(person),
             "household_masked": masked(household)}
            for rule, status, first, town, name, person, household in rows]
