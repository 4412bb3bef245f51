"""The inspectors' workbook as they open and print it (outputs.md; issue 17, item 1).

Read back with openpyxl: sheets, Chinese values only, frozen key columns, fitted
widths, wrapped and fully visible text, the decision drop-down, print setup and
the summary sheet. Rendered with LibreOffice headless (standing in for Excel and
WPS): 全部疑点 prints full width, at most one page per 25 cases.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from safetynet.pipeline import run
from safetynet.reports.render import pdf_pages, sheet_pdf
from safetynet.rules.catalog import RULES

D = date(2026, 11, 20)
ENGLISH = re.compile(r"\b(high|medium|low|NEW|OPEN|RESOLVED|CONFIRMED|EXPLAINED|UNDER_REVIEW|DIBAO|TEKUN|"
                     r"ELDERLY|DISABILITY_\w+|linked_by|covered_by|id_number|None|null|True|False)\b")
MACHINE_COLUMNS = {"疑点编号", "身份证号码", "家庭编号", "数据来源批次", "规则版本"}


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory, deployment: Callable[..., Path]) -> Path:
    """The demo-sized deployment (2,000 households) run for D, with one source made stale."""
    config = deployment(tmp_path_factory.mktemp("workbook"), households=2000)
    run(D, config)
    drop = config.parent / "drop" / "power" / "DL_202610.csv"
    drop.write_bytes(drop.read_bytes().split(b"\n", 1)[0] + b"\n")  # a header-only re-send: refused
    run(D, config)
    return config.parent / "outbox" / D.isoformat() / f"mismatches_{D:%Y%m%d}.xlsx"


def _table(ws: Worksheet) -> tuple[list[str], list[tuple]]:
    rows = list(ws.iter_rows(values_only=True))
    return [str(h) for h in rows[0]], rows[1:]


def test_sheets_columns_and_chinese_values(published: Path) -> None:
    book = load_workbook(published)
    assert book.sheetnames == ["汇总", "全部疑点", *[f"{r.code} {r.name_zh}"[:28] for r in RULES]]
    head, rows = _table(book["全部疑点"])
    assert head[:5] == ["优先级", "规则", "乡镇（街道）", "姓名", "身份证号码"]
    assert {"核查结论", "核查说明", "屏蔽至", "疑点编号", "家庭住址", "疑点说明（线索，待核实）"} <= set(head)
    assert len(rows) > 200 and [r[0] for r in rows] == list(range(1, len(rows) + 1))  # by priority
    column = {h: i for i, h in enumerate(head)}
    assert {r[column["风险等级"]] for r in rows} <= {"高", "中", "低"}
    assert {r[column["状态"]] for r in rows} <= {"新增", "持续", "已消除"}
    severities = [r[column["风险等级"]] for r in rows]
    assert severities == sorted(severities, key="高中低".index)  # severity first in the priority
    for sheet in book.sheetnames[1:]:
        head, rows = _table(book[sheet])
        shown = [i for i, h in enumerate(head) if h not in MACHINE_COLUMNS]
        for r in rows:
            for i in shown:
                if isinstance(r[i], str):
                    assert not ENGLISH.search(r[i]), (sheet, head[i], r[i])
    head, rows = _table(book["R06 用电量异常偏高"])
    evidence = head.index("证据说明")
    assert all("千瓦时" in r[evidence] for r in rows) and rows


def test_frozen_keys_widths_wrapping_and_decisions(published: Path) -> None:
    book = load_workbook(published)
    for sheet in book.sheetnames[1:]:
        ws = book[sheet]
        assert ws.freeze_panes == "F2", sheet  # the header row and 优先级 … 身份证号码
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:")
        head, rows = _table(ws)
        for i, h in enumerate(head):
            width = ws.column_dimensions[chr(ord("A") + i)].width
            assert width >= len(h) * 2, (sheet, h, width)  # the header is readable
        summary = head.index("疑点说明（线索，待核实）")
        summary_width = ws.column_dimensions[chr(ord("A") + summary)].width
        for n, r in enumerate(rows, start=2):
            lines = math.ceil(sum(2 if ord(c) > 0x2E7F else 1 for c in r[summary]) / (summary_width - 2))
            assert ws.row_dimensions[n].height >= 15 * lines, (sheet, n)  # wrapped, fully visible
            assert ws.cell(n, summary + 1).alignment.wrap_text
        validations = [v for v in ws.data_validations.dataValidation if v.type == "list"]
        assert [v.formula1 for v in validations] == ['"属实,合理解释,核查中"']
        decision = chr(ord("A") + head.index("核查结论"))
        assert str(validations[0].sqref).startswith(f"{decision}2:{decision}")


def test_print_setup_landscape_a4_one_page_wide_with_the_header_repeated(published: Path) -> None:
    book = load_workbook(published)
    for sheet in book.sheetnames[1:]:
        ws = book[sheet]
        assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert (ws.page_setup.fitToWidth or 1, ws.page_setup.fitToHeight) == (1, 0)  # 1 is the default
        assert ws.print_title_rows in ("1:1", "$1:$1")


def test_the_summary_sheet(published: Path) -> None:
    ws = load_workbook(published)["汇总"]
    cells = [(c.coordinate, c.value) for row in ws.iter_rows() for c in row if c.value is not None]
    text = "\n".join(str(v) for _, v in cells)
    for rule in RULES:
        assert f"{rule.code} {rule.name_zh}" in text  # full names
    assert "electricity_high_kwh" not in text and "用电量异常偏高的月均阈值" in text
    assert "北京时间" in text and "UTC" not in text
    assert "机器读取" in text and "待核实" in text
    rows = list(ws.iter_rows(values_only=True))
    start = next(i for i, r in enumerate(rows) if r[0] == "乡镇（街道）")
    end = next(i for i in range(start, len(rows)) if rows[i][0] == "合计")
    towns = [r[0] for r in rows[start + 1:end]]
    assert towns and all(r[-1] == sum(r[1:-1]) for r in rows[start + 1:end + 1])  # row totals
    assert rows[end][1:] == tuple(sum(r[i] for r in rows[start + 1:end]) for i in range(1, len(rows[end])))
    stale = next(r for r in ws.iter_rows() if r[0].value == "供电公司")
    assert stale[1].value == "过期（数据未更新）" and stale[0].fill.fgColor.rgb.endswith("FDE2E2")
    assert "R06" in str(stale[5].value) and "R07" in str(stale[5].value)  # the rules it affects
    assert "DL_202610.csv" in str(stale[6].value)  # why


def test_all_cases_print_full_width_at_most_a_page_per_25_cases(published: Path, tmp_path: Path) -> None:
    """LibreOffice headless stands in for Excel and WPS (outputs.md: printable)."""
    cases = load_workbook(published, read_only=True)["全部疑点"].max_row - 1
    pages = pdf_pages(sheet_pdf(published, "全部疑点", tmp_path / "all.pdf"))
    assert 1 <= pages <= math.ceil(cases / 25), (cases, pages)
