"""``mismatches_YYYYMMDD.xlsx``: the inspectors' workbook (outputs.md, issue 6).

A summary sheet (cases by township × rule and by status, stale sources, rule
thresholds, and the disposition files and rows rejected for D) and one sheet
per rule with Chinese headers, a frozen header row, filters, readable widths
and real date cells. Written with xlsxwriter in
``constant_memory`` mode, row by row, so a large extract stays within memory;
the document's creation time is the report date, so identical inputs give a
byte-identical file.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pandas as pd
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from safetynet.dispositions_report import reason_zh
from safetynet.rules.catalog import RULES

MAX_ROWS = 1_048_575  # data rows a sheet can hold below its header
HEADERS = [  # (extract column, Chinese header, width)
    ("case_key", "疑点编号", 34), ("rule_code", "规则", 6), ("severity", "风险等级", 9),
    ("status", "状态", 10), ("first_seen", "首次发现", 12), ("report_date", "报告日期", 12),
    ("township_code", "乡镇（街道）代码", 15), ("township_name", "乡镇（街道）", 14),
    ("household_id", "家庭编号", 18), ("id_number", "身份证号码", 21), ("name", "姓名", 10),
    ("summary", "疑点说明（线索，待核实）", 60), ("evidence", "证据（JSON）", 60),
    ("disposition", "核查结论", 12), ("disposition_note", "核查说明", 30),
    ("rule_version", "规则版本", 9), ("source_snapshot", "数据来源批次", 48),
]
STATUS_ZH = {"NEW": "新增", "OPEN": "持续", "RESOLVED": "已消除"}
SOURCE_ZH = {"civil_affairs": "社会救助系统", "personnel": "组织人事", "property": "不动产登记",
             "electricity": "供电公司", "water": "自来水公司"}


def write_workbook(path: Path, d: date, cases: pd.DataFrame, freshness: dict[str, dict],
                   thresholds: dict, *, dispositions: dict | None = None,
                   refused: list[dict] | None = None) -> int:
    """Write the workbook for D; return the number of case rows written.

    ``dispositions`` is :func:`safetynet.dispositions.disposition_report` for D,
    listed at the end of the summary sheet.
    """
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False,
                                         "strings_to_formulas": False, "strings_to_urls": False})
    wb.set_properties({"title": f"每日疑点清单 {d.isoformat()}", "created": datetime(d.year, d.month, d.day)})
    fmt = {"head": wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1}),
           "date": wb.add_format({"num_format": "yyyy-mm-dd"}),
           "title": wb.add_format({"bold": True, "font_size": 14})}
    _summary(wb, fmt, d, cases, freshness, thresholds, dispositions, refused or [])
    for rule in RULES:
        rows = cases[cases["rule_code"] == rule.code]
        for part, start in enumerate(range(0, max(len(rows), 1), MAX_ROWS)):
            name = f"{rule.code} {rule.name_zh}"[:28] + (f" ({part + 1})" if part else "")
            _case_sheet(wb, fmt, name, rows.iloc[start:start + MAX_ROWS])
    wb.close()
    return len(cases)


def _case_sheet(wb: xlsxwriter.Workbook, fmt: dict, name: str, rows: pd.DataFrame) -> None:
    ws = wb.add_worksheet(name)
    for col, (_, head, width) in enumerate(HEADERS):
        ws.set_column(col, col, width)
        ws.write_string(0, col, head, fmt["head"])
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(len(rows), 1), len(HEADERS) - 1)
    columns = [c for c, _, _ in HEADERS]
    for r, values in enumerate(rows[columns].itertuples(index=False, name=None), start=1):
        for c, (column, value) in enumerate(zip(columns, values, strict=True)):
            if value is None or (isinstance(value, float) and pd.isna(value)):
                continue
            if column in ("first_seen", "report_date"):
                ws.write_datetime(r, c, datetime.fromisoformat(str(value)[:10]), fmt["date"])
            elif column == "status":
                ws.write_string(r, c, f"{value} {STATUS_ZH.get(value, '')}".strip())
            else:
                ws.write_string(r, c, str(value))


def _summary(wb: xlsxwriter.Workbook, fmt: dict, d: date, cases: pd.DataFrame,
             freshness: dict[str, dict], thresholds: dict, dispositions: dict | None = None,
             refused: list[dict] | None = None) -> None:
    ws = wb.add_worksheet("汇总")
    ws.set_column(0, 0, 22)
    ws.set_column(1, len(RULES) + 1, 12)
    ws.write_string(0, 0, f"每日疑点清单 {d.isoformat()}（所列均为待核实线索，非认定结论）", fmt["title"])
    row = 2
    ws.write_string(row, 0, "乡镇（街道）× 规则", fmt["head"])
    codes = [r.code for r in RULES]
    for c, rule in enumerate(RULES, start=1):
        ws.write_string(row, c, f"{rule.code} {rule.name_zh}", fmt["head"])
    ws.write_string(row, len(codes) + 1, "合计", fmt["head"])
    live = cases[cases["status"] != "RESOLVED"]
    towns = live.fillna({"township_name": "（未知）"}).groupby("township_name")["rule_code"]
    for town, series in sorted(towns, key=lambda kv: str(kv[0])):
        row += 1
        counts = series.value_counts()
        ws.write_string(row, 0, str(town))
        for c, code in enumerate(codes, start=1):
            ws.write_number(row, c, int(counts.get(code, 0)))
        ws.write_number(row, len(codes) + 1, int(counts.sum()))
    row += 2
    ws.write_string(row, 0, "按状态", fmt["head"])
    ws.write_string(row, 1, "件数", fmt["head"])
    for status in ("NEW", "OPEN", "RESOLVED"):
        row += 1
        ws.write_string(row, 0, f"{status} {STATUS_ZH[status]}")
        ws.write_number(row, 1, int((cases["status"] == status).sum()))
    row += 2
    for c, head in enumerate(("数据源", "状态", "最新数据", "加载时间", "说明")):
        ws.write_string(row, c, head, fmt["head"])
    for source, f in freshness.items():
        row += 1
        ws.write_row(row, 0, [SOURCE_ZH.get(source, source), "过期（数据未更新）" if f["stale"] else "正常",
                              f["newest_data"] or "", f["loaded_at"] or "",
                              source_note(source, f, refused or [])])
    row += 2
    ws.write_string(row, 0, "规则阈值", fmt["head"])
    ws.write_string(row, 1, "取值", fmt["head"])
    for key, value in thresholds.items():
        row += 1
        ws.write_row(row, 0, [key, "、".join(value) if isinstance(value, list) else str(value)])
    if dispositions is not None:
        _dispositions(ws, fmt, row + 2, dispositions)


def source_note(source: str, fresh: dict, refused: list[dict]) -> str:
    """Why a source is stale or suspect: its refused deliveries and rows from a clock ahead."""
    notes = [f"拒收 {r['item']}：{r['reason']}（原有数据继续有效；如属实际减少，运维可执行 {r['accept']}）"
             for r in refused if r["source"] == source]
    if fresh.get("future_rows"):
        notes.append(f"{fresh['future_rows']} 行更新时间晚于抽取截止时间（源系统时钟超前，最晚 "
                     f"{fresh.get('future_max')}）：已入库，不影响后续增量抽取")
    return "；".join(notes)


def _dispositions(ws: Worksheet, fmt: dict, row: int, report: dict) -> None:
    """反馈文件处理情况: files read, and each rejected file or row with its reason (no case keys)."""
    loaded, files, rows = report["files_loaded"], report["files_rejected"], report["rows_rejected"]
    ws.write_string(row, 0, "反馈文件处理情况", fmt["head"])
    ws.write_string(row, 1, "件数", fmt["head"])
    for label, items in (("已读取文件", loaded), ("拒收文件（整个文件未采用）", files),
                         ("拒收行（该行未采用）", rows)):
        row += 1
        ws.write_row(row, 0, [label, len(items)])
        if items is loaded and loaded:
            ws.write_string(row, 2, "、".join(loaded))
    row += 1
    if not files and not rows:
        ws.write_string(row, 0, "无拒收的文件或行")
        return
    ws.write_string(row, 0, "请更正后重新提交（更新原文件或另存为新文件均可）；已采用的行无需重复提交。")
    row += 1
    for c, head in enumerate(("文件", "行号", "原因")):
        ws.write_string(row, c, head, fmt["head"])
    for f in files:
        row += 1
        ws.write_row(row, 0, [f["file"], "整个文件", reason_zh(f["reason"])])
    for r in rows:
        row += 1
        ws.write_row(row, 0, [r["file"], r["row"], reason_zh(r["reason"])])
