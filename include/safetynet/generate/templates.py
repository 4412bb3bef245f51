"""The decision templates shipped with every deployment (outputs.md, issues 17 and 20).

For each side — the inspectors' ``dispositions_template`` and the bureau's
``warning_dispositions_template`` (``templates_guides``) — a ``.csv`` (UTF-8 with
BOM: the contract's header and one example row) and a ``.xlsx`` (a ``反馈`` sheet
with the side's four decision columns, a drop-down of its outcomes, a date format
on ``屏蔽至``, and a ``说明`` sheet on filling it in and where to put it). They
live outside the inbox, which would read them as returned files. An example's key
never names a reported item, so a CSV dropped into the inbox unchanged is
rejected as unknown, never applied. Written with xlsxwriter at a fixed creation
time: the same bytes on every run.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import xlsxwriter

from safetynet.generate.templates_guides import (
    CASES,
    EXAMPLE_KEY,
    WARNING_EXAMPLE_KEY,
    WARNINGS,
    TemplateWords,
)

__all__ = ["EXAMPLE_KEY", "WARNING_EXAMPLE_KEY", "write_templates"]

FOLDER = "templates"
ROWS = 1000
CREATED = datetime(2026, 1, 1)
WIDTHS = (32, 14, 48, 14)


def write_templates(out: Path) -> list[Path]:
    """Write both sides' templates (CSV and XLSX each) under ``out/templates``; returns their paths."""
    folder = Path(out) / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for words in (CASES, WARNINGS):
        csv_path, xlsx_path = folder / f"{words.stem}_template.csv", folder / f"{words.stem}_template.xlsx"
        csv_path.write_bytes((",".join(words.kind.csv_header) + "\r\n" + ",".join(words.example) + "\r\n")
                             .encode("utf-8-sig"))
        _workbook(xlsx_path, words)
        paths += [csv_path, xlsx_path]
    return paths


def _workbook(path: Path, words: TemplateWords) -> None:
    """The ``反馈`` sheet (headers, drop-down, date column) and the ``说明`` sheet."""
    kind = words.kind
    decision, until = kind.sheet_headers[1], kind.sheet_headers[3]
    choices, suppressing = kind.choices_zh, kind.labels[kind.suppressing]
    wb = xlsxwriter.Workbook(str(path))
    wb.set_properties({"title": words.title, "created": CREATED})
    bold = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    formats = (wb.add_format({"num_format": "@"}), None, wb.add_format({"text_wrap": True}),
               wb.add_format({"num_format": "yyyy-mm-dd"}))
    ws = wb.add_worksheet("反馈")
    for col, (name, width, fmt) in enumerate(zip(kind.sheet_headers, WIDTHS, formats, strict=True)):
        ws.write_string(0, col, name, bold)
        ws.set_column(col, col, width, fmt)
    ws.data_validation(1, 1, ROWS, 1, {
        "validate": "list", "source": list(kind.labels.values()),
        "input_title": decision, "input_message": f"请选择 {choices}",
        "error_title": decision, "error_message": f"只能选择 {choices}"})
    ws.data_validation(1, 3, ROWS, 3, {
        "validate": "date", "criteria": ">", "value": datetime(2000, 1, 1),
        "input_title": until, "input_message": f"日期，如 2026-12-31；仅用于“{suppressing}”，可不填",
        "error_type": "warning", "error_message": "请填写日期，如 2026-12-31"})
    ws.freeze_panes(1, 0)
    guide = wb.add_worksheet("说明")
    guide.set_column(0, 0, 110)
    title = wb.add_format({"bold": True, "font_size": 14})
    for row, line in enumerate(words.guide):
        guide.write_string(row, 0, line, title if row == 0 else None)
    wb.close()
