"""The monitoring page's hardship-warnings panel: counts per code and township, closed out in a week,
and the share of uncovered severely disabled people later enrolled (no person is named or masked here)."""

from __future__ import annotations

from typing import Any

from safetynet.dashboard.page import card, table


def warnings_card(s: dict[str, Any]) -> str:
    """The panel, from the summary's ``warnings`` section (empty before the first evaluation)."""
    w = s.get("warnings")
    if not w:
        return card("主动发现预警", "Hardship warnings", '<div class="empty">尚无预警 No warnings yet</div>',
                    True)
    week, h02 = w["closed_within_7_days"], w["h02_enrolled"]
    share = "—" if h02["share"] is None else f"{h02['share']:.1%}"
    facts = table(["指标 Figure", "数值 Value"], [
        ("7日内办结 Closed out within 7 days", f"{week['closed']:,} / {week['due']:,}"),
        ("重度残疾人预警后纳入救助 H02 later enrolled",
         f"{h02['enrolled']:,} / {h02['warned']:,}（{share}）"),
    ], {1: "n"})
    codes = table(["预警 Warning", "名称 Name", "未办结 Open", "已办结 Closed"],
                  [(c["rule_code"], c["name"], c["open"], c["closed"]) for c in w["by_code"]],
                  {2: "n", 3: "n"})
    towns = table(["代码 Code", "乡镇 Township", "未办结 Open", "已办结 Closed"],
                  [(t["township_code"] or "—", t["township_name"] or "未知 Unknown", t["open"], t["closed"])
                   for t in w["by_township"]], {0: "mono", 2: "n", 3: "n"})
    return card("主动发现预警（社会救助科）", "Hardship warnings, for the social-assistance unit",
                facts + codes + towns, True)
