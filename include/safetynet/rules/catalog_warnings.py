"""Hardship warnings H01–H04 (rules.md "Hardship warnings"): the same declarations as the rules.

A warning is a :class:`~safetynet.rules.registry.Rule` evaluated by the same
engine, with the same evidence and summary conventions and the same life (NEW,
OPEN, RESOLVED), kept apart from the cases (``mart_warning_day``) because it goes
to the bureau's social-assistance unit, never to the discipline-inspection office.
Each summary ends with what to do (建议…). H01 is the only reader of medical data.

Ages are whole years from the birth date in a valid ID (:data:`AGE`), in SQL that
SQLite and PostgreSQL read alike.
"""

from __future__ import annotations

from safetynet.rules.catalog import STANDING
from safetynet.rules.catalog_registries import HELD, NOT_EXEMPT, ROLE_KINDS
from safetynet.rules.registry import Row, Rule, coverage_facts, records, total

_TEXT = "CAST({} AS TEXT)"
AGE = ("(CAST(SUBSTR({at}, 1, 4) AS INTEGER) - CAST(SUBSTR({birth}, 1, 4) AS INTEGER)"
       " - CASE WHEN SUBSTR({at}, 6, 5) < SUBSTR({birth}, 6, 5) THEN 1 ELSE 0 END)")


def age_sql(birth: str, at: str) -> str:
    """SQL for the age in whole years on ``at`` of a person born on ``birth`` (date columns)."""
    return AGE.format(birth=_TEXT.format(birth), at=_TEXT.format(at))


def _h01_evidence(rows: list[Row]) -> dict:
    months = {r["month"]: round(r["month_self_paid"], 2) for r in rows}
    return {"months": dict(sorted(months.items())),
            "self_paid_total": round(total(rows, "month_self_paid"), 2),
            "settlements": sum(int(r["settlements"]) for r in rows),
            "beneficiary": bool(rows[0]["beneficiary"]), "threshold": rows[0]["threshold"],
            "window_from": rows[0]["window_from"], "linked_by": "id_number"}


H01 = Rule(
    code="H01", name="MEDICAL_BURDEN", name_zh="大额医疗费用负担", severity="medium",
    sources=("civil_affairs", "medical"), subject="person",
    query="""
        WITH candidate AS (  -- people whose window total can reach the lower threshold: a few percent
            SELECT s.person_id_norm AS id_norm
            FROM core_medical_settlement s
            WHERE s.person_id_problem IS NULL AND s.person_id_birth <= :d
              AND s.settled_on >= :medical_from AND s.settled_on <= :d AND s.self_paid IS NOT NULL
              /* in scope: id s.person_id_norm */
            GROUP BY s.person_id_norm
            HAVING SUM(s.self_paid) >= :burden_floor
        ), spent AS (
            SELECT s.person_id_norm AS id_norm, s.month, SUM(s.self_paid) AS month_self_paid,
                   COUNT(*) AS settlements, MAX(s.name) AS month_name
            FROM core_medical_settlement s
            JOIN candidate c ON c.id_norm = s.person_id_norm
            WHERE s.person_id_problem IS NULL AND s.person_id_birth <= :d
              AND s.settled_on >= :medical_from AND s.settled_on <= :d AND s.self_paid IS NOT NULL
            GROUP BY s.person_id_norm, s.month
        ), person AS (
            SELECT id_norm, ROUND(CAST(SUM(month_self_paid) AS NUMERIC), 2) AS self_paid,
                   MAX(month_name) AS name
            FROM spent GROUP BY id_norm
        ), home AS (
            SELECT id_norm, MIN(household_id) AS household_id FROM tmp_active_member
            WHERE id_valid = 1 GROUP BY id_norm
        ), allowance AS (
            SELECT id_norm, MIN(region_code) AS region_code FROM tmp_active_allowance
            WHERE id_valid = 1 GROUP BY id_norm
        ), judged AS (
            SELECT p.id_norm, hm.household_id, a.region_code AS allowance_region,
                   CASE WHEN hm.id_norm IS NOT NULL OR a.id_norm IS NOT NULL THEN 1 ELSE 0 END
                       AS beneficiary,
                   CASE WHEN hm.id_norm IS NOT NULL OR a.id_norm IS NOT NULL
                        THEN :burden_enrolled ELSE :burden_general END AS threshold,
                   p.self_paid, p.name
            FROM person p
            LEFT JOIN home hm ON hm.id_norm = p.id_norm
            LEFT JOIN allowance a ON a.id_norm = p.id_norm
        )
        SELECT 'H01:' || j.id_norm AS case_key, j.id_norm AS id_number,
               COALESCE(m.name, j.name) AS name, j.household_id,
               COALESCE(h.region_code, j.allowance_region) AS region_code, h.address,
               s.month, s.month_self_paid, s.settlements, j.beneficiary, j.threshold,
               :medical_from AS window_from
        FROM judged j
        JOIN spent s ON s.id_norm = j.id_norm
        LEFT JOIN tmp_active_household h ON h.household_id = j.household_id
        LEFT JOIN tmp_active_member m ON m.household_id = j.household_id AND m.id_norm = j.id_norm
        WHERE j.self_paid >= j.threshold""",
    evidence=_h01_evidence,
    summary=lambda ev: (
        f"近{len(ev['months'])}个月有医保结算、个人自付合计{ev['self_paid_total']:,.2f}元，"
        + ("为在保对象，" if ev["beneficiary"] else "未纳入救助，")
        + f"达到{ev['threshold']:,.0f}元预警线；建议核查是否符合医疗救助或临时救助条件。"),
)

