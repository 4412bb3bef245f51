"""The rule catalog R01–R12 (rules.md). Each entry is one declaration plus one query
(R11 and R12, over the vehicle and market-entity registries, in ``catalog_registries``).

Evidence functions receive one case's detail rows as plain dicts (``Row``).
Every query also returns the household's ``address`` (the engine puts it on the
case) and what ``coverage_facts`` needs; the descriptive keys
(``registry.DESCRIPTIVE_KEYS``) are added after the keys that decide a case.
"""

from __future__ import annotations

from safetynet.rules.catalog_registries import R11, R12
from safetynet.rules.registry import (
    Row,
    Rule,
    age_on,
    allowance_records,
    coverage_facts,
    first_rows,
    owners,
    problem_code,
    records,
    supply_addresses,
    total,
    units,
    utility_evidence,
    values,
)
from safetynet.transforms import PROBLEM_TEXT


def _r01_evidence(rows: list[Row]) -> dict:
    first = min(rows, key=lambda r: r["death_date"])  # the earliest cremation; ties: first row
    # payments are counted per household, and a household repeats once per cremation record
    paid = [r for r in first_rows(rows, "household_id") if r["household_id"] is not None]
    return {
        "death_date": values(rows, "death_date")[0],
        "funeral_home": first["funeral_home"],
        "payments_after_death": {"count": int(sum(r["payments_after"] or 0 for r in paid)),
                                 "sum": round(total(paid, "paid_after"), 2)},
        "covered_by": values(rows, "via"),
        "households": values(rows, "household_id"),
        "linked_by": "id_number",
        **_allowance_evidence(rows),
        **coverage_facts(rows),
    }


def _allowance_evidence(rows: list[Row]) -> dict:
    """R01's allowances, and that their payments are not in the source (``sa_payment``: households only)."""
    held = allowance_records(rows)
    if not held:
        return {}
    only = all(r["household_id"] is None for r in rows)
    return {"allowances": held, **({"allowance_payments_in_source": False} if only else {})}


R01 = Rule(
    code="R01", name="DECEASED_BENEFICIARY", name_zh="死亡仍享受待遇", severity="high",
    sources=("civil_affairs",), subject="person",
    query="""
        WITH ben AS (
            SELECT id_norm, name, household_id, region_code, 'member' AS via, address,
                   monthly_amount, benefit_from, NULL AS allowance_id, NULL AS kind
            FROM tmp_active_member WHERE id_valid = 1
            UNION ALL
            SELECT id_norm, name, NULL, region_code, 'allowance', NULL,
                   monthly_amount, start_on, allowance_id, kind
            FROM tmp_active_allowance WHERE id_valid = 1
        )
        SELECT 'R01:' || b.id_norm AS case_key, b.id_norm AS id_number, b.name, b.household_id,
               b.region_code, b.via, b.address, b.monthly_amount, b.benefit_from, b.allowance_id,
               b.kind, c.death_date, c.funeral_home,
               (SELECT COUNT(*) FROM core_payment p
                 WHERE p.household_id = b.household_id AND p.period > c.death_month)
                   AS payments_after,
               (SELECT COALESCE(SUM(p.amount), 0) FROM core_payment p
                 WHERE p.household_id = b.household_id AND p.period > c.death_month)
                   AS paid_after
        FROM ben b
        JOIN core_cremation c ON c.id_norm = b.id_norm
        WHERE c.id_problem IS NULL AND c.id_birth <= :d AND c.death_date < :d""",
    evidence=_r01_evidence,
    summary=lambda ev: (
        f"疑似死亡人员仍享受待遇：火化记录显示已于{ev['death_date']}死亡，报告日仍在享受"
        + "、".join({"member": "救助", "allowance": "津补贴"}[v] for v in ev["covered_by"])
        + (f"，死亡次月起仍发放{ev['payments_after_death']['count']}笔"
           f"共{ev['payments_after_death']['sum']:.2f}元" if ev["payments_after_death"]["count"] else "")
        + "，待核实。"),
)


