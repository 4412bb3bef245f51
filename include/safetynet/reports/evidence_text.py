"""A case's evidence as readable Chinese: the workbook's 证据说明 column (outputs.md).

The evidence JSON stays in the CSV for machines; people read one short line per
fact here: amounts with their units (元, 千瓦时, 立方米, 平方米), dates as
YYYY-MM-DD, codes in Chinese (低保, 高龄津贴, 机关 …) and how each record was
linked (按身份证号关联 / 按地址关联). Only identifiers (ID numbers, household,
allowance, account and unit numbers) and the data as delivered (names,
addresses, employers) appear as they are.

Every key is read with a default, so evidence written before a key existed
(an older report's RESOLVED case) still reads; keys not described here are left
out rather than shown raw.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

PROGRAM_ZH = {"DIBAO": "低保", "TEKUN": "特困"}
KIND_ZH = {"ELDERLY": "高龄津贴", "DISABILITY_LIVING": "困难残疾人生活补贴",
           "DISABILITY_CARE": "重度残疾人护理补贴"}
EMPLOYER_KIND_ZH = {"ORGAN": "机关", "INSTITUTION": "事业单位", "SOE": "国有企业"}
LINKED_ZH = {"id_number": "按身份证号关联", "address": "按地址关联"}
VIA_ZH = {"member": "救助（在保家庭成员）", "allowance": "津补贴"}
RECORD_ZH = {"member": "救助家庭成员", "allowance": "津补贴领取人"}
SOURCE_ZH = {  # source: (meter, what is measured, unit, whose address)
    "electricity": ("电表", "用电量", "千瓦时", "用电地址"),
    "water": ("水表", "用水量", "立方米", "用水地址"),
}
UNKNOWN = "不详"


def evidence_lines(rule_code: str, evidence: dict) -> list[str]:
    """One short Chinese line per fact of a case's evidence (rule ``R01``…``R12``).

    The rule's own facts come first, then how the person was linked, the monthly
    amount and the benefit start. An unknown rule code gives only those last lines.
    """
    lines = list(_RULE_LINES.get(rule_code, _nothing)(evidence))
    lines += _common_lines(evidence)
    return lines


def evidence_text(rule_code: str, evidence: dict) -> str:
    """``evidence_lines`` joined with newlines: one cell of the workbook's 证据说明 column."""
    return "\n".join(evidence_lines(rule_code, evidence))


# --------------------------------------------------------------------------- formatting


def _date(value: Any) -> str:
    """A date as YYYY-MM-DD (dates arrive as ISO text, possibly with a time); None as 不详."""
    return UNKNOWN if value is None or str(value).strip() == "" else str(value)[:10]


def _span(start: Any, end: Any) -> str:
    """An interval: ``2010-01-01至2024-06-30``, open ends as 不详 / 今."""
    return f"{_date(start)}至{'今' if end is None else _date(end)}"


def _number(value: Any) -> str:
    """A quantity without needless decimals: 512.0 → 512, 250.60 → 250.6."""
    if value is None:
        return UNKNOWN
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if number == int(number) and abs(number) < 1e15:
        return str(int(number))
    return f"{number:.2f}".rstrip("0").rstrip(".")


def _yuan(value: Any) -> str:
    """An amount in 元 with two decimals; None as 不详."""
    if value is None:
        return UNKNOWN
    try:
        return f"{float(value):.2f}元"
    except (TypeError, ValueError):
        return str(value)


def _text(value: Any) -> str:
    """Delivered text as it is; missing as 不详."""
    return UNKNOWN if value is None or str(value).strip() == "" else str(value)


def _code(table: dict[str, str], value: Any) -> str:
    """A code in Chinese; an unknown code as delivered, a missing one as 不详."""
    return UNKNOWN if value is None else table.get(str(value), str(value))


def _linked(how: Any) -> str:
    """How a record was linked: one code or a list of codes, in Chinese."""
    codes = how if isinstance(how, list) else [how]
    return "、".join(LINKED_ZH.get(str(c), str(c)) for c in codes if c is not None) or UNKNOWN