H02 = Rule(
    code="H02", name="UNCOVERED_SEVERE_DISABILITY", name_zh="重度残疾人未纳入救助", severity="medium",
    sources=("civil_affairs", "personnel", "property", "vehicles", "business"), subject="person",
    query=f"""
        SELECT 'H02:' || a.id_norm AS case_key, a.id_norm AS id_number, a.name,
               NULL AS household_id, a.region_code, NULL AS address, a.allowance_id, a.kind,
               a.start_on, a.monthly_amount, a.start_on AS benefit_from,
               (SELECT COUNT(DISTINCT p.unit_no) FROM core_property_right p
                WHERE p.owner_id_norm = a.id_norm AND p.use = '住宅' AND {STANDING}) AS homes
        FROM tmp_active_allowance a
        WHERE a.kind = 'DISABILITY_CARE' AND a.id_valid = 1
          AND NOT EXISTS (SELECT 1 FROM tmp_active_member m
                          WHERE m.id_valid = 1 AND m.id_norm = a.id_norm)
          AND NOT EXISTS (SELECT 1 FROM core_property_right p
                          WHERE p.owner_id_norm = a.id_norm AND p.use IN :non_residential
                            AND {STANDING})
          AND (SELECT COUNT(DISTINCT p.unit_no) FROM core_property_right p
               WHERE p.owner_id_norm = a.id_norm AND p.use = '住宅' AND {STANDING}) <= :max_units
          AND NOT EXISTS (SELECT 1 FROM core_vehicle v
                          WHERE v.owner_id_norm = a.id_norm AND {HELD} AND {NOT_EXEMPT})
          AND NOT EXISTS (SELECT 1 FROM core_market_role r
                          JOIN core_market_entity e ON e.credit_code = r.credit_code
                          WHERE r.id_norm = a.id_norm AND r.id_problem IS NULL AND r.id_birth <= :d
                            AND r.role IN {ROLE_KINDS!r} AND r.from_on <= :d
                            AND (r.to_on IS NULL OR r.to_on > :d)
                            AND e.status = 'OPERATING' AND e.established_on <= :d
                            AND (e.closed_on IS NULL OR e.closed_on > :d))
          -- NOT IN over a null-free list (same meaning as NOT EXISTS): PostgreSQL hashes the
          -- payroll once; NOT EXISTS after four anti-joins was a nested loop scanning it per person
          AND a.id_norm NOT IN (SELECT s.id_norm FROM core_staff s
                                WHERE s.id_norm IS NOT NULL AND s.id_problem IS NULL
                                  AND (s.payroll_from IS NULL OR s.payroll_from <= :d)
                                  AND (s.payroll_to IS NULL OR s.payroll_to >= :d))""",
    evidence=lambda rows: {
        "allowances": records(rows, ["allowance_id", "kind", "start_on"]),
        "checked": {"active_member": False, "non_residential_units": 0,
                    "residential_units": int(rows[0]["homes"]), "vehicles_not_exempt": 0,
                    "business_roles": 0, "public_payroll": False},
        "linked_by": "id_number", **coverage_facts(rows)},
    summary=lambda ev: (
        "领取重度残疾人护理补贴，但不在任何在保家庭中，且未见名下经营性房产、多套住房、非豁免车辆、"
        "经营市场主体或财政供养；建议核查是否符合低保或特困供养等救助条件。"),
)