def _r08_evidence(rows: list[Row]) -> dict:
    pairs = sorted(dict.fromkeys((r["household_id"], r["program"]) for r in rows),
                   key=lambda pair: (pair[0] is None, pair[0] or ""))  # by household, nulls last
    return {"households": [{"household_id": h, "program": p} for h, p in pairs],
            "linked_by": "id_number", **coverage_facts(rows)}


R08 = Rule(
    code="R08", name="DUPLICATE_BENEFIT", name_zh="重复享受救助", severity="high",
    sources=("civil_affairs",), subject="person",
    query="""
        SELECT 'R08:' || m.id_norm AS case_key, m.id_norm AS id_number, m.name, m.household_id,
               m.region_code, m.program, m.address, m.monthly_amount, m.benefit_from
        FROM tmp_active_member m
        WHERE m.id_valid = 1 AND m.id_norm IN (
            SELECT id_norm FROM tmp_active_member WHERE id_valid = 1  -- in two households or more
            GROUP BY id_norm HAVING MIN(household_id) <> MAX(household_id))""",  # hashable, unlike DISTINCT
    evidence=_r08_evidence,
    summary=lambda ev: (
        f"疑似重复享受救助：同一人同时为{len(ev['households'])}个在保家庭的在保成员，待核实。"),
)



R02 = Rule(
    code="R02", name="PUBLIC_PAYROLL_MEMBER", name_zh="财政供养人员享受救助", severity="high",
    sources=("civil_affairs", "personnel"), subject="person",
    query="""
        SELECT 'R02:' || m.id_norm AS case_key, m.id_norm AS id_number, m.name, m.household_id,
               m.region_code, m.benefit_from, m.address, m.monthly_amount, s.employer,
               s.employer_kind, s.post, s.payroll_from, s.payroll_to
        FROM tmp_active_member m
        JOIN core_staff s ON s.id_norm = m.id_norm
        WHERE m.id_valid = 1 AND s.id_problem IS NULL
          AND (s.payroll_from IS NULL OR s.payroll_from <= :d)
          AND (s.payroll_to IS NULL OR s.payroll_to >= m.benefit_from)""",
    evidence=lambda rows: {  # its benefit_from predates coverage_facts and is kept as it was
        **coverage_facts(rows),
        "payroll": records(rows, ["employer", "employer_kind", "post", "payroll_from", "payroll_to"]),
        "benefit_from": values(rows, "benefit_from")[0], "linked_by": "id_number"},
    summary=lambda ev: (
        f"疑似财政供养人员享受救助：该成员在{ev['payroll'][0]['employer']}领取财政工资，"
        f"与其享受救助期间重叠，待核实。"),
)

