"""``mismatches_YYYYMMDD.xlsx``: the inspectors' workbook (outputs.md, issue 17).

Sheets: 汇总 (``workbook_summary``), 全部疑点 (every case of the day by priority)
and one sheet per rule (``workbook_cases``), each case sheet with the decision
columns inspectors fill in and send back. Written with xlsxwriter in
``constant_memory`` mode, row by row, so a large extract stays within memory;
the document's creation time is the report date and no other clock is read, so
identical inputs give a byte-identical file.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pandas as pd
import xlsxwriter

from safetynet.reports.workbook_cases import (
    ALL_COLUMNS,
    RULE_COLUMNS,
    people_frame,
    prepare_cells,
    write_case_sheet,
)
from safetynet.reports.workbook_summary import write_summary
from safetynet.rules.catalog import RULES

MAX_ROWS = 1_048_575  # data rows a sheet can hold below its header
ALL_SHEET = "全部疑点"


def write_workbook(path: Path, d: date, cases: pd.DataFrame, freshness: dict[str, dict],
                   thresholds: dict, *, dispositions: dict | None = None,
                   refused: list[dict] | None = None,
                   not_evaluated: dict[str, list[str]] | None = None) -> int:
    """Write the workbook for D; return the number of case rows written.

    ``dispositions`` is :func:`safetynet.dispositions.disposition_report` for D and
    ``refused`` the pending refusals, both listed on the summary sheet, as are the rules
    ``not_evaluated`` (rule -> the sources the deployment lacks).
    """
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False,
                                         "strings_to_formulas": False, "strings_to_urls": False})
    wb.set_properties({"title": f"每日疑点清单 {d.isoformat()}", "created": datetime(d.year, d.month, d.day)})
    fmt = formats(wb)
    write_summary(wb, fmt, d, cases, freshness, thresholds, dispositions, refused or [],
                  not_evaluated or {})
    people = people_frame(cases, d)
    cells = prepare_cells(people, ALL_COLUMNS, RULE_COLUMNS)  # each case is on two sheets: measured once
    for part, start in enumerate(range(0, max(len(people), 1), MAX_ROWS)):
        name = ALL_SHEET + (f"（{part + 1}）" if part else "")
        write_case_sheet(wb, fmt, name, people.iloc[start:start + MAX_ROWS], ALL_COLUMNS, cells=cells)
    for rule in RULES:
        rows = people[people["rule_code"] == rule.code]
        for part, start in enumerate(range(0, max(len(rows), 1), MAX_ROWS)):
            name = f"{rule.code} {rule.name_zh}"[:28] + (f"（{part + 1}）" if part else "")
            write_case_sheet(wb, fmt, name, rows.iloc[start:start + MAX_ROWS], RULE_COLUMNS, cells=cells)
    wb.close()
    return len(cases)


def formats(wb: xlsxwriter.Workbook) -> dict:
    """The cell formats every sheet shares."""
    return {
        "head": wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True,
                               "valign": "top"}),
        "title": wb.add_format({"bold": True, "font_size": 14}),
        "section": wb.add_format({"bold": True, "font_size": 12}),
        "total": wb.add_format({"bold": True, "top": 1}),
        "wrap": wb.add_format({"text_wrap": True, "valign": "top"}),
        "top": wb.add_format({"valign": "top"}),
        "stale": wb.add_format({"text_wrap": True, "valign": "top", "bg_color": "#FDE2E2",
                                "font_color": "#9B1C1C", "bold": True}),
        "date": wb.add_format({"num_format": "yyyy-mm-dd", "valign": "top"}),
    }
