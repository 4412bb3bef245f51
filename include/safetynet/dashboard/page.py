"""The monitor page: one self-contained HTML document rendered from the summary dict.

It renders only what :func:`safetynet.dashboard.summary.build_summary` put in the
dict (already masked), escapes every value, and needs nothing but itself: inline
CSS and inline SVG charts, so it works offline and inside Airflow's iframe.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

from safetynet.dashboard import svg
from safetynet.dashboard.theme import (
    COLUMN_LABELS,
    CSS,
    SEVERITY_COLOURS,
    SEVERITY_LABELS,
    SOURCE_LABELS,
    STATUS_COLOURS,
    STATUS_LABELS,
    TOWNSHIP_BAR,
)

TITLE = "社会救助比对监测 Safety Net Monitor"


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]], cls: dict[int, str] | None = None,
          empty: str = "无 None") -> str:
    """An escaped HTML table; ``cls`` styles columns by index: ``n`` numbers (right-aligned,
    thousands separators), ``mono`` codes, ``wrap`` long text, ``err`` error messages."""
    styles = cls or {}
    body = "".join("<tr>" + "".join(_td(v, styles.get(i, "")) for i, v in enumerate(r)) + "</tr>"
                   for r in rows)
    if not body:
        return f'<div class="empty">{escape(empty)}</div>'
    head = "".join(f'<th class="{"n" if styles.get(i) == "n" else ""}">{_header(h)}</th>'
                   for i, h in enumerate(headers))
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def headers(columns: Sequence[str]) -> list[str]:
    """Bilingual headers for stored column names (``failed_at`` → ``失败时间 Failed at``)."""
    return [COLUMN_LABELS.get(c, c) for c in columns]


def _header(label: str) -> str:
    """"中文 English" as two stacked lines, so bilingual headers stay narrow."""
    chinese, _, english = label.partition(" ")
    if english and any(ord(ch) > 0x2E80 for ch in chinese):
        return f'{escape(chinese)}<span class="en">{escape(english)}</span>'
    return escape(label)


def _td(value: Any, cls: str) -> str:
    cls = "" if value is None and cls == "err" else cls  # no red dash where nothing went wrong
    shown = "—" if value is None else f"{value:,}" if isinstance(value, int) and cls == "n" else value
    raw = shown if isinstance(shown, Markup) else escape(str(shown))
    return f'<td class="{cls}">{raw}</td>'


class Markup(str):
    """Trusted HTML produced here (badges), passed through :func:`table` unescaped."""


def badge(label: str, colour: str) -> Markup:
    """A coloured pill, e.g. a severity or a status."""
    return Markup(f'<span class="badge" style="background:{colour}">{escape(label)}</span>')


def severity(level: str | None) -> Markup:
    """A rule's severity as a coloured, bilingual pill."""
    return badge(SEVERITY_LABELS.get(level or "", "—"), SEVERITY_COLOURS.get(level or "", "#64748b"))


def card(title: str, english: str, body: str, wide: bool = False) -> str:
    """A titled panel: Chinese title with the English one beside it."""
    return (f'<section class="card{" wide" if wide else ""}"><h2>{escape(title)}'
            f"<small>{escape(english)}</small></h2>{body}</section>")


def kpis(s: dict[str, Any]) -> str:
    """The headline figures across the top of the page."""
    cases = s["cases"] or {"total": 0, "suppressed": 0, "by_status": {}}
    population = (s["trend"] or {}).get("active_persons") or [0]
    stale = sum(1 for src in s["sources"] if src["stale"])
    quarantined = sum(q["rows"] for q in s["quarantine"])
    items = [("今日疑点 Cases today", cases["total"], ""),
             *[(STATUS_LABELS.get(k, k), cases["by_status"].get(k, 0), "") for k in STATUS_LABELS],
             ("已屏蔽 Suppressed", cases["suppressed"], ""),
             ("监测人数 Monitored persons", population[-1], "ok"),
             ("数据源异常 Stale sources", stale, "bad" if stale else "ok"),
             ("隔离行 Quarantined rows", quarantined, "warn" if quarantined else "ok")]
    return '<div class="kpis">' + "".join(
        f'<div class="kpi {cls}"><div class="v">{value:,}</div><div class="l">{escape(label)}</div></div>'
        for label, value, cls in items) + "</div>"