R03 = Rule(
    code="R03", name="CADRE_RELATIVE_UNFILED", name_zh="村居干部及近亲属享受救助未备案",
    severity="medium", sources=("civil_affairs", "personnel"), subject="person",
    query="""
        WITH hits AS (
            SELECT m.id_norm, m.name, m.household_id, m.region_code, 'cadre' AS role,
                   c.post AS post, NULL AS relation, c.name AS declarer_name,
                   c.term_from AS term_from, c.term_to AS term_to,
                   m.address, m.monthly_amount, m.benefit_from,
                   '村居干部' AS employer, '本人' AS declarer_relation,
                   COALESCE(g.name, c.region_code) AS declarer_region
            FROM tmp_active_member m
            JOIN core_cadre c ON c.id_norm = m.id_norm
            LEFT JOIN ref_region g ON g.code = c.region_code
            WHERE m.id_valid = 1 AND c.id_problem IS NULL
              AND (c.term_from IS NULL OR c.term_from <= :d)
              AND (c.term_to IS NULL OR c.term_to >= m.benefit_from)
            UNION ALL
            SELECT m.id_norm, m.name, m.household_id, m.region_code, 'declared_relative',
                   COALESCE(s.post, c.post), r.relation, COALESCE(s.name, c.name), NULL, NULL,
                   m.address, m.monthly_amount, m.benefit_from,
                   CASE WHEN s.id_norm IS NOT NULL THEN s.employer ELSE '村居干部' END, r.relation,
                   CASE WHEN s.id_norm IS NULL THEN COALESCE(g.name, c.region_code) END
            FROM tmp_active_member m
            JOIN core_declared_relative r ON r.relative_id_norm = m.id_norm
            LEFT JOIN core_staff s ON s.id_norm = r.staff_id_norm AND s.id_problem IS NULL
            LEFT JOIN core_cadre c ON c.id_norm = r.staff_id_norm AND c.id_problem IS NULL
            LEFT JOIN ref_region g ON g.code = c.region_code
            WHERE m.id_valid = 1 AND r.relative_id_problem IS NULL
              AND r.staff_id_problem IS NULL AND r.staff_id_birth <= :d
              AND (s.id_norm IS NOT NULL OR c.id_norm IS NOT NULL)
        )
        SELECT 'R03:' || h.id_norm AS case_key, h.id_norm AS id_number, h.name, h.household_id,
               h.region_code, h.role, h.post, h.relation, h.declarer_name, h.term_from, h.term_to,
               h.address, h.monthly_amount, h.benefit_from, h.employer, h.declarer_relation,
               h.declarer_region
        FROM hits h
        WHERE NOT EXISTS (
            SELECT 1 FROM core_relative_filing f
            WHERE f.id_norm = h.id_norm AND f.id_problem IS NULL AND f.filed_on <= :d)""",
    evidence=lambda rows: {
        "links": records(rows, ["role", "post", "relation", "declarer_name", "term_from", "term_to"]),
        "filing": None, "linked_by": "id_number",
        "declarers": [{"declarer_name": d["declarer_name"], "employer": d["employer"], "post": d["post"],
                       "relation": d["declarer_relation"], "region": d["declarer_region"]}
                      for d in records(rows, ["declarer_name", "employer", "post",
                                              "declarer_relation", "declarer_region"])],
        **coverage_facts(rows)},
    summary=lambda ev: (
        "疑似村居干部或其近亲属享受救助但未备案："
        + ("本人为村居干部" if any(x["role"] == "cadre" for x in ev["links"])
           else f"其为{ev['links'][0]['declarer_name']}申报的近亲属")
        + "，截至报告日无近亲属备案记录，待核实。"),
)

STANDING = """p.snapshot_date = :property_snapshot
          AND p.id_kind = '身份证' AND p.owner_id_problem IS NULL AND p.owner_id_birth <= :d
          AND p.registered_on <= :d AND (p.cancelled_on IS NULL OR p.cancelled_on > :d)"""

R04 = Rule(
    code="R04", name="MULTIPLE_HOMES", name_zh="家庭名下多套住房", severity="medium",
    sources=("civil_affairs", "property"), subject="household",
    query=f"""
        WITH owned AS (
            SELECT DISTINCT m.household_id, p.unit_no, p.use, p.area, p.location,
                   m.name AS owner_name
            FROM tmp_active_member m
            JOIN core_property_right p ON p.owner_id_norm = m.id_norm
            WHERE m.id_valid = 1 AND p.use = '住宅' AND {STANDING}
        ), many AS (
            SELECT household_id FROM owned GROUP BY household_id
            HAVING COUNT(DISTINCT unit_no) >= :max_units + 1
        )
        SELECT 'R04:' || o.household_id AS case_key, hd.id_norm AS id_number, hd.name,
               o.household_id, h.region_code, o.unit_no, o.use, o.area, o.location, o.owner_name,
               h.address, h.monthly_amount, h.benefit_from
        FROM owned o
        JOIN many USING (household_id)
        JOIN tmp_active_household h ON h.household_id = o.household_id
        LEFT JOIN tmp_household_head hd ON hd.household_id = o.household_id""",
    evidence=lambda rows: {"units": units(rows), "linked_by": "id_number", "owners": owners(rows),
                           **coverage_facts(rows)},
    summary=lambda ev: (
        f"疑似家庭名下多套住房：在保成员名下共有{len(ev['units'])}套现存住宅，待核实。"),
)