H03 = Rule(
    code="H03", name="SILENT_HOME_ELDERLY", name_zh="独居老人用电骤停", severity="high",
    sources=("civil_affairs", "electricity"), subject="household",
    query=f"""
        WITH alone AS (
            SELECT household_id FROM tmp_active_member GROUP BY household_id HAVING COUNT(*) = 1
        ), power AS (
            SELECT household_id,
                   MAX(CASE WHEN month = :silent_month THEN amount END) AS last_kwh,
                   MAX(CASE WHEN month = :silent_before THEN amount END) AS before_kwh
            FROM tmp_silent_household_month GROUP BY household_id
        )
        SELECT 'H03:' || m.household_id AS case_key, m.id_norm AS id_number, m.name, m.household_id,
               m.region_code, m.address, m.id_birth, {age_sql("m.id_birth", ":d")} AS age,
               :silent_month AS last_month, p.last_kwh, :silent_before AS before_month, p.before_kwh,
               m.monthly_amount, m.benefit_from
        FROM tmp_active_member m
        JOIN alone USING (household_id)
        JOIN power p ON p.household_id = m.household_id
        WHERE m.id_valid = 1 AND {age_sql("m.id_birth", ":d")} >= :silent_min_age
          AND p.last_kwh = 0 AND p.before_kwh > 0""",
    evidence=lambda rows: {
        "member": {"age": int(rows[0]["age"]), "birth_date": rows[0]["id_birth"]},
        "electricity": {"month_before": rows[0]["before_month"],
                        "kwh_before": round(rows[0]["before_kwh"], 2),
                        "latest_month": rows[0]["last_month"], "kwh_latest": round(rows[0]["last_kwh"], 2)},
        "linked_by": "household", **coverage_facts(rows)},
    summary=lambda ev: (
        f"独居老人（{ev['member']['age']}岁）家庭用电骤停：{ev['electricity']['month_before']}用电"
        f"{ev['electricity']['kwh_before']:g}千瓦时，{ev['electricity']['latest_month']}为0；建议尽快入户探访。"),
)


def _h04_evidence(rows: list[Row]) -> dict:
    deceased = records(rows, ["deceased_relation", "deceased_age", "death_date"])
    others = records([r for r in rows if r["other_age"] is not None], ["other_relation", "other_age"])
    return {"deceased": [{"relation": x["deceased_relation"], "age_at_death": x["deceased_age"],
                          "death_date": x["death_date"]} for x in deceased],
            "remaining_members": [{"relation": x["other_relation"], "age": x["other_age"]} for x in others],
            "linked_by": "id_number", **coverage_facts(rows)}


H04 = Rule(
    code="H04", name="BREADWINNER_DIED", name_zh="家庭主要劳动力死亡", severity="high",
    sources=("civil_affairs",), subject="household",
    query=f"""
        WITH died AS (
            SELECT DISTINCT mem.household_id, c.id_norm, c.death_date, mem.relation,
                   {age_sql("c.id_birth", "c.death_date")} AS age
            FROM core_cremation c
            JOIN core_member mem ON mem.id_norm = c.id_norm AND mem.id_problem IS NULL
                 AND mem.joined_on <= c.death_date
                 AND (mem.left_on IS NULL OR mem.left_on >= c.death_date)
            JOIN tmp_active_household h ON h.household_id = mem.household_id
            WHERE c.id_problem IS NULL AND c.id_birth <= :d
              AND c.death_date >= :breadwinner_from AND c.death_date < :d
              /* in scope: household mem.household_id */
              AND {age_sql("c.id_birth", "c.death_date")} BETWEEN 18 AND 59
        ), others AS (
            SELECT o.household_id, o.id_norm, o.relation, {age_sql("o.id_birth", ":d")} AS age
            FROM tmp_active_member o WHERE o.id_valid = 1
        ), hits AS (
            SELECT DISTINCT d.household_id FROM died d
            JOIN others o ON o.household_id = d.household_id AND o.id_norm <> d.id_norm
            WHERE o.age < 18 OR o.age >= 60
        )
        SELECT 'H04:' || d.household_id AS case_key, hd.id_norm AS id_number, hd.name, d.household_id,
               h.region_code, h.address, d.relation AS deceased_relation, d.age AS deceased_age,
               d.death_date, o.relation AS other_relation, o.age AS other_age,
               h.monthly_amount, h.benefit_from
        FROM died d
        JOIN hits USING (household_id)
        JOIN tmp_active_household h ON h.household_id = d.household_id
        LEFT JOIN tmp_household_head hd ON hd.household_id = d.household_id
        LEFT JOIN others o ON o.household_id = d.household_id AND o.id_norm <> d.id_norm""",
    evidence=_h04_evidence,
    summary=lambda ev: (
        f"家庭成员（{ev['deceased'][0]['relation'] or '成员'}，{ev['deceased'][0]['age_at_death']}岁）"
        f"于{ev['deceased'][0]['death_date']}死亡，家中尚有未成年人或老年人；"
        "建议尽快入户探访，核查是否符合临时救助或低保条件。"),
)

WARNINGS: tuple[Rule, ...] = (H01, H02, H03, H04)
"""The hardship warnings, in code order."""

WARNING_THRESHOLDS = ("medical_window_months", "medical_burden_enrolled", "medical_burden_general",
                      "silent_home_min_age", "breadwinner_window_days")
"""Configuration only the warnings read: left out of the inspectors' manifest and workbook."""