def _kind(kind: Any) -> str:
    return _code(KIND_ZH, kind)


# --------------------------------------------------------------------------- per rule


def _nothing(ev: dict) -> list[str]:
    return []


def _allowance_lines(ev: dict) -> list[str]:
    return [f"享受津补贴：{_kind(a.get('kind'))}（编号{_text(a.get('allowance_id'))}）"
            for a in ev.get("allowances") or [] if isinstance(a, dict)]


def _r01(ev: dict) -> list[str]:
    lines = [f"火化记录死亡日期：{_date(ev.get('death_date'))}"]
    if ev.get("funeral_home"):
        lines.append(f"火化殡仪馆：{ev['funeral_home']}")
    if ev.get("covered_by"):
        lines.append("报告日仍在享受：" + "、".join(_code(VIA_ZH, v) for v in ev["covered_by"]))
    if ev.get("households"):
        lines.append("所在在保家庭：" + "、".join(map(str, ev["households"])))
    lines += _allowance_lines(ev)
    paid = ev.get("payments_after_death") or {}
    if ev.get("allowance_payments_in_source") is False:
        lines.append("死亡后津补贴发放：比对数据中没有津补贴发放记录（救助金发放数据只含家庭救助金），"
                     "是否仍在发放需另行核实")
    else:
        count, paid_sum = int(paid.get("count") or 0), _yuan(paid.get("sum") or 0)
        lines.append(f"死亡次月起救助金发放：{count}笔，共{paid_sum}")
    return lines


def _r02(ev: dict) -> list[str]:
    return [f"财政供养：{_text(p.get('employer'))}（{_code(EMPLOYER_KIND_ZH, p.get('employer_kind'))}），"
            f"职务：{_text(p.get('post'))}，领取工资期间：{_span(p.get('payroll_from'), p.get('payroll_to'))}"
            for p in ev.get("payroll") or []]


def _r03(ev: dict) -> list[str]:
    lines = []
    for link in ev.get("links") or []:
        if link.get("role") == "cadre":
            lines.append(f"本人为村居干部：职务：{_text(link.get('post'))}，"
                         f"任期：{_span(link.get('term_from'), link.get('term_to'))}")
        else:
            lines.append(f"系{_text(link.get('declarer_name'))}申报的近亲属（{_text(link.get('relation'))}），"
                         f"申报人职务：{_text(link.get('post'))}")
    for d in ev.get("declarers") or []:
        where = _text(d.get("employer")) + (f"（{d['region']}）" if d.get("region") else "")
        if d.get("relation") == "本人":
            lines.append(f"本人任职：{where}，职务：{_text(d.get('post'))}")
        else:
            lines.append(f"申报人：{_text(d.get('declarer_name'))}，单位：{where}，"
                         f"职务：{_text(d.get('post'))}，与本人关系：{_text(d.get('relation'))}")
    if "filing" in ev and ev["filing"] is None:
        lines.append("截至报告日无近亲属备案记录")
    return lines


def _unit_lines(ev: dict) -> list[str]:
    owners = ev.get("owners") or {}
    lines = []
    for u in ev.get("units") or []:
        line = (f"房产{_text(u.get('unit_no'))}：用途{_text(u.get('use'))}，"
                f"建筑面积{_number(u.get('area'))}平方米，坐落{_text(u.get('location'))}")
        names = owners.get(str(u.get("unit_no")))
        if names:
            line += "，权利人：" + "、".join(names)
        lines.append(line)
    return lines


def _r04(ev: dict) -> list[str]:
    return [f"在保成员名下现存住宅：{len(ev.get('units') or [])}套", *_unit_lines(ev)]


def _r05(ev: dict) -> list[str]:
    return _unit_lines(ev)


