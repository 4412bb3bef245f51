"""``warnings_YYYYMMDD.xlsx``: the social-assistance unit's workbook (outputs.md "Hardship warnings").

The inspectors' workbook conventions (``workbook_cases``): 汇总 (warnings by
township × code with totals, by status, each source's freshness in Beijing time,
the thresholds), 全部预警 by priority and one sheet per warning code, Chinese
values only, the summary and evidence wrapped, key columns frozen, printable, and
the decision columns the bureau fills in and returns through the inbox: 处置结论
(a drop-down of 已救助, 无需救助, 走访中), 处置说明, 屏蔽至, keyed by 预警编号.
No clock but the report date is read: identical inputs give a byte-identical file.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pandas as pd
import xlsxwriter

from safetynet.dispositions_kinds import WARNING_DECISIONS
from safetynet.reports.evidence_warnings import warning_text
from safetynet.reports.labels import SOURCE_ZH, STATUS_ZH, local_time, threshold_text
from safetynet.reports.workbook import MAX_ROWS, formats
from safetynet.reports.workbook_cases import people_frame, prepare_cells, sheet_columns, write_case_sheet
from safetynet.reports.workbook_summary import write_decision_files
from safetynet.rules.catalog_warnings import WARNINGS

ALL_SHEET = "全部预警"
ALL_COLUMNS, CODE_COLUMNS = sheet_columns(WARNING_DECISIONS, rule="预警类型", severity="紧急程度",
                                          summary="预警说明及处置建议")
GUIDE = ("以下为根据部门数据比对发现的可能需要帮助的对象（主动发现），不是认定结论，请核实后按建议处置。"
         "在“处置结论”（已救助 / 无需救助 / 走访中）“处置说明”“屏蔽至”三列填写后，将本工作簿放回反馈文件夹。"
         "含医疗费用等敏感个人信息，仅限社会救助工作使用。")


def write_warnings_workbook(path: Path, d: date, warnings: pd.DataFrame, freshness: dict[str, dict],
                            thresholds: dict, decisions: dict | None = None) -> int:
    """Write the workbook for D from :func:`~safetynet.reports.warnings.warning_frame`'s rows;
    ``decisions`` (the bureau's files processed for D, rejected rows) is listed on 汇总."""
    items = warnings.rename(columns={"warning_key": "case_key", "warning_code": "rule_code"})
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False,
                                         "strings_to_formulas": False, "strings_to_urls": False})
    wb.set_properties({"title": f"每日预警清单 {d.isoformat()}", "created": datetime(d.year, d.month, d.day)})
    fmt = formats(wb)
    _summary(wb, fmt, d, items, freshness, thresholds, decisions)
    people = people_frame(items, d, WARNINGS, WARNING_DECISIONS, warning_text)
    cells = prepare_cells(people, ALL_COLUMNS, CODE_COLUMNS)  # each warning is on two sheets: measured once
    sheets = [(ALL_SHEET, people, ALL_COLUMNS)] + [
        (f"{w.code} {w.name_zh}"[:28], people[people["rule_code"] == w.code], CODE_COLUMNS) for w in WARNINGS]
    for name, rows, columns in sheets:
        for part, start in enumerate(range(0, max(len(rows), 1), MAX_ROWS)):
            write_case_sheet(wb, fmt, name + (f"（{part + 1}）" if part else ""),
                             rows.iloc[start:start + MAX_ROWS], columns, WARNING_DECISIONS, cells)
    wb.close()
    return len(items)


def _summary(wb: xlsxwriter.Workbook, fmt: dict, d: date, items: pd.DataFrame,
             freshness: dict[str, dict], thresholds: dict, decisions: dict | None) -> None:
    """汇总: the day's warnings at a glance."""
    ws = wb.add_worksheet("汇总")
    last = len(WARNINGS) + 1
    ws.set_column(0, 0, 24)
    ws.set_column(1, last, 16)
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.merge_range(0, 0, 0, last, f"每日预警清单 {d.isoformat()}", fmt["title"])
    ws.set_row(1, 60)
    ws.merge_range(1, 0, 1, last, GUIDE, fmt["wrap"])
    live = items[items["status"] != "RESOLVED"].fillna({"township_name": "（未知）", "township_code": "~"})
    ws.write_row(3, 0, ["乡镇（街道）", *(f"{w.code} {w.name_zh}" for w in WARNINGS), "合计"], fmt["head"])
    row = 3
    grid = live.groupby(["township_code", "township_name"])["rule_code"].value_counts().unstack(fill_value=0)
    for (_, town), counts in grid.sort_index().iterrows():
        row += 1
        ws.write_row(row, 0, [town, *(int(counts.get(w.code, 0)) for w in WARNINGS), int(counts.sum())])
    totals = live["rule_code"].value_counts()
    row += 1
    ws.write_row(row, 0, ["合计", *(int(totals.get(w.code, 0)) for w in WARNINGS), int(totals.sum())],
                 fmt["total"])
    row += 2
    ws.write_row(row, 0, ["按状态", "件数"], fmt["head"])
    for status in ("NEW", "OPEN", "RESOLVED"):
        row += 1
        ws.write_row(row, 0, [STATUS_ZH[status], int((items["status"] == status).sum())])
    row += 2
    ws.write_row(row, 0, ["数据源", "状态", "最新数据", "加载时间"], fmt["head"])
    for source, f in freshness.items():
        row += 1
        ws.write_row(row, 0, [SOURCE_ZH.get(source, source), "过期（数据未更新）" if f["stale"] else "正常",
                              str(f["newest_data"] or "")[:10], local_time(f["loaded_at"])],
                     fmt["stale"] if f["stale"] else None)
    row += 2
    ws.write_row(row, 0, ["预警阈值", "取值"], fmt["head"])
    for key, value in thresholds.items():
        row += 1
        ws.write_row(row, 0, list(threshold_text(key, value)))
    if decisions is not None:
        write_decision_files(ws, fmt, row + 2, decisions, WARNING_DECISIONS, last)
