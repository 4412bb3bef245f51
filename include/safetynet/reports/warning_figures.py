"""The figures a bureau reports upward about its hardship warnings (issue 20), as of report date D.

* **open / closed per township and per code**: a warning is *closed out* when the
  bureau's latest decision on it (loaded for D or before) is ``ASSISTED`` or
  ``NOT_NEEDED``; *open* when it is live on D (NEW or OPEN) and not closed out
  (``VISITING`` is still open). Closed counts every warning ever issued up to D.
* **closed out within 7 days**: of the warnings first seen at least 7 days before D
  (their week has passed), how many had a closing decision loaded within 7 days of
  being first seen.
* **H02 later enrolled**: of the people ever warned as uncovered severely disabled
  (H02) up to D, how many are active members of an active household on D — the
  share of those found who were taken in.

Counts only: no key, name or figure of a person leaves this module.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Connection, select, text

from safetynet.rules.decisions import current_decisions
from safetynet.warehouse.schema import core_warning_disposition, ref_region

CLOSING = ("ASSISTED", "NOT_NEEDED")
WEEK = 7


def warning_figures(conn: Connection, d: date) -> dict[str, Any]:
    """The figures above for D (see the module docstring)."""
    issued = pd.read_sql(text(
        "SELECT case_key, rule_code, township_code, MIN(first_seen) AS first_seen FROM mart_warning_day "
        "WHERE report_date <= :d GROUP BY case_key, rule_code, township_code"), conn,
        params={"d": d.isoformat()})
    live = set(conn.execute(text("SELECT case_key FROM mart_warning_day WHERE report_date = :d "
                                 "AND status IN ('NEW', 'OPEN')"), {"d": d.isoformat()}).scalars())
    closing = _closing(conn, d)
    issued["first_seen"] = issued["first_seen"].astype(str).str[:10]
    issued["closed"] = issued["case_key"].isin(closing)
    issued["open"] = issued["case_key"].isin(live) & ~issued["closed"]
    names = dict(conn.execute(select(ref_region.c.code, ref_region.c.name)).all())
    due = issued[issued["first_seen"] <= (d - timedelta(days=WEEK)).isoformat()]
    week = timedelta(days=WEEK)
    in_week = [k for k, seen in zip(due["case_key"], due["first_seen"], strict=True)
               if k in closing and date.fromisoformat(closing[k]) <= date.fromisoformat(seen) + week]
    return {
        "by_code": _grouped(issued, "rule_code"),
        "by_township": [{**row, "township_name": names.get(row["township_code"])}
                        for row in _grouped(issued, "township_code")],
        "closed_within_7_days": {"due": len(due), "closed": len(in_week)},
        "h02_enrolled": _enrolled(conn, d, issued),
    }


def _closing(conn: Connection, d: date) -> dict[str, str]:
    """Warning key -> the date its closing decision applies from, for keys whose latest decision closes."""
    latest = current_decisions(conn, d, core_warning_disposition)
    closed = latest[latest["outcome"].isin(CLOSING)]
    return dict(zip(closed.index, closed["loaded_for"], strict=True))


def _grouped(issued: pd.DataFrame, column: str) -> list[dict[str, Any]]:
    grouped = issued.fillna({column: "~"}).groupby(column)[["open", "closed"]].sum()
    return [{column: None if key == "~" else key, "open": int(r["open"]), "closed": int(r["closed"])}
            for key, r in grouped.sort_index().iterrows()]


def _enrolled(conn: Connection, d: date, issued: pd.DataFrame) -> dict[str, Any]:
    """How many of the people ever warned under H02 are active members of an active household on D."""
    people = sorted({k.split(":", 1)[1] for k in issued.loc[issued["rule_code"] == "H02", "case_key"]})
    enrolled = 0
    for start in range(0, len(people), 500):
        chunk = people[start:start + 500]
        marks = ", ".join(f":p{i}" for i in range(len(chunk)))
        enrolled += int(conn.execute(text(
            "SELECT COUNT(DISTINCT m.id_norm) FROM core_member m JOIN core_household h "
            "ON h.household_id = m.household_id WHERE h.status = 'ACTIVE' AND h.approved_on <= :d "
            "AND (h.terminated_on IS NULL OR h.terminated_on > :d) AND m.joined_on <= :d "
            f"AND (m.left_on IS NULL OR m.left_on > :d) AND m.id_norm IN ({marks})"),
            {"d": d.isoformat(), **{f"p{i}": p for i, p in enumerate(chunk)}}).scalar() or 0)
    return {"warned": len(people), "enrolled": enrolled,
            "share": round(enrolled / len(people), 4) if people else None}