def case_cards(s: dict[str, Any]) -> tuple[str, str]:
    """Today's cases by rule and by township, each as a bar chart and a table."""
    cases = s["cases"]
    if cases is None:
        return card("今日疑点", "Today's cases", '<div class="empty">尚无报告 No report yet</div>', True), ""
    rules = cases["by_rule"]
    rule_chart = svg.bar_chart([(f"{r['rule_code']} {r['name_zh']}", r["cases"],
                                 SEVERITY_COLOURS.get(r["severity"], "#64748b"))
                                for r in rules if r.get("evaluated", True)],
                               "今日疑点（按规则）Today's cases by rule")
    rule_rows = [(r["rule_code"], r["rule_name"], severity(r["severity"]),
                  r["cases"] if r.get("evaluated", True) else "未评估 Not evaluated (source not configured)")
                 for r in rules]
    towns = cases["by_township"]
    town_chart = svg.bar_chart([(t["township_name"], t["cases"], TOWNSHIP_BAR) for t in towns],
                               "今日疑点（按乡镇）Today's cases by township")
    town_rows = [(t["township_code"], t["township_name"], t["cases"]) for t in towns]
    return (card("今日疑点 · 按规则", "Cases by rule", rule_chart)
            + card("规则明细", "Rules", table(["规则 Rule", "名称 Name", "等级 Severity", "疑点 Cases"],
                                            rule_rows, {1: "wrap", 3: "n"})),
            card("今日疑点 · 按乡镇", "Cases by township", town_chart)
            + card("乡镇明细", "Townships", table(["代码 Code", "乡镇 Township", "疑点 Cases"],
                                             town_rows, {0: "mono", 2: "n"})))


def trend_cards(s: dict[str, Any]) -> str:
    """The 30-day trends: cases stacked by status, and the monitored population."""
    trend = s["trend"] or {"dates": [], "cases_by_status": {}, "active_persons": [],
                           "window": {"from": "", "to": ""}}
    span = f"{trend['window']['from']} – {trend['window']['to']}"
    series = {STATUS_LABELS.get(k, k): v for k, v in trend["cases_by_status"].items()}
    colours = {STATUS_LABELS.get(k, k): STATUS_COLOURS.get(k, "#64748b") for k in trend["cases_by_status"]}
    cases = svg.stacked_columns(trend["dates"], series, colours, "近30天疑点趋势 30-day case trend")
    people = svg.line_chart(trend["dates"], trend["active_persons"],
                            "近30天监测人数 30-day monitored population", label="在保人数 Active persons")
    note = '<div class="note">按报告日统计 Per report date · ' + escape(span) + "</div>"
    return (card("近30天疑点趋势", "30-day cases by status", cases + note)
            + card("近30天监测人数", "30-day monitored population", people + note))


def health_cards(s: dict[str, Any]) -> str:
    """Sources, quarantine, validation and failures: is today's report built on fresh data?"""
    src_rows = [(SOURCE_LABELS.get(r["source"], r["source"]), r["newest_data"], r["loaded_at"],
                 badge("过期 Stale" if r["stale"] else "正常 OK", "#dc2626" if r["stale"] else "#16a34a"),
                 r["batch_id"], r["items"], r["rows_read"], r["rows_loaded"], r["rows_quarantined"],
                 r["rows_duplicate"], "✓" if r["balanced"] else "✗ 不平衡", r.get("future_rows") or "",
                 r["last_error"])
                for r in s["sources"]]
    sources = table(["数据源 Source", "最新数据 Newest data", "加载时间 Loaded at", "状态 Status",
                     "批次 Batch", "文件/表 Items", "读取 Read", "入库 Loaded", "隔离 Quarantined",
                     "重复 Duplicates", "平衡 Balanced", "超前时间戳 Future-dated rows",
                     "最近错误 Last error"],
                    src_rows, {5: "n", 6: "n", 7: "n", 8: "n", 9: "n", 11: "n", 12: "err"})
    sources += "<h3>拒收的数据交付 Refused deliveries</h3>" + table(
        ["数据源 Source", "文件/表 File or table", "原因 Reason", "报告日 Refused for", "接受命令 To accept"],
        [(r["source"], r["item"], r["reason"], r["refused_for"], r["accept"]) for r in s.get("refused", [])],
        {1: "mono", 2: "err", 4: "mono"}, "无拒收 Nothing refused")
    note = ('<div class="note">最近一批：读取 = 入库 + 隔离 + 重复；拒收的交付未入库，原有数据继续有效 · '
            "Last batch: read = loaded + quarantined + duplicates; a refused delivery replaces nothing</div>")
    quarantine = table(["数据源 Source", "文件/表 Item", "原因 Reason", "行数 Rows", "批次 Batch"],
                       [(q["source"], q["item"], q["reason"], q["rows"], q["last_batch"])
                        for q in s["quarantine"]], {2: "wrap", 3: "n"}, "无隔离数据 Nothing quarantined")
    tasks = s["task_failures"]
    failed = ('<div class="empty">本仓库未记录任务失败 No task failures recorded here</div>'
              if tasks is None else table(headers(tasks["columns"]),
                                          [list(r.values()) for r in tasks["rows"]],
                                          {len(tasks["columns"]) - 1: "err"}, "无失败任务 No failed tasks"))
    failed += "<h3>失败数据源 Failed sources</h3>" + table(
        ["数据源 Source", "尝试时间 Attempted", "结果 Outcome", "错误 Error"],
        [list(r.values()) for r in s["failed_sources"]], {3: "err"})
    validation = s["validation"]
    if validation is None or not validation["checked"]:
        checks = '<div class="empty">尚无校验记录 No validation results recorded yet</div>'
    else:
        failures = validation["failures"]
        checks = table(headers(list(failures[0]) if failures else []), [list(v.values()) for v in failures],
                       {i: "err" for i, k in enumerate(failures[0] if failures else []) if k == "observed"},
                       f"已记录 {validation['checked']:,} 项校验结果，无未通过 "
                       f"None of {validation['checked']:,} recorded results failed")
    return (card("数据源新鲜度与加载核算", "Source freshness and load accounting", sources + note, True)
            + card("隔离数据", "Quarantine by source, item and reason", quarantine)
            + card("近期失败", "Recent failed runs", failed)
            + card("校验未通过", "Validation failures", checks, True))


