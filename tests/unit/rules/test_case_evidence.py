"""Issue 17: every case carries the household's address and what an inspector needs to act.

On the tiny warehouse (SQLite and PostgreSQL): each rule's case has the address
of its household (none for allowance-only cases) and the descriptive evidence
keys with the right values; the existing keys keep their values; and the
descriptive keys stay out of the fingerprint EXPLAINED decisions compare.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import text

from safetynet.pipeline import evaluate_day
from safetynet.reports.extract import EXTRACT_COLUMNS, case_frame
from safetynet.rules.decisions import evidence_sha
from safetynet.rules.registry import DESCRIPTIVE_KEYS, descriptive_keys
from safetynet.warehouse.engine import get_engine
from tests.unit.rules.conftest import D, Warehouse, pid

A, B, C, E = pid("19600101", 1), pid("19700101", 2), pid("19800101", 3), pid("19900101", 4)
S, K = pid("19750101", 5), pid("19650101", 6)  # a payroll employee and a village cadre
VILLAGE = "361103100201"
ADDR1, ADDR2 = "永丰街道永丰社区3组12号", "永丰街道人民路8号2栋301室"


def _household(wh: Warehouse, hid: str, *members: tuple[str, str], address: str = ADDR1,
               amount: float | None = 850.0, approved: date = date(2020, 1, 1),
               joined: date | None = None, program: str = "DIBAO") -> None:
    """A household whose members are (ID, name) pairs; the first is the head."""
    wh.add("core_household", household_id=hid, program=program, area_type="URBAN",
           region_code=VILLAGE, address=address, address_norm=address, status="ACTIVE",
           approved_on=approved, monthly_amount=amount)
    for i, (member, name) in enumerate(members):
        wh.add("core_member", household_id=hid, id_norm=member, name=name,
               relation="户主" if i == 0 else "子女", joined_on=joined or approved)


def _allowance(wh: Warehouse, aid: str, holder: str, kind: str, start: date, amount: float | None) -> None:
    wh.add("core_allowance", allowance_id=aid, id_norm=holder, name="某某", kind=kind,
           region_code=VILLAGE, start_on=start, monthly_amount=amount)


def _cases(wh: Warehouse, rule: str, on: date = D) -> dict[str, tuple[str | None, str | None, dict]]:
    """The rule's live cases on a date: case key → (household_id, address, evidence)."""
    evaluate_day(wh.cfg, on)
    with get_engine(wh.cfg.warehouse_url).connect() as conn:
        rows = conn.execute(text(
            "SELECT case_key, household_id, address, evidence FROM mart_case_day "
            "WHERE report_date = :d AND rule_code = :r AND status <> 'RESOLVED'"),
            {"d": on.isoformat(), "r": rule}).all()
    return {k: (h, a, json.loads(ev)) for k, h, a, ev in rows}


def test_r01_member_allowance_only_and_both(wh: Warehouse) -> None:
    _household(wh, "H1", (A, "张一"), amount=850.0, joined=date(2021, 3, 1))
    _household(wh, "H2", (B, "张二"), address=ADDR2, amount=620.5, approved=date(2019, 6, 1))
    for n, period in enumerate(("2026-08", "2026-09", "2026-10")):
        wh.add("core_payment", payment_id=f"P{n}", household_id="H1", period=period, amount=850.0)
    _allowance(wh, "AL2", C, "DISABILITY_LIVING", date(2021, 1, 1), 80.5)
    _allowance(wh, "AL1", C, "ELDERLY", date(2019, 5, 1), 100.0)
    _allowance(wh, "AL3", B, "DISABILITY_CARE", date(2018, 1, 1), 200.0)
    for n, person in enumerate((A, B, C)):
        wh.add("core_cremation", record_id=f"C{n}", id_norm=person, death_date=date(2026, 8, 3),
               death_month="2026-08", funeral_home="广丰区殡仪馆")
    cases = _cases(wh, "R01")
    hh, address, ev = cases[f"R01:{A}"]  # a member only
    assert (hh, address) == ("H1", ADDR1)
    assert ev["payments_after_death"] == {"count": 2, "sum": 1700.0}  # unchanged by issue 17
    assert ev["monthly_amount"] == 850.0 and ev["benefit_from"] == "2021-03-01"
    assert "allowances" not in ev and "allowance_payments_in_source" not in ev
    hh, address, ev = cases[f"R01:{C}"]  # allowances only
    assert hh is None and address is None
    assert ev["allowances"] == [{"allowance_id": "AL1", "kind": "ELDERLY"},
                                {"allowance_id": "AL2", "kind": "DISABILITY_LIVING"}]
    assert ev["allowance_payments_in_source"] is False
    assert ev["payments_after_death"] == {"count": 0, "sum": 0.0}
    assert ev["monthly_amount"] == 180.5 and ev["benefit_from"] == "2019-05-01"
    hh, address, ev = cases[f"R01:{B}"]  # a member who also holds an allowance
    assert (hh, address) == ("H2", ADDR2)
    assert ev["covered_by"] == ["allowance", "member"]
    assert ev["allowances"] == [{"allowance_id": "AL3", "kind": "DISABILITY_CARE"}]
    assert "allowance_payments_in_source" not in ev  # the household's payments are in the source
    assert ev["monthly_amount"] == 620.5 and ev["benefit_from"] == "2019-06-01"


