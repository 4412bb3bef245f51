"""The workbook's case sheets: 全部疑点 (every case, by priority) and one sheet per rule.

Made to be worked from in Excel or WPS and printed (outputs.md): Chinese values
only (severity, status, decisions), the summary and the evidence wrapped and
fully visible (row heights set from the text), the key columns (规则, 乡镇, 姓名,
身份证号码) frozen beside the header row, widths fitted to the content, filters,
landscape A4 fitted to the page width with the header row repeated, and the
decision columns inspectors fill in: 核查结论 (a drop-down of 属实, 合理解释,
核查中), 核查说明 and 屏蔽至 (a date), always empty (a decision already returned is
shown beside them, in 已反馈结论, so a workbook sent back untouched decides
nothing). ``疑点编号`` identifies the case when the workbook comes back through
the inbox. Written row by row (xlsxwriter
``constant_memory``), so column widths and each row's height are decided before
the row is written; a workbook's sheets share its cells, converted and measured
once (``workbook_cells``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from safetynet.dispositions_kinds import CASE_DECISIONS, DecisionKind
from safetynet.reports.evidence_text import evidence_text
from safetynet.reports.labels import SEVERITY_ZH, STATUS_ZH
from safetynet.reports.priority import priorities
from safetynet.reports.workbook_cells import LINE_HEIGHT, WIDE, PreparedCells, write_rows
from safetynet.rules.catalog import RULES
from safetynet.rules.registry import Rule


@dataclass(frozen=True)
class Col:
    """One column: the people-frame field, its header, how it is written, its widest width."""

    field: str
    header: str
    kind: str = "text"  # text | wrap | date | number
    cap: int = 30


def sheet_columns(kind: DecisionKind = CASE_DECISIONS, rule: str = "规则", severity: str = "风险等级",
                  summary: str = "疑点说明（线索，待核实）") -> tuple[list[Col], list[Col]]:
    """The all-items sheet's columns and a per-rule sheet's, with ``kind``'s decision headers."""
    key, decision, note, until = kind.sheet_headers
    keys = [Col("priority", "优先级", "number", 6), Col("rule", rule, "wrap", 16),
            Col("township_name", "乡镇（街道）", "text", 14), Col("name", "姓名", "text", 10),
            Col("id_number", "身份证号码", "text", 20)]
    tail = [Col("earlier", f"已反馈{decision[-2:]}", "wrap", 16), Col("decision", decision, "text", 10),
            Col("note", note, "wrap", 24), Col("suppress_until", until, "date", 11),
            Col("case_key", key, "text", 36)]
    head = [*keys, Col("severity", severity, "text", 8), Col("status", "状态", "text", 6),
            Col("first_seen", "首次发现", "date", 11), Col("household_id", "家庭编号", "text", 18),
            Col("address", "家庭住址", "wrap", 22), Col("summary", summary, "wrap", 40)]
    return [*head, *tail], [*head, Col("evidence_text", "证据说明", "wrap", 44), *tail,
                            Col("rule_version", "规则版本", "text", 8),
                            Col("source_snapshot", "数据来源批次", "wrap", 30)]


FROZEN = 5  # the header row and the key columns (优先级 … 身份证号码) stay in view
ALL_COLUMNS, RULE_COLUMNS = sheet_columns()