R05 = Rule(
    code="R05", name="NON_RESIDENTIAL_PROPERTY", name_zh="名下有经营性房产", severity="medium",
    sources=("civil_affairs", "property"), subject="person",
    query=f"""
        SELECT DISTINCT 'R05:' || m.id_norm AS case_key, m.id_norm AS id_number, m.name,
               m.household_id, m.region_code, p.unit_no, p.use, p.area, p.location,
               m.address, m.monthly_amount, m.benefit_from
        FROM tmp_active_member m
        JOIN core_property_right p ON p.owner_id_norm = m.id_norm
        WHERE m.id_valid = 1 AND p.use IN :non_residential AND {STANDING}""",
    evidence=lambda rows: {"units": units(rows), "linked_by": "id_number", **coverage_facts(rows)},
    summary=lambda ev: (
        f"疑似名下有经营性房产：名下有{len(ev['units'])}处现存"
        f"{'、'.join(sorted({u['use'] for u in ev['units']}))}用途房产，待核实。"),
)


def _utility_evidence(rows: list[Row]) -> dict:
    """R06/R07: accounts and monthly totals, plus each account's supply address and the coverage facts."""
    return {**utility_evidence(rows), "supply_addresses": supply_addresses(rows), **coverage_facts(rows)}


_HOUSEHOLD_UTILITY = """
        SELECT {key} AS case_key, hd.id_norm AS id_number, hd.name, l.household_id,
               h.region_code, l.source, l.account_no, l.month, l.usage, l.by_id, l.by_address,
               l.address AS supply_address, h.address, h.monthly_amount, h.benefit_from
        FROM tmp_utility_link l
        JOIN hits USING (household_id)
        JOIN tmp_active_household h ON h.household_id = l.household_id
        LEFT JOIN tmp_household_head hd ON hd.household_id = l.household_id"""

R06 = Rule(
    code="R06", name="HIGH_ELECTRICITY", name_zh="用电量异常偏高", severity="low",
    sources=("civil_affairs", "electricity"), subject="household",
    query="""
        WITH monthly AS (
            SELECT household_id, month, amount AS kwh FROM tmp_household_month
            WHERE source = 'electricity'
        ), hits AS (
            SELECT household_id FROM monthly GROUP BY household_id
            HAVING COUNT(*) >= 2 AND ROUND(CAST(AVG(kwh) AS NUMERIC), 6) > :high_kwh
        )""" + _HOUSEHOLD_UTILITY.format(key="'R06:' || l.household_id") + """
        WHERE l.source = 'electricity'""",
    evidence=_utility_evidence,
    summary=lambda ev: (
        f"疑似用电量异常偏高：近{len(ev['monthly']['electricity'])}个月关联电表月均用电"
        f"{ev['mean']['electricity']}千瓦时，超过阈值，待核实。"),
)

R07 = Rule(
    code="R07", name="VACANT_DWELLING", name_zh="疑似长期无人居住", severity="medium",
    sources=("civil_affairs", "electricity", "water"), subject="household",
    query="""
        WITH monthly AS (
            SELECT source, household_id, month, amount FROM tmp_household_month
        ), zero_power AS (
            SELECT household_id FROM monthly WHERE source = 'electricity'
            GROUP BY household_id HAVING COUNT(*) = :electricity_n AND MAX(ABS(amount)) = 0
        ), water_linked AS (  -- a linked water account in any loaded month, not only the window
            SELECT household_id FROM tmp_water_linked
        ), zero_water AS (
            SELECT household_id FROM monthly WHERE source = 'water'
            GROUP BY household_id HAVING COUNT(*) = :water_n AND MAX(ABS(amount)) = 0
        ), hits AS (
            SELECT household_id FROM zero_power
            WHERE household_id NOT IN (SELECT household_id FROM water_linked)
               OR household_id IN (SELECT household_id FROM zero_water)
        )""" + _HOUSEHOLD_UTILITY.format(key="'R07:' || l.household_id"),
    evidence=_utility_evidence,
    summary=lambda ev: (
        f"疑似长期无人居住：近{len(ev['monthly']['electricity'])}个月关联电表用电均为0"
        + ("，用水亦为0" if ev["monthly"].get("water") else "") + "，待核实。"),
)