def test_r02_keeps_its_benefit_start_and_gains_the_amount(wh: Warehouse) -> None:
    _household(wh, "H1", (A, "张一"), amount=None, joined=date(2022, 2, 2))
    wh.add("core_staff", id_norm=A, employer="广丰区财政局", employer_kind="ORGAN", post="科员",
           payroll_from=date(2010, 1, 1))
    hh, address, ev = _cases(wh, "R02")[f"R02:{A}"]
    assert (hh, address) == ("H1", ADDR1)
    assert ev["benefit_from"] == "2022-02-02" and ev["monthly_amount"] is None  # unknown: null
    assert ev["payroll"] == [{"employer": "广丰区财政局", "employer_kind": "ORGAN", "post": "科员",
                              "payroll_from": "2010-01-01", "payroll_to": None}]


def test_r03_declarers_with_employer_post_relation(wh: Warehouse) -> None:
    _household(wh, "H1", (A, "张一"), (B, "张二"), (C, "张三"), amount=500.0)
    wh.add("core_cadre", id_norm=A, name="张一", region_code=VILLAGE, post="委员",
           term_from=date(2021, 1, 1))
    wh.add("core_staff", id_norm=S, name="王五", employer="广丰区教育体育局", employer_kind="ORGAN",
           post="科员", payroll_from=date(2005, 1, 1))
    wh.add("core_cadre", id_norm=K, name="李四", region_code=VILLAGE, post="主任",
           term_from=date(2021, 1, 1))
    wh.add("core_declared_relative", staff_id_norm=S, relative_id_norm=B, relative_name="张二",
           relation="配偶", declared_on=date(2023, 1, 1))
    wh.add("core_declared_relative", staff_id_norm=K, relative_id_norm=C, relative_name="张三",
           relation="子女", declared_on=date(2023, 1, 1))
    cases = _cases(wh, "R03")
    assert set(cases) == {f"R03:{A}", f"R03:{B}", f"R03:{C}"}
    for _, (hh, address, ev) in cases.items():
        assert (hh, address) == ("H1", ADDR1)
        assert ev["monthly_amount"] == 500.0 and ev["benefit_from"] == "2020-01-01"
        assert ev["filing"] is None
    assert cases[f"R03:{A}"][2]["declarers"] == [
        {"declarer_name": "张一", "employer": "村居干部", "post": "委员", "relation": "本人",
         "region": "永丰社区"}]
    assert cases[f"R03:{A}"][2]["links"] == [
        {"role": "cadre", "post": "委员", "relation": None, "declarer_name": "张一",
         "term_from": "2021-01-01", "term_to": None}]
    assert cases[f"R03:{B}"][2]["declarers"] == [
        {"declarer_name": "王五", "employer": "广丰区教育体育局", "post": "科员", "relation": "配偶",
         "region": None}]
    assert cases[f"R03:{C}"][2]["declarers"] == [
        {"declarer_name": "李四", "employer": "村居干部", "post": "主任", "relation": "子女",
         "region": "永丰社区"}]


