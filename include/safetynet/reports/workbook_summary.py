"""The workbook's summary sheet (汇总): the day at a glance, for inspectors and leadership.

Cases by township (in code order) × rule (full names) with totals, cases by
status with a total, each source's freshness in Beijing time with stale sources
highlighted and the rules they affect, the thresholds under their Chinese names,
and the inspectors' returned files that were rejected. It also says what the CSV
is for (machines) and that every case is a lead to verify, never a finding.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from safetynet.dispositions_kinds import CASE_DECISIONS, DecisionKind
from safetynet.dispositions_report import reason_zh
from safetynet.reports.labels import SOURCE_ZH, STATUS_ZH, local_time, threshold_text
from safetynet.rules.catalog import RULES

LAST = len(RULES) + 1  # the last column used: township, one per rule, total
Cell = tuple[object, int]  # a value and how many columns it spans
GUIDE = ("所列均为待核实的线索，不是认定结论。请在“全部疑点”（按优先级排列）或各规则工作表中查看，"
         "在“核查结论”“核查说明”“屏蔽至”三列填写后，将本工作簿放回反馈文件夹。"
         "同名 CSV 文件供系统对接（机器读取），不宜在 Excel 中直接打开编辑。")


def write_summary(wb: xlsxwriter.Workbook, fmt: dict, d: date, cases: pd.DataFrame,
                  freshness: dict[str, dict], thresholds: dict, dispositions: dict | None,
                  refused: list[dict], not_evaluated: dict[str, list[str]] | None = None) -> Worksheet:
    """The 汇总 sheet, first in the workbook."""
    ws = wb.add_worksheet("汇总")
    ws.set_column(0, 0, 24)
    ws.set_column(1, LAST - 1, 13)
    ws.set_column(LAST, LAST, 9)
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    _line(ws, fmt, 0, [(f"每日疑点清单 {d.isoformat()}", LAST + 1)], "title", 1.6)
    _line(ws, fmt, 1, [(GUIDE, LAST + 1)], "wrap", 3)
    skipped = not_evaluated or {}
    row = _townships(ws, fmt, 3, cases, skipped)
    if skipped:
        row += 1
        _line(ws, fmt, row, [("未评估的规则（部署未配置所需数据源，不是没有疑点）：" + "；".join(
            f"{code}（缺少{'、'.join(SOURCE_ZH.get(s, s) for s in missing)}）"
            for code, missing in sorted(skipped.items())), LAST + 1)], "wrap", 2)
    row = _statuses(ws, fmt, row + 2, cases)
    row = _sources(ws, fmt, row + 2, freshness, refused)
    row = _thresholds(ws, fmt, row + 2, thresholds)
    if dispositions is not None:
        write_decision_files(ws, fmt, row + 2, dispositions)
    return ws


def _line(ws: Worksheet, fmt: dict, row: int, cells: list[Cell], style: str | None = None,
          lines: float = 1.0) -> None:
    """One row of cells, each spanning its columns (merged), with a height of ``lines`` lines."""
    ws.set_row(row, 15 * lines)
    col = 0
    for value, span in cells:
        f = fmt.get(style) if style else None
        shown = value if isinstance(value, int | float) and not isinstance(value, bool) else (
            "" if value is None else str(value))
        if span > 1:
            ws.merge_range(row, col, row, col + span - 1, shown, f)
        elif isinstance(shown, str):
            ws.write_string(row, col, shown, f)
        else:
            ws.write_number(row, col, shown, f)
        col += span


def _townships(ws: Worksheet, fmt: dict, row: int, cases: pd.DataFrame, skipped: dict) -> int:
    _line(ws, fmt, row, [("各乡镇（街道）疑点数（不含已消除）", LAST + 1)], "section")
    _line(ws, fmt, row + 1, [("乡镇（街道）", 1),
                             *((f"{r.code} {r.name_zh}" + ("（未评估）" if r.code in skipped else ""), 1)
                               for r in RULES), ("合计", 1)], "head", 4)
    live = cases[cases["status"] != "RESOLVED"].fillna({"township_code": "~", "township_name": "（未知）"})
    grid = live.groupby(["township_code", "township_name"])["rule_code"].value_counts().unstack(fill_value=0)
    row += 1
    for (_, town), counts in grid.sort_index().iterrows():
        row += 1
        _line(ws, fmt, row, [(town, 1), *(("—" if r.code in skipped else int(counts.get(r.code, 0)), 1)
                                          for r in RULES), (int(counts.sum()), 1)])
    row += 1
    totals = live["rule_code"].value_counts()
    _line(ws, fmt, row, [("合计", 1), *(("—" if r.code in skipped else int(totals.get(r.code, 0)), 1)
                                      for r in RULES), (int(totals.sum()), 1)], "total")
    return row


def _statuses(ws: Worksheet, fmt: dict, row: int, cases: pd.DataFrame) -> int:
    _line(ws, fmt, row, [("按状态", 1), ("件数", 1)], "head")
    for status in ("NEW", "OPEN", "RESOLVED"):
        row += 1
        _line(ws, fmt, row, [(STATUS_ZH[status], 1), (int((cases["status"] == status).sum()), 1)])
    _line(ws, fmt, row + 1, [("合计", 1), (len(cases), 1)], "total")
    return row + 1


def _sources(ws: Worksheet, fmt: dict, row: int, freshness: dict[str, dict], refused: list[dict]) -> int:
    _line(ws, fmt, row, [("数据源", 1), ("状态", 1), ("最新数据", 1), ("加载时间", 2), ("影响的规则", 1),
                         ("说明", LAST - 5)], "head")
    for source, f in freshness.items():
        row += 1
        affected = "、".join(r.code for r in RULES if source in r.sources)
        note = source_note(source, f, refused)
        style = "stale" if f["stale"] else "wrap"
        state = "过期（数据未更新）" if f["stale"] else "正常"
        newest = str(f["newest_data"] or "")[:10]  # a date or a month; a timestamp's day
        _line(ws, fmt, row, [(SOURCE_ZH.get(source, source), 1), (state, 1), (newest, 1),
                             (local_time(f["loaded_at"]), 2), (affected if f["stale"] else "", 1),
                             (note, LAST - 5)], style, max(1.0, len(note) / 55 + 1) if note else 1.0)
    return row


def source_note(source: str, fresh: dict, refused: list[dict]) -> str:
    """Why a source is stale or suspect: its refused deliveries and rows from a clock ahead."""
    notes = [f"拒收 {r['item']}：{r['reason']}（原有数据继续有效；如属实际减少，运维可执行 {r['accept']}）"
             for r in refused if r["source"] == source]
    if fresh.get("future_rows"):
        notes.append(f"{fresh['future_rows']} 行更新时间晚于抽取截止时间（源系统时钟超前，最晚 "
                     f"{fresh.get('future_max')}）：已入库，不影响后续增量抽取")
    if fresh["stale"] and not notes and fresh.get("last_error"):
        notes.append(str(fresh["last_error"]))
    return "；".join(notes)


def _thresholds(ws: Worksheet, fmt: dict, row: int, thresholds: dict) -> int:
    _line(ws, fmt, row, [("规则阈值", 3), ("取值", 3)], "head")
    for key, value in thresholds.items():
        row += 1
        name, shown = threshold_text(key, value)
        _line(ws, fmt, row, [(name, 3), (shown, 3)])
    return row


def write_decision_files(ws: Worksheet, fmt: dict, row: int, report: dict,
                         kind: DecisionKind = CASE_DECISIONS, last: int = LAST) -> None:
    """反馈文件处理情况 from row ``row``: the side's files read, and each rejected file or row with
    its reason in the side's words (no item keys); ``last`` is the sheet's last column."""
    loaded, files, rows = report["files_loaded"], report["files_rejected"], report["rows_rejected"]
    _line(ws, fmt, row, [("反馈文件处理情况", 1), ("件数", 1)], "head")
    for label, items in (("已读取文件", loaded), ("拒收文件（整个文件未采用）", files),
                         ("拒收行（该行未采用）", rows)):
        row += 1
        _line(ws, fmt, row, [(label, 1), (len(items), 1),
                             ("、".join(loaded) if items is loaded else "", last - 1)])
    row += 1
    if not files and not rows:
        _line(ws, fmt, row, [("无拒收的文件或行", last + 1)])
        return
    _line(ws, fmt, row, [("请更正后重新提交（更新原文件或另存为新文件均可）；已采用的行无需重复提交。",
                          last + 1)])
    row += 1
    _line(ws, fmt, row, [("文件", 1), ("行号", 1), ("原因", last - 1)], "head")
    for f in files:
        row += 1
        _line(ws, fmt, row, [(f["file"], 1), ("整个文件", 1), (reason_zh(f["reason"], kind), last - 1)],
              "wrap")
    for r in rows:
        row += 1
        _line(ws, fmt, row, [(r["file"], 1), (r["row"], 1), (reason_zh(r["reason"], kind), last - 1)], "wrap")