def _utility(ev: dict) -> list[str]:
    supply = ev.get("supply_addresses") or {}
    lines = []
    for a in ev.get("accounts") or []:
        source = str(a.get("source"))
        meter, _, _, where = SOURCE_ZH.get(source, ("表计", "用量", "", "地址"))
        line = f"{meter}户号{_text(a.get('account_no'))}：{_linked(a.get('linked_by'))}"
        address = supply.get(f"{source}:{a.get('account_no')}")
        if address:
            line += f"，{where}：{address}"
        lines.append(line)
    means = ev.get("mean") or {}
    for source, months in (ev.get("monthly") or {}).items():
        meter, measure, unit, _ = SOURCE_ZH.get(source, ("表计", "用量", "", "地址"))
        lines.append(f"每月{measure}（关联{meter}合计）：")
        lines += [f"{month}：{_number(amount)}{unit}" for month, amount in months.items()]
        if source in means:
            lines.append(f"月均{measure}：{_number(means[source])}{unit}")
    return lines


def _r08(ev: dict) -> list[str]:
    households = ev.get("households") or []
    return [f"同时为{len(households)}个在保家庭的在保成员",
            *(f"在保家庭{_text(h.get('household_id'))}：{_code(PROGRAM_ZH, h.get('program'))}"
              for h in households)]


def _r09(ev: dict) -> list[str]:
    value = ev.get("value_as_delivered")
    return [f"登记的身份证号码：{'（空）' if value is None or value == '' else value}",
            f"记录类型：{_code(RECORD_ZH, ev.get('record'))}",
            f"问题：{_text(ev.get('why'))}",
            *_allowance_lines(ev)]


def _r10(ev: dict) -> list[str]:
    kinds = ev.get("allowance_kinds") or {}
    return [f"出生日期（据身份证号码）：{_date(ev.get('birth_date'))}",
            f"报告日年龄：{_text(ev.get('age_on_report_date'))}岁",
            *(f"享受津补贴：{_kind(kinds.get(a, 'ELDERLY'))}（编号{a}）" for a in ev.get("allowances") or [])]


ENTITY_KINDS = {"ENTERPRISE": "企业", "INDIVIDUAL": "个体工商户", "COOPERATIVE": "农民专业合作社"}
ROLES = {"LEGAL_REP": "法定代表人", "OPERATOR": "经营者", "SHAREHOLDER": "股东", "DIRECTOR": "董事",
         "SUPERVISOR": "监事"}


def _r11(ev: dict) -> list[str]:
    return [f"机动车：{_text(v.get('plate_no'))}（{_text(v.get('plate_kind'))}，"
            f"{_text(v.get('vehicle_type'))}），初次登记{_date(v.get('first_registered_on'))}，"
            f"状态{_text(v.get('status'))}" for v in ev.get("vehicles") or []]


def _r12(ev: dict) -> list[str]:
    lines = []
    for e in ev.get("entities") or []:
        share = f"，持股{_number(e.get('share_pct'))}%" if e.get("share_pct") is not None else ""
        lines.append(f"市场主体：{_text(e.get('entity_name'))}（{_code(ENTITY_KINDS, e.get('entity_kind'))}，"
                     f"统一社会信用代码{_text(e.get('credit_code'))}，成立于{_date(e.get('established_on'))}），"
                     f"担任{_code(ROLES, e.get('role'))}{share}，"
                     f"任职{_span(e.get('from_on'), e.get('to_on'))}")
    return lines


_RULE_LINES: dict[str, Callable[[dict], list[str]]] = {
    "R01": _r01, "R02": _r02, "R03": _r03, "R04": _r04, "R05": _r05,
    "R06": _utility, "R07": _utility, "R08": _r08, "R09": _r09, "R10": _r10, "R11": _r11, "R12": _r12,
}


def _common_lines(ev: dict) -> list[str]:
    lines = []
    if ev.get("linked_by"):
        lines.append(f"比对方式：{_linked(ev['linked_by'])}")
    if "monthly_amount" in ev:
        lines.append(f"每月发放金额：{_yuan(ev['monthly_amount'])}")
    if "benefit_from" in ev:
        lines.append(f"享受待遇起始日：{_date(ev['benefit_from'])}")
    return lines