def _unit(wh: Warehouse, unit: str, owner: str, use: str = "住宅", area: float = 80.5) -> None:
    wh.add("core_property_right", unit_no=unit, id_kind="身份证", owner_id_norm=owner, use=use,
           area=area, location=f"永丰街道{unit}号", registered_on=date(2010, 1, 1))


def test_r04_owners_per_unit_and_r05_facts(wh: Warehouse) -> None:
    _household(wh, "H1", (A, "张一"), (B, "张二"), amount=900.0, approved=date(2018, 1, 1))
    wh.add("core_member", household_id="H1", id_norm=C, name="张三", relation="子女",
           joined_on=date(2024, 4, 4))  # joined later: the household's start is the earliest
    _unit(wh, "U1", A)
    _unit(wh, "U1", B)  # co-owned
    _unit(wh, "U2", B, area=60.0)
    _unit(wh, "U3", C, use="商业", area=35.2)
    hh, address, ev = _cases(wh, "R04")["R04:H1"]
    assert (hh, address) == ("H1", ADDR1)
    assert ev["owners"] == {"U1": ["张一", "张二"], "U2": ["张二"]}
    assert [u["unit_no"] for u in ev["units"]] == ["U1", "U2"]
    assert ev["monthly_amount"] == 900.0 and ev["benefit_from"] == "2018-01-01"
    hh, address, ev = _cases(wh, "R05")[f"R05:{C}"]
    assert (hh, address) == ("H1", ADDR1)
    assert ev["units"] == [{"unit_no": "U3", "use": "商业", "area": 35.2, "location": "永丰街道U3号"}]
    assert ev["monthly_amount"] == 900.0 and ev["benefit_from"] == "2024-04-04"
    assert "owners" not in ev


def _reading(wh: Warehouse, source: str, account: str, month: str, usage: float, address: str,
             holder: str | None = None) -> None:
    row: dict[str, object] = {"source": source, "month": month, "account_no": account,
                              "address": address, "address_norm": address, "usage": usage}
    if holder:
        row["holder_id_norm"] = holder
    wh.add("core_utility_reading", **row)


def test_r06_and_r07_supply_addresses(wh: Warehouse) -> None:
    _household(wh, "H1", (A, "张一"), amount=700.0)
    _household(wh, "H2", (B, "张二"), address=ADDR2, amount=None, approved=date(2022, 5, 1))
    months = ("2026-08", "2026-09", "2026-10")
    for m in months:
        # linked by the holder's ID; the supply address is spelt differently in the latest month
        _reading(wh, "electricity", "E1", m, 600.0,
                 "广丰区永丰街道五号" if m == "2026-10" else "永丰街道5号", holder=A)
        _reading(wh, "electricity", "E2", m, 10.0, ADDR1)  # linked by address
        _reading(wh, "electricity", "E3", m, 0.0, "人民路8号", holder=B)
        _reading(wh, "water", "W1", m, 0.0, "人民路8号（水）", holder=B)
    hh, address, ev = _cases(wh, "R06")["R06:H1"]
    assert (hh, address) == ("H1", ADDR1)
    assert ev["supply_addresses"] == {"electricity:E1": "广丰区永丰街道五号",
                                      "electricity:E2": ADDR1}
    assert ev["accounts"] == [
        {"source": "electricity", "account_no": "E1", "linked_by": ["id_number"]},
        {"source": "electricity", "account_no": "E2", "linked_by": ["address"]}]
    assert ev["mean"] == {"electricity": 610.0}
    assert ev["monthly_amount"] == 700.0 and ev["benefit_from"] == "2020-01-01"
    hh, address, ev = _cases(wh, "R07")["R07:H2"]
    assert (hh, address) == ("H2", ADDR2)
    assert ev["supply_addresses"] == {"electricity:E3": "人民路8号", "water:W1": "人民路8号（水）"}
    assert ev["monthly"] == {"electricity": dict.fromkeys(months, 0.0), "water": dict.fromkeys(months, 0.0)}
    assert ev["monthly_amount"] is None and ev["benefit_from"] == "2022-05-01"


