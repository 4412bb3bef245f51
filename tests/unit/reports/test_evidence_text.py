"""The evidence as readable Chinese (证据说明): one line per fact, units, no English keys or codes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from safetynet.reports.evidence_text import evidence_lines, evidence_text
from safetynet.rules.catalog import RULES
from safetynet.transforms import PROBLEM_TEXT

PID = "361103196001010012"
BAD_ID = "36110319600101001"
HH1, HH2 = "DB3611030000123", "TK3611030000456"
UNIT1, UNIT2 = "361103001001GB00012F00010001", "361103001001GB00012F00020003"
AL1, AL2 = "BT3611030000077", "BT3611030000078"
PLATE = "赣E12345"
CREDIT, CREDIT2 = "92361103MA35XYZ12K", "91361103MA38ABCD5Q"

EVIDENCE: dict[str, dict[str, Any]] = {
    "R01": {"death_date": "2026-08-03", "funeral_home": "广丰区殡仪馆",
            "payments_after_death": {"count": 2, "sum": 1700.0}, "covered_by": ["allowance", "member"],
            "households": [HH1], "linked_by": "id_number",
            "allowances": [{"allowance_id": AL1, "kind": "ELDERLY"}],
            "monthly_amount": 850.0, "benefit_from": "2021-03-01"},
    "R02": {"payroll": [{"employer": "广丰区财政局", "employer_kind": "ORGAN", "post": "副主任科员",
                         "payroll_from": "2010-01-01", "payroll_to": None},
                        {"employer": "广丰区人民医院", "employer_kind": "INSTITUTION", "post": "护士",
                         "payroll_from": "2001-09-01", "payroll_to": "2009-12-31"}],
            "benefit_from": "2022-02-02", "linked_by": "id_number", "monthly_amount": 620.5},
    "R03": {"links": [{"role": "declared_relative", "post": "科员", "relation": "配偶",
                       "declarer_name": "王五", "term_from": None, "term_to": None},
                      {"role": "cadre", "post": "委员", "relation": None, "declarer_name": "张一",
                       "term_from": "2021-01-01", "term_to": "2026-12-31"}],
            "filing": None, "linked_by": "id_number",
            "declarers": [{"declarer_name": "王五", "employer": "广丰区教育体育局", "post": "科员",
                           "relation": "配偶", "region": None},
                          {"declarer_name": "张一", "employer": "村居干部", "post": "委员",
                           "relation": "本人", "region": "永丰社区"}],
            "monthly_amount": 500.0, "benefit_from": "2020-01-01"},
    "R04": {"units": [{"unit_no": UNIT1, "use": "住宅", "area": 80.5, "location": "永丰街道人民路1号"},
                      {"unit_no": UNIT2, "use": "住宅", "area": 112.0, "location": "永丰街道新城路2号"}],
            "linked_by": "id_number", "owners": {UNIT1: ["张一", "张二"], UNIT2: ["张二"]},
            "monthly_amount": 900.0, "benefit_from": "2018-01-01"},
    "R05": {"units": [{"unit_no": UNIT1, "use": "商业", "area": 35.25, "location": "永丰街道商贸城3号"}],
            "linked_by": "id_number", "monthly_amount": None, "benefit_from": "2024-04-04"},
    "R06": {"accounts": [{"source": "electricity", "account_no": "3601234567", "linked_by": ["id_number"]},
                         {"source": "electricity", "account_no": "3601234568",
                          "linked_by": ["id_number", "address"]}],
            "monthly": {"electricity": {"2026-08": 512.0, "2026-09": 498.4, "2026-10": 640.0}},
            "mean": {"electricity": 550.13},
            "supply_addresses": {"electricity:3601234567": "江西省上饶市广丰区永丰街道五号",
                                 "electricity:3601234568": "永丰街道永丰社区3组12号"},
            "monthly_amount": 700.0, "benefit_from": "2020-01-01"},
    "R07": {"accounts": [{"source": "electricity", "account_no": "3609999001", "linked_by": ["address"]},
                         {"source": "water", "account_no": "W0012345", "linked_by": ["id_number"]}],
            "monthly": {"electricity": {"2026-08": 0.0, "2026-09": 0.0, "2026-10": 0.0},
                        "water": {"2026-08": 0.0, "2026-09": 0.0, "2026-10": 0.0}},
            "mean": {"electricity": 0.0, "water": 0.0},
            "supply_addresses": {"electricity:3609999001": "人民路8号2栋301室",
                                 "water:W0012345": "人民路8号2栋301室（水）"},
            "monthly_amount": None, "benefit_from": "2022-05-01"},
    "R08": {"households": [{"household_id": HH1, "program": "DIBAO"},
                           {"household_id": HH2, "program": "TEKUN"}],
            "linked_by": "id_number", "monthly_amount": 500.0, "benefit_from": "2019-01-01"},
    "R09": {"value_as_delivered": BAD_ID, "record": "allowance", "problem": "length",
            "why": PROBLEM_TEXT["length"], "allowances": [{"allowance_id": AL2, "kind": "DISABILITY_CARE"}],
            "monthly_amount": 120.0, "benefit_from": "2023-03-01"},
    "R10": {"birth_date": "1990-01-01", "age_on_report_date": 36, "allowances": [AL1, AL2],
            "linked_by": "id_number", "allowance_kinds": {AL1: "ELDERLY", AL2: "ELDERLY"},
            "monthly_amount": 200.0, "benefit_from": "2024-01-01"},
    "R11": {"vehicles": [{"plate_no": PLATE, "plate_kind": "小型汽车", "vehicle_type": "小型轿车",
                          "first_registered_on": "2019-05-06", "status": "正常"}],
            "linked_by": "id_number", "monthly_amount": 650.0, "benefit_from": "2021-01-01"},
    "R12": {"entities": [{"credit_code": CREDIT, "entity_name": "广丰区永丰百货商行",
                          "entity_kind": "INDIVIDUAL",
                          "role": "OPERATOR", "share_pct": None, "from_on": "2020-03-01", "to_on": None,
                          "established_on": "2020-03-01"},
                         {"credit_code": CREDIT2, "entity_name": "上饶丰源贸易有限公司",
                          "entity_kind": "ENTERPRISE", "role": "SHAREHOLDER", "share_pct": 35.5,
                          "from_on": "2022-07-01", "to_on": "2027-06-30", "established_on": "2018-01-15"}],
            "linked_by": "id_number", "monthly_amount": 500.0, "benefit_from": "2019-01-01"},
}
IDENTIFIERS = [PID, BAD_ID, HH1, HH2, UNIT1, UNIT2, AL1, AL2, "3601234567", "3601234568", "3609999001",
               "W0012345", PLATE, CREDIT, CREDIT2]
CODES = ["DIBAO", "TEKUN", "ELDERLY", "DISABILITY_LIVING", "DISABILITY_CARE", "ORGAN", "INSTITUTION",
         "SOE", "member", "allowance", "cadre", "declared_relative", "electricity", "water", "id_number",
         "address", "length", "None", "null", "True", "False", "INDIVIDUAL", "ENTERPRISE", "OPERATOR",
         "SHAREHOLDER"]


def _keys(value: Any) -> Iterator[str]:
    """Every English key of a JSON value, nested (not months, nor keys that are identifiers)."""
    if isinstance(value, dict):
        for k, v in value.items():
            if re.search("[A-Za-z]", str(k)) and not any(i in str(k) for i in IDENTIFIERS):
                yield str(k)
            yield from _keys(v)
    elif isinstance(value, list):
        for v in value:
            yield from _keys(v)


def _without_identifiers(text: str) -> str:
    for identifier in sorted(IDENTIFIERS, key=len, reverse=True):
        text = text.replace(identifier, "")
    return text


def test_every_rule_of_the_catalog_has_an_example() -> None:
    assert set(EVIDENCE) == {r.code for r in RULES}


@pytest.mark.parametrize("rule", sorted(EVIDENCE))
def test_lines_are_chinese_with_no_english_keys_or_codes(rule: str) -> None:
    evidence = EVIDENCE[rule]
    lines = evidence_lines(rule, evidence)
    assert lines and all(isinstance(line, str) and line.strip() == line and line for line in lines)
    assert evidence_text(rule, evidence) == "\n".join(lines)
    text = _without_identifiers("\n".join(lines))
    assert "_" not in text
    assert not re.search("[A-Za-z]", text), text  # letters only inside IDs, accounts and unit numbers
    for key in {*_keys(evidence), *CODES}:
        assert key not in text, key
    for line in lines:
        assert re.search("[\u4e00-\u9fff]", line), line  # every line says something in Chinese
    dates = re.findall(r"\d{4}-\d{2}-\d{2}", text)
    assert all(re.fullmatch(r"(19|20)\d\d-[01]\d-[0-3]\d", d) for d in dates)


def test_r01_death_payments_allowances_and_the_coverage_facts() -> None:
    lines = evidence_lines("R01", EVIDENCE["R01"])
    assert "火化记录死亡日期：2026-08-03" in lines
    assert "死亡次月起救助金发放：2笔，共1700.00元" in lines
    assert f"享受津补贴：高龄津贴（编号{AL1}）" in lines
    assert "比对方式：按身份证号关联" in lines
    assert "每月发放金额：850.00元" in lines and "享受待遇起始日：2021-03-01" in lines


def test_r01_allowance_only_says_payments_are_not_in_the_source() -> None:
    ev = {**EVIDENCE["R01"], "covered_by": ["allowance"], "households": [],
          "payments_after_death": {"count": 0, "sum": 0.0}, "allowance_payments_in_source": False}
    text = evidence_text("R01", ev)
    assert "没有津补贴发放记录" in text and "0笔" not in text
    assert "报告日仍在享受：津补贴" in text and "所在在保家庭" not in text


def test_r02_payroll_with_employer_post_and_dates() -> None:
    lines = evidence_lines("R02", EVIDENCE["R02"])
    assert "财政供养：广丰区财政局（机关），职务：副主任科员，领取工资期间：2010-01-01至今" in lines
    assert "财政供养：广丰区人民医院（事业单位），职务：护士，领取工资期间：2001-09-01至2009-12-31" in lines
    assert "每月发放金额：620.50元" in lines and "享受待遇起始日：2022-02-02" in lines


def test_r03_declarers_and_missing_filing() -> None:
    lines = evidence_lines("R03", EVIDENCE["R03"])
    assert "申报人：王五，单位：广丰区教育体育局，职务：科员，与本人关系：配偶" in lines
    assert "本人任职：村居干部（永丰社区），职务：委员" in lines
    assert "本人为村居干部：职务：委员，任期：2021-01-01至2026-12-31" in lines
    assert "系王五申报的近亲属（配偶），申报人职务：科员" in lines
    assert "截至报告日无近亲属备案记录" in lines


def test_r04_and_r05_units_with_use_area_location_and_owner() -> None:
    lines = evidence_lines("R04", EVIDENCE["R04"])
    assert lines[0] == "在保成员名下现存住宅：2套"
    assert f"房产{UNIT1}：用途住宅，建筑面积80.5平方米，坐落永丰街道人民路1号，权利人：张一、张二" in lines
    assert f"房产{UNIT2}：用途住宅，建筑面积112平方米，坐落永丰街道新城路2号，权利人：张二" in lines
    lines = evidence_lines("R05", EVIDENCE["R05"])
    assert f"房产{UNIT1}：用途商业，建筑面积35.25平方米，坐落永丰街道商贸城3号" in lines
    assert "每月发放金额：不详" in lines


def test_r06_and_r07_accounts_supply_addresses_and_monthly_figures() -> None:
    lines = evidence_lines("R06", EVIDENCE["R06"])
    assert "电表户号3601234567：按身份证号关联，用电地址：江西省上饶市广丰区永丰街道五号" in lines
    assert "电表户号3601234568：按身份证号关联、按地址关联，用电地址：永丰街道永丰社区3组12号" in lines
    months = [line for line in lines if line.startswith("2026-")]
    assert months == ["2026-08：512千瓦时", "2026-09：498.4千瓦时", "2026-10：640千瓦时"]
    assert "月均用电量：550.13千瓦时" in lines
    lines = evidence_lines("R07", EVIDENCE["R07"])
    assert "水表户号W0012345：按身份证号关联，用水地址：人民路8号2栋301室（水）" in lines
    assert "电表户号3609999001：按地址关联，用电地址：人民路8号2栋301室" in lines
    assert lines.count("2026-08：0立方米") == 1 and lines.count("2026-08：0千瓦时") == 1


def test_r08_to_r10_households_problem_and_age() -> None:
    assert evidence_lines("R08", EVIDENCE["R08"])[:3] == [
        "同时为2个在保家庭的在保成员", f"在保家庭{HH1}：低保", f"在保家庭{HH2}：特困"]
    lines = evidence_lines("R09", EVIDENCE["R09"])
    assert f"登记的身份证号码：{BAD_ID}" in lines and "记录类型：津补贴领取人" in lines
    assert "问题：身份证号码不是18位" in lines and f"享受津补贴：重度残疾人护理补贴（编号{AL2}）" in lines
    lines = evidence_lines("R10", EVIDENCE["R10"])
    assert lines[:2] == ["出生日期（据身份证号码）：1990-01-01", "报告日年龄：36岁"]
    assert f"享受津补贴：高龄津贴（编号{AL2}）" in lines


def test_evidence_written_before_the_new_keys_still_reads() -> None:
    old = {k: v for k, v in EVIDENCE["R06"].items()
           if k not in ("supply_addresses", "monthly_amount", "benefit_from")}
    lines = evidence_lines("R06", old)
    assert "电表户号3601234567：按身份证号关联" in lines
    assert not any("发放金额" in line or "起始日" in line for line in lines)
    assert evidence_lines("R99", {"linked_by": "id_number"}) == ["比对方式：按身份证号关联"]


def test_r11_names_each_vehicle_with_its_kind_type_registration_and_status() -> None:
    lines = evidence_lines("R11", EVIDENCE["R11"])
    assert lines[0] == f"机动车：{PLATE}（小型汽车，小型轿车），初次登记2019-05-06，状态正常"


def test_r12_names_each_entity_role_share_and_term() -> None:
    lines = evidence_lines("R12", EVIDENCE["R12"])
    assert lines[0].startswith("市场主体：广丰区永丰百货商行（个体工商户，统一社会信用代码" + CREDIT)
    assert "担任经营者" in lines[0] and "持股" not in lines[0]
    assert "担任股东，持股35.5%" in lines[1] and "2027-06-30" in lines[1]
