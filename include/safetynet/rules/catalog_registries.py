"""Rules over the registries of things people own or run (rules.md R11, R12).

R11 VEHICLE_OWNER reads the vehicle registry's snapshot in force on D
(``:vehicles_snapshot``, like property's); R12 BUSINESS_REGISTRANT the
market-entity registry as extracted. Both are person rules over active members,
joined by valid normalised ID only. A deployment without the source does not
evaluate the rule (``Rule.sources``): it is reported as not evaluated, never as
having no cases.
"""

from __future__ import annotations

from safetynet.rules.registry import Row, Rule, coverage_facts, records

HELD = """v.snapshot_date = :vehicles_snapshot
          AND v.id_kind = '居民身份证' AND v.owner_id_problem IS NULL AND v.owner_id_birth <= :d
          AND v.first_registered_on <= :d
          AND (v.status IS NULL OR v.status NOT IN ('转出', '注销', '报废', '被盗抢'))"""
"""A vehicle is held on D (rules.md): registered by D, not gone, owned by a citizen ID."""
NOT_EXEMPT = """(v.vehicle_type IS NULL OR v.vehicle_type NOT LIKE '%残疾人专用%')
          AND (v.plate_kind IS NULL OR v.plate_kind NOT IN :exempt_plate_kinds)"""
ROLE_KINDS = ("LEGAL_REP", "OPERATOR", "SHAREHOLDER")
ROLE_ZH = {"LEGAL_REP": "法定代表人", "OPERATOR": "经营者", "SHAREHOLDER": "股东"}


def _r11_evidence(rows: list[Row]) -> dict:
    return {"vehicles": records(rows, ["plate_no", "plate_kind", "vehicle_type", "first_registered_on",
                                       "status"]),
            "linked_by": "id_number", **coverage_facts(rows)}


R11 = Rule(
    code="R11", name="VEHICLE_OWNER", name_zh="名下有机动车", severity="medium",
    sources=("civil_affairs", "vehicles"), subject="person",
    query=f"""
        SELECT DISTINCT 'R11:' || m.id_norm AS case_key, m.id_norm AS id_number, m.name,
               m.household_id, m.region_code, v.plate_no, v.plate_kind, v.vehicle_type,
               v.first_registered_on, v.status, m.address, m.monthly_amount, m.benefit_from
        FROM tmp_active_member m
        JOIN core_vehicle v ON v.owner_id_norm = m.id_norm
        WHERE m.id_valid = 1 AND {HELD}
          AND {NOT_EXEMPT}""",
    evidence=_r11_evidence,
    summary=lambda ev: (
        f"疑似名下有机动车：名下有{len(ev['vehicles'])}辆在用机动车（"
        + "、".join(f"{v['plate_no']} {v['plate_kind'] or ''}".strip() for v in ev["vehicles"][:3])
        + ("等" if len(ev["vehicles"]) > 3 else "") + "），不属于残疾人专用车或豁免的号牌种类，待核实。"),
)


def _r12_evidence(rows: list[Row]) -> dict:
    return {"entities": records(rows, ["credit_code", "entity_name", "entity_kind", "role", "share_pct",
                                       "from_on", "to_on", "established_on"]),
            "linked_by": "id_number", **coverage_facts(rows)}


R12 = Rule(
    code="R12", name="BUSINESS_REGISTRANT", name_zh="经营市场主体", severity="medium",
    sources=("civil_affairs", "business"), subject="person",
    query="""
        SELECT DISTINCT 'R12:' || m.id_norm AS case_key, m.id_norm AS id_number, m.name,
               m.household_id, m.region_code, e.credit_code, e.entity_name, e.entity_kind, r.role,
               r.share_pct, r.from_on, r.to_on, e.established_on, m.address, m.monthly_amount,
               m.benefit_from
        FROM tmp_active_member m
        JOIN core_market_role r ON r.id_norm = m.id_norm
        JOIN core_market_entity e ON e.credit_code = r.credit_code
        WHERE m.id_valid = 1 AND r.id_problem IS NULL AND r.id_birth <= :d
          AND r.role IN ('LEGAL_REP', 'OPERATOR', 'SHAREHOLDER')
          AND r.from_on <= :d AND (r.to_on IS NULL OR r.to_on > :d)
          AND e.status = 'OPERATING' AND e.established_on <= :d
          AND (e.closed_on IS NULL OR e.closed_on > :d)""",
    evidence=_r12_evidence,
    summary=lambda ev: (
        f"疑似经营市场主体：在{len({x['credit_code'] for x in ev['entities']})}个存续的市场主体中担任"
        + "、".join(sorted({ROLE_ZH.get(x["role"], x["role"]) for x in ev["entities"]}))
        + "，待核实。"),
)