def test_r08_shows_the_address_of_the_cases_household(wh: Warehouse) -> None:
    _household(wh, "H2", (A, "张一"), address=ADDR2, amount=700.0, approved=date(2021, 1, 1))
    _household(wh, "H1", (A, "张一"), address=ADDR1, amount=500.0, approved=date(2019, 1, 1),
               program="TEKUN")
    hh, address, ev = _cases(wh, "R08")[f"R08:{A}"]
    assert (hh, address) == ("H1", ADDR1)  # the case's household: the smallest ID
    assert ev["households"] == [{"household_id": "H1", "program": "TEKUN"},
                                {"household_id": "H2", "program": "DIBAO"}]
    assert ev["monthly_amount"] == 500.0 and ev["benefit_from"] == "2019-01-01"


def test_r09_member_and_allowance_records(wh: Warehouse) -> None:
    bad = A[:17] + ("0" if A[17] != "0" else "1")  # a wrong check character
    _household(wh, "H1", (bad, "张一"), amount=450.0)
    _allowance(wh, "AL9", bad, "DISABILITY_CARE", date(2023, 3, 1), 120.0)
    cases = _cases(wh, "R09")
    hh, address, ev = cases[f"R09:H1:{bad}"]
    assert (hh, address) == ("H1", ADDR1)
    assert ev["record"] == "member" and ev["problem"] == "check_char" and "allowances" not in ev
    assert ev["monthly_amount"] == 450.0 and ev["benefit_from"] == "2020-01-01"
    hh, address, ev = cases[f"R09:AL9:{bad}"]
    assert hh is None and address is None
    assert ev["record"] == "allowance" and ev["value_as_delivered"] == bad
    assert ev["allowances"] == [{"allowance_id": "AL9", "kind": "DISABILITY_CARE"}]
    assert ev["monthly_amount"] == 120.0 and ev["benefit_from"] == "2023-03-01"


def test_r10_allowance_kinds_beside_the_ids(wh: Warehouse) -> None:
    _allowance(wh, "AL5", E, "ELDERLY", date(2025, 7, 1), 100.0)
    _allowance(wh, "AL4", E, "ELDERLY", date(2024, 1, 1), None)
    hh, address, ev = _cases(wh, "R10")[f"R10:{E}"]
    assert hh is None and address is None
    assert ev["allowances"] == ["AL4", "AL5"] and ev["age_on_report_date"] == 36
    assert ev["allowance_kinds"] == {"AL4": "ELDERLY", "AL5": "ELDERLY"}
    assert ev["monthly_amount"] == 100.0 and ev["benefit_from"] == "2024-01-01"


def test_the_extract_has_the_address_right_after_the_name(wh: Warehouse) -> None:
    _household(wh, "H1", (A, "张一"), address=ADDR1)
    _household(wh, "H2", (A, "张一"), address=ADDR2)
    _allowance(wh, "AL1", E, "ELDERLY", date(2024, 1, 1), 100.0)
    evaluate_day(wh.cfg, D)
    with get_engine(wh.cfg.warehouse_url).connect() as conn:
        cases = case_frame(conn, D)
    assert EXTRACT_COLUMNS.index("address") == EXTRACT_COLUMNS.index("name") + 1
    got = {k: (a if isinstance(a, str) else None) for k, a in zip(cases["case_key"], cases["address"],
                                                                  strict=True)}
    assert got == {f"R08:{A}": ADDR1, f"R10:{E}": None}


# --------------------------------------------------------------------------- the fingerprint


def test_descriptive_keys_stay_out_of_the_fingerprint() -> None:
    old = {"households": [{"household_id": "H1", "program": "DIBAO"}], "linked_by": "id_number"}
    old_text = json.dumps(old, ensure_ascii=False, sort_keys=True)
    assert evidence_sha(old_text) == hashlib.sha256(old_text.encode("utf-8")).hexdigest()
    new = {**old, "monthly_amount": 500.0, "benefit_from": "2019-01-01"}
    assert evidence_sha(json.dumps(new, ensure_ascii=False, sort_keys=True)) == evidence_sha(old_text)
    changed = {**new, "households": [*old["households"], {"household_id": "H2", "program": "TEKUN"}]}
    assert evidence_sha(json.dumps(changed, ensure_ascii=False, sort_keys=True)) != evidence_sha(old_text)
    assert evidence_sha("not json") == hashlib.sha256(b"not json").hexdigest()