def people_frame(cases: pd.DataFrame, d: date, rules: tuple[Rule, ...] = RULES,
                 kind: DecisionKind = CASE_DECISIONS,
                 describe: Callable[[str, dict], str] = evidence_text) -> pd.DataFrame:
    """The day's cases (or ``rules``' items, decided on by ``kind``) as people read them, by priority."""
    labels = {r.code: f"{r.code} {r.name_zh}" for r in rules}
    out = pd.DataFrame(index=cases.index)
    out["priority"] = priorities(cases, d)
    out["rule"] = cases["rule_code"].map(labels)
    out["rule_code"] = cases["rule_code"]
    for field in ("township_name", "name", "id_number", "household_id", "summary", "first_seen",
                  "case_key", "rule_version", "source_snapshot"):
        out[field] = cases[field]
    out["address"] = cases.get("address", None)
    out["severity"] = cases["severity"].map(SEVERITY_ZH)
    out["status"] = cases["status"].map(STATUS_ZH)
    earlier = cases["disposition"].map(kind.labels)  # shown, never pre-filled: returning the
    note = cases["disposition_note"].fillna("").astype(str)  # workbook untouched decides nothing
    out["earlier"] = [None if pd.isna(e) else (f"{e}：{n}" if n else str(e))
                      for e, n in zip(earlier, note, strict=True)]
    out["decision"] = out["note"] = out["suppress_until"] = None
    out["evidence_text"] = [describe(code, json.loads(ev)) if isinstance(ev, str) and ev else ""
                            for code, ev in zip(cases["rule_code"], cases["evidence"], strict=True)]
    return out.sort_values("priority", kind="stable").reset_index(drop=True)


def _width(text: str) -> int:
    """Display width: CJK characters take two columns."""
    return sum(2 if ord(ch) >= WIDE else 1 for ch in text)


def _lines(text: str, width: int) -> int:
    """Lines ``text`` wraps to in a column ``width`` wide (a margin for fonts wider than assumed)."""
    return sum(max(1, math.ceil(_width(line) / max(width - 2, 1))) for line in text.split("\n"))


def prepare_cells(people: pd.DataFrame, *sheets: list[Col]) -> PreparedCells:
    """``people``'s cells for sheets of these columns, converted and measured once for all of them."""
    return PreparedCells(people, {c.field: c.kind for columns in sheets for c in columns})


def write_case_sheet(wb: xlsxwriter.Workbook, fmt: dict, name: str, rows: pd.DataFrame,
                     columns: list[Col], kind: DecisionKind = CASE_DECISIONS,
                     cells: PreparedCells | None = None) -> Worksheet:
    """One case sheet: header, frozen keys, fitted widths, wrapped text, decisions, print setup.

    ``cells``: :func:`prepare_cells` of the frame ``rows`` were taken from (its index
    their positions in it), shared by the sheets of one workbook; by default ``rows``'.
    """
    if cells is None:
        cells, at = prepare_cells(rows, columns), np.arange(len(rows))
    else:
        at = rows.index.to_numpy(dtype=np.int64)
    ws = wb.add_worksheet(name)
    widths = [max(_width(col.header) + 2,
                  min((10 if col.kind == "date" else cells.longest(col.field, at)) + 2, col.cap))
              for col in columns]
    for c, (col, width) in enumerate(zip(columns, widths, strict=True)):
        ws.set_column(c, c, width, fmt["wrap"] if col.kind == "wrap" else None)
    ws.set_row(0, LINE_HEIGHT * max(_lines(c.header, w) for c, w in zip(columns, widths, strict=True)))
    for c, col in enumerate(columns):
        ws.write_string(0, c, col.header, fmt["head"])
    last = max(len(rows), 1)
    ws.freeze_panes(1, FROZEN)
    ws.autofilter(0, 0, last, len(columns) - 1)
    decision = next(i for i, c in enumerate(columns) if c.field == "decision")
    choices, title = list(kind.labels.values()), kind.sheet_headers[1]
    ws.data_validation(1, decision, max(last, 1000), decision, {
        "validate": "list", "source": choices, "input_title": title,
        "input_message": "请选择：" + " / ".join(choices), "error_title": title,
        "error_message": "只能选择：" + "、".join(choices)})
    until = next(i for i, c in enumerate(columns) if c.field == "suppress_until")
    ws.data_validation(1, until, max(last, 1000), until, {
        "validate": "date", "criteria": ">=", "value": datetime(2000, 1, 1),
        "error_message": "请填写日期，如 2026-12-31"})
    _print_setup(ws)
    write_rows(ws, fmt, [(c.field, c.kind) for c in columns], widths, cells, at)
    return ws


def _print_setup(ws: Worksheet) -> None:
    """Landscape A4, one page wide, the header row on every page, page numbers in the footer."""
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.set_footer("&C第 &P 页，共 &N 页")
