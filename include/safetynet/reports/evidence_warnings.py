"""A hardship warning's evidence as readable Chinese: the warnings workbook's 证据说明 column.

The same conventions as the cases' (``evidence_text``): one short line per fact,
amounts with their units, dates as YYYY-MM-DD, codes in Chinese; every key read
with a default. Medical figures are written here, in the bureau's workbook only.
"""

from __future__ import annotations

from collections.abc import Callable

from safetynet.reports.evidence_text import KIND_ZH, _code, _date, _number, _text, _yuan, evidence_lines


def _h01(ev: dict) -> list[str]:
    months = ev.get("months") or {}
    lines = [f"统计期间：{_date(ev.get('window_from'))}起至报告日，{len(months)}个月有结算，"
             f"共{_number(ev.get('settlements'))}笔"]
    lines += [f"{month}个人自付：{_yuan(amount)}" for month, amount in sorted(months.items())]
    who = "在保对象" if ev.get("beneficiary") else "未纳入救助"
    lines.append(f"个人自付合计：{_yuan(ev.get('self_paid_total'))}（{who}，预警线{_yuan(ev.get('threshold'))}）")
    return lines


def _h02(ev: dict) -> list[str]:
    lines = [f"享受津补贴：{_code(KIND_ZH, a.get('kind'))}（编号{_text(a.get('allowance_id'))}，"
             f"起始{_date(a.get('start_on'))}）" for a in ev.get("allowances") or [] if isinstance(a, dict)]
    checked = ev.get("checked") or {}
    lines.append(f"已核对：不在任何在保家庭中；现存住宅{_number(checked.get('residential_units'))}套，"
                 "无经营性房产、非豁免机动车、经营市场主体或财政供养记录")
    return lines


def _h03(ev: dict) -> list[str]:
    member, power = ev.get("member") or {}, ev.get("electricity") or {}
    return [f"独居成员年龄：{_number(member.get('age'))}岁（出生日期{_date(member.get('birth_date'))}）",
            f"{_text(power.get('month_before'))}家庭用电：{_number(power.get('kwh_before'))}千瓦时",
            f"{_text(power.get('latest_month'))}家庭用电：{_number(power.get('kwh_latest'))}千瓦时"]


def _h04(ev: dict) -> list[str]:
    lines = [f"死亡成员：{_text(x.get('relation'))}，{_date(x.get('death_date'))}死亡，"
             f"时年{_number(x.get('age_at_death'))}岁" for x in ev.get("deceased") or []]
    ages = [f"{_text(m.get('relation'))}{_number(m.get('age'))}岁" for m in ev.get("remaining_members") or []]
    lines.append("其他在保成员：" + ("、".join(ages) if ages else "无"))
    return lines


_WARNING_LINES: dict[str, Callable[[dict], list[str]]] = {"H01": _h01, "H02": _h02, "H03": _h03, "H04": _h04}


def warning_text(code: str, evidence: dict) -> str:
    """A warning's facts, one line each, then the common lines (how linked, amount, start)."""
    own = _WARNING_LINES.get(code, lambda ev: [])(evidence)
    common = evidence_lines("", {k: v for k, v in evidence.items() if k != "linked_by"})
    return "\n".join([*own, *common])