def test_keys_a_rule_had_before_stay_in_its_fingerprint() -> None:
    r02 = {"payroll": [{"employer": "某局"}], "benefit_from": "2020-01-01", "linked_by": "id_number"}
    r10 = {"birth_date": "1990-01-01", "age_on_report_date": 36, "allowances": ["AL1"],
           "linked_by": "id_number"}
    assert descriptive_keys({**r02, "monthly_amount": 1.0}) == {"monthly_amount"}
    assert descriptive_keys({**r10, "allowance_kinds": {}, "benefit_from": None}) == {
        "allowance_kinds", "benefit_from"}
    assert descriptive_keys({"death_date": "x", "allowances": [], "benefit_from": None}) == {
        "allowances", "benefit_from"}
    moved = {**r02, "benefit_from": "2021-01-01"}  # R02's benefit start still decides
    assert evidence_sha(json.dumps(moved)) != evidence_sha(json.dumps(r02))
    assert {"supply_addresses", "owners", "declarers", "allowance_payments_in_source"} <= DESCRIPTIVE_KEYS


OLD_KEYS = {  # what each rule's evidence did not have before issue 17
    "R02": ["monthly_amount"],
    "R08": ["monthly_amount", "benefit_from"],
    "R10": ["allowance_kinds", "monthly_amount", "benefit_from"],
}


def test_cases_explained_before_the_new_keys_stay_explained(wh: Warehouse, tmp_path: Path) -> None:
    """Day 1 evidence as the old engine wrote it; the decision still holds on the enriched evidence."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    wh.cfg = dataclasses.replace(wh.cfg, inbox=str(inbox))
    _household(wh, "H1", (A, "张一"), (B, "张二"))
    _household(wh, "H2", (A, "张一"), address=ADDR2)
    wh.add("core_staff", id_norm=B, employer="某局", employer_kind="ORGAN", post="科员",
           payroll_from=date(2010, 1, 1))
    _allowance(wh, "AL1", E, "ELDERLY", date(2024, 1, 1), 100.0)
    keys = {"R02": f"R02:{B}", "R08": f"R08:{A}", "R10": f"R10:{E}"}
    evaluate_day(wh.cfg, D)
    old_sha = {}  # what the old evidence_sha (SHA-256 of the text) made of the old evidence
    with get_engine(wh.cfg.warehouse_url).begin() as conn:
        for rule, key in keys.items():
            stored = json.loads(conn.execute(text(
                "SELECT evidence FROM mart_case_day WHERE case_key = :k"), {"k": key}).scalar_one())
            assert set(OLD_KEYS[rule]) <= set(stored)
            old = json.dumps({k: v for k, v in stored.items() if k not in OLD_KEYS[rule]},
                             ensure_ascii=False, sort_keys=True)
            old_sha[key] = hashlib.sha256(old.encode("utf-8")).hexdigest()
            conn.execute(text("UPDATE mart_case_day SET evidence = :e WHERE case_key = :k"),
                         {"e": old, "k": key})
    (inbox / "dispositions_a.csv").write_text(
        "case_key,outcome,note,suppress_until\n" + "".join(f"{k},EXPLAINED,,\n" for k in keys.values()),
        encoding="utf-8")
    day = D + timedelta(1)
    evaluate_day(wh.cfg, day)
    with get_engine(wh.cfg.warehouse_url).connect() as conn:
        kept = dict(conn.execute(text("SELECT case_key, evidence_sha256 FROM core_disposition")).all())
        shown = set(case_frame(conn, day)["case_key"])
        suppressed = {k for (k,) in conn.execute(text(
            "SELECT case_key FROM mart_case_day WHERE report_date = :d AND suppressed = 1"),
            {"d": day.isoformat()})}
    assert kept == old_sha  # a decision stored before the upgrade holds the same fingerprint
    assert suppressed == set(keys.values()) and not shown & set(keys.values())