def disposition_card(s: dict[str, Any]) -> str:
    """Inspectors' returned files (反馈) rejected whole or by row: file, row, reason and when."""
    found = s.get("dispositions")
    if found is None:
        body = '<div class="empty">本仓库未记录反馈处理 No disposition processing recorded here</div>'
    else:
        files = table(["文件 File", "原因 Reason", "报告日 Report date", "处理时间 Processed"],
                      [(f["file"], f["reason"], f["report_date"], f["at"]) for f in found["files_rejected"]],
                      {0: "mono", 1: "err"}, "无拒收文件 No rejected files")
        rows = table(["文件 File", "行 Row", "原因 Reason", "报告日 Report date", "处理时间 Processed"],
                     [(r["file"], r["row"], r["reason"], r["report_date"], r["at"])
                      for r in found["rows_rejected"]],
                     {0: "mono", 1: "n", 2: "err"}, "无拒收行 No rejected rows")
        body = (f"<h3>拒收文件 Rejected files ({found['files_rejected_total']:,})</h3>{files}"
                f"<h3>拒收行 Rejected rows ({found['rows_rejected_total']:,})</h3>{rows}"
                '<div class="note">最新在前；拒收的文件或行未被采用，更正后重新提交即可 · '
                "Newest first; nothing rejected is applied until a corrected file arrives</div>")
    return card("反馈文件拒收", "Rejected disposition files and rows", body, True)


def recent_card(s: dict[str, Any]) -> str:
    """The day's newest cases, identified by masked numbers only."""
    rows = [(c["rule_code"], badge(STATUS_LABELS.get(c["status"], c["status"]),
                                   STATUS_COLOURS.get(c["status"], "#64748b")),
             c["first_seen"], c["township_name"], c["id_masked"], c["household_masked"])
            for c in s["recent_cases"]]
    body = table(["规则 Rule", "状态 Status", "首次发现 First seen", "乡镇 Township",
                  "身份证号（脱敏） ID (masked)", "户编号（脱敏） Household (masked)"], rows,
                 {4: "mono", 5: "mono"})
    return card("最新疑点", "Recent cases (masked)", body, True)


def render(s: dict[str, Any], api_href: str = "api/summary") -> str:
    """The whole page for one summary."""
    from safetynet.dashboard.warnings_card import warnings_card

    day = s["report_date"] or "—"
    rules, towns = case_cards(s)
    return (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(TITLE)}</title><style>{CSS}</style></head><body>"
        f"<header><div><h1>{escape(TITLE)}</h1><div class=\"sub\">{escape(s['deployment'])} · "
        "疑点为线索，待核实 Cases are leads to verify, not findings</div></div>"
        f'<div class="meta">报告日 Report date <b>{escape(day)}</b><br>生成于 Generated '
        f'{escape(s["generated_at"])} · <a href="{escape(api_href)}">JSON</a> · '
        '<a href="validation">校验结果 Validation</a></div></header>'
        f"<main>{kpis(s)}<div class=\"grid\">{rules}{trend_cards(s)}{towns}{health_cards(s)}"
        f"{disposition_card(s)}{warnings_card(s)}{recent_card(s)}</div></main>"
        "<footer>身份证号仅显示前6位和后4位 · ID numbers show the first 6 and last 4 digits only<br>"
        "时间均为北京时间（UTC+8）· Times are Beijing time (UTC+8)</footer>"
        "</body></html>")
