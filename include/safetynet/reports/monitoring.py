"""``monitoring_YYYYMMDD.csv``: dynamic monitoring of the low-income population (outputs.md).

Per township and programme (低保/特困 households, and each allowance kind): active
households and persons on D, memberships that entered and left since the
previous report date (D's predecessor in the report chain, ``rules.chain``), and
persons with at least one open case. Aggregates only:
no ID number or name leaves the warehouse in this file. Set-based SQL; "active
on a date" is rules.md's definition, evaluated for D and for the previous date.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, bindparam, text

from safetynet.reports.csvsafe import write_safe_csv
from safetynet.rules.catalog import RULES
from safetynet.rules.chain import predecessor

HOUSEHOLD_PROGRAMMES = ("DIBAO", "TEKUN")  # allowances are individual: no household count
COLUMNS = ["township_code", "township_name", "programme", "active_households", "active_persons",
           "entered", "left", "persons_with_open_case", "previous_report_date"]

_MEMBERS = """
    SELECT r.township_code, h.program AS programme, m.household_id,
           m.household_id || ':' || CASE WHEN m.id_problem IS NULL THEN m.id_norm
                                         ELSE COALESCE(m.id_raw, '') END AS membership,
           CASE WHEN m.id_problem IS NULL THEN m.id_norm ELSE m.household_id || ':' || COALESCE(m.id_raw, '')
           END AS person, m.id_norm, m.household_id || ':' || COALESCE(m.id_raw, '') AS record_key
    FROM core_member m JOIN core_household h ON h.household_id = m.household_id
    LEFT JOIN ref_region r ON r.code = h.region_code
    WHERE h.status = 'ACTIVE' AND h.approved_on <= {d} AND (h.terminated_on IS NULL OR h.terminated_on > {d})
      AND m.joined_on <= {d} AND (m.left_on IS NULL OR m.left_on > {d})"""
_ALLOWANCES = """
    SELECT r.township_code, a.kind AS programme, NULL AS household_id, a.allowance_id AS membership,
           CASE WHEN a.id_problem IS NULL THEN a.id_norm ELSE a.allowance_id END AS person,
           a.id_norm, a.allowance_id || ':' || COALESCE(a.id_raw, '') AS record_key
    FROM core_allowance a LEFT JOIN ref_region r ON r.code = a.region_code
    WHERE a.start_on <= {d} AND (a.end_on IS NULL OR a.end_on > {d})"""
_SQL = """
    WITH now_active AS ({now}), then_active AS ({then}),
    open_cases AS (SELECT case_key, rule_code, household_id, id_number FROM mart_case_day
                   WHERE report_date = :d AND status IN ('NEW', 'OPEN')),
    flagged AS (
        SELECT n.*, CASE WHEN o.membership IS NULL AND :p IS NOT NULL THEN 1 ELSE 0 END AS is_new,
               CASE WHEN n.household_id IN (SELECT household_id FROM open_cases
                                            WHERE rule_code IN :household_rules)
                      OR n.id_norm IN (SELECT id_number FROM open_cases WHERE rule_code IN :person_rules)
                      OR n.record_key IN (SELECT SUBSTR(case_key, LENGTH(rule_code) + 2) FROM open_cases
                                          WHERE rule_code IN :record_rules)
                    THEN n.person END AS open_person
        FROM now_active n LEFT JOIN then_active o ON o.membership = n.membership
    ),
    now_counts AS (
        SELECT township_code, programme, COUNT(DISTINCT household_id) AS active_households,
               COUNT(DISTINCT person) AS active_persons, SUM(is_new) AS entered,
               COUNT(DISTINCT open_person) AS persons_with_open_case
        FROM flagged GROUP BY township_code, programme
    ),
    left_counts AS (
        SELECT o.township_code, o.programme, COUNT(*) AS left_count
        FROM then_active o LEFT JOIN now_active n ON n.membership = o.membership
        WHERE n.membership IS NULL GROUP BY o.township_code, o.programme
    ),
    groups AS (SELECT township_code, programme FROM now_counts
               UNION SELECT township_code, programme FROM left_counts)
    SELECT g.township_code, t.name AS township_name, g.programme,
           COALESCE(c.active_households, 0) AS active_households,
           COALESCE(c.active_persons, 0) AS active_persons, COALESCE(c.entered, 0) AS entered,
           COALESCE(l.left_count, 0) AS left, COALESCE(c.persons_with_open_case, 0) AS persons_with_open_case
    FROM groups g
    LEFT JOIN now_counts c ON c.programme = g.programme AND {same_town_c}
    LEFT JOIN left_counts l ON l.programme = g.programme AND {same_town_l}
    LEFT JOIN ref_region t ON t.code = g.township_code"""


def monitoring_frame(conn: Connection, d: date) -> pd.DataFrame:
    """One row per township and programme for D, ordered by township then programme."""
    prev = predecessor(conn, d)  # the chain's, so a later back-fill does not change D's figures
    prev_iso = prev.isoformat() if prev else None
    same = "IS" if conn.dialect.name == "sqlite" else "IS NOT DISTINCT FROM"
    sql = _SQL.format(
        now=f"{_MEMBERS.format(d=':d')} UNION ALL {_ALLOWANCES.format(d=':d')}",
        then=f"{_MEMBERS.format(d=':p')} UNION ALL {_ALLOWANCES.format(d=':p')}",
        same_town_c=f"c.township_code {same} g.township_code",
        same_town_l=f"l.township_code {same} g.township_code")
    subjects = {kind: [r.code for r in RULES if r.subject == kind] or [""]
                for kind in ("household", "person", "record")}
    stmt = text(sql).bindparams(*(bindparam(f"{k}_rules", expanding=True) for k in subjects))
    frame = pd.read_sql(stmt, conn, params={"d": d.isoformat(), "p": prev_iso,
                                            **{f"{k}_rules": v for k, v in subjects.items()}})
    if prev_iso is None:  # the first report has nothing to compare with
        frame["entered"] = pd.NA
        frame["left"] = pd.NA
    frame["previous_report_date"] = prev_iso
    households = frame["programme"].isin(HOUSEHOLD_PROGRAMMES)
    frame["active_households"] = frame["active_households"].astype("Int64").where(households)
    frame = frame.sort_values(["township_code", "programme"], na_position="last")
    return frame[COLUMNS].reset_index(drop=True)


def write_monitoring_csv(frame: pd.DataFrame, path: Path) -> int:
    """UTF-8 with BOM like the case CSV, so it opens cleanly in Excel."""
    return write_safe_csv(frame, path)