R09 = Rule(
    code="R09", name="INVALID_ID", name_zh="身份证号码无效", severity="low",
    sources=("civil_affairs",), subject="record",
    query="""
        SELECT 'R09:' || m.household_id || ':' || COALESCE(m.id_raw, '') AS case_key,
               m.id_raw AS id_number, m.name, m.household_id, m.region_code,
               'member' AS record_kind, m.id_problem, m.id_norm, m.address, m.monthly_amount,
               m.benefit_from, NULL AS allowance_id, NULL AS kind
        FROM tmp_active_member m WHERE m.id_valid = 0
        UNION ALL
        SELECT 'R09:' || a.allowance_id || ':' || COALESCE(a.id_raw, ''), a.id_raw, a.name, NULL,
               a.region_code, 'allowance', a.id_problem, a.id_norm, NULL, a.monthly_amount,
               a.start_on, a.allowance_id, a.kind
        FROM tmp_active_allowance a WHERE a.id_valid = 0""",
    evidence=lambda rows: {
        "value_as_delivered": rows[0]["id_number"],
        "record": rows[0]["record_kind"],
        "problem": problem_code(rows[0]),
        "why": PROBLEM_TEXT[problem_code(rows[0])],
        **({"allowances": allowance_records(rows)} if rows[0]["record_kind"] == "allowance" else {}),
        **coverage_facts(rows)},
    summary=lambda ev: f"疑似身份证号码无效（{ev['why']}），无法与其他部门数据比对，待核实。",
)

R10 = Rule(
    code="R10", name="UNDERAGE_ELDERLY_ALLOWANCE", name_zh="高龄津贴年龄不符", severity="medium",
    sources=("civil_affairs",), subject="person",
    query="""
        SELECT 'R10:' || a.id_norm AS case_key, a.id_norm AS id_number, a.name, NULL AS household_id,
               a.region_code, a.allowance_id, a.id_birth, :d AS report_date, NULL AS address,
               a.kind, a.monthly_amount, a.start_on AS benefit_from
        FROM tmp_active_allowance a
        WHERE a.kind = 'ELDERLY' AND a.id_valid = 1 AND a.id_birth > :elderly_cutoff""",
    evidence=lambda rows: {
        "birth_date": values(rows, "id_birth")[0],
        "age_on_report_date": age_on(values(rows, "id_birth")[0], str(rows[0]["report_date"])),
        "allowances": values(rows, "allowance_id"), "linked_by": "id_number",
        "allowance_kinds": {r["allowance_id"]: r["kind"] for r in allowance_records(rows)},
        **coverage_facts(rows)},
    summary=lambda ev: (
        f"疑似高龄津贴年龄不符：按身份证号码出生日期{ev['birth_date']}，"
        f"报告日年龄{ev['age_on_report_date']}岁，未达发放年龄，待核实。"),
)

RULES: tuple[Rule, ...] = (R01, R02, R03, R04, R05, R06, R07, R08, R09, R10, R11, R12)


def keyed_by_person() -> tuple[str, ...]:
    """The codes of the rules and hardship warnings whose key ends in a person's ID or a record number.

    Views and pages that show case or warning keys without full IDs mask that last part.
    """
    from safetynet.rules.catalog_warnings import WARNINGS  # declared beside the rules, importing them

    return tuple(r.code for r in (*RULES, *WARNINGS) if r.subject in ("person", "record"))
