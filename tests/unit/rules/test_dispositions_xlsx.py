"""The returned workbook (issue 17): case sheets found by header, rows by sheet and number, reasons."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter
from sqlalchemy import text

from safetynet.config import Config
from safetynet.dispositions import inbox_files
from safetynet.dispositions_parse import BAD_DATE, UNKNOWN_OUTCOME, FileRejected
from safetynet.dispositions_report import disposition_report, reason_zh
from safetynet.dispositions_xlsx import NO_SHEET, parse_xlsx
from safetynet.pipeline import evaluate_day
from safetynet.reports.extract import case_frame
from safetynet.warehouse.engine import get_engine
from tests.unit.rules.conftest import D, Warehouse, pid

A, B = pid("19600101", 1), pid("19700101", 2)
ALL, R08 = "全部疑点", "R08 一人多户"
NOTE_X = "王五秘密说明"  # a note: never in a reason


def workbook(sheets: dict[str, list[list[Any]]]) -> bytes:
    """An xlsx with the given sheets; ``datetime`` cells are written as date cells, ``None`` left empty."""
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    day = wb.add_format({"num_format": "yyyy-mm-dd"})
    for name, rows in sheets.items():
        ws = wb.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if isinstance(value, datetime):
                    ws.write_datetime(r, c, value, day)
                elif value is not None:
                    ws.write(r, c, value)
    wb.close()
    return buf.getvalue()


ALL_HEADER: list[Any] = ["序号", "规则", "疑点编号", "姓名", "屏蔽至", "核查说明", "核查结论", "备注"]
RULE_HEADER: list[Any] = ["核查结论", "疑点编号", "证据", "核查说明", "屏蔽至"]
SAMPLE: dict[str, list[list[Any]]] = {
    "汇总": [["每日疑点清单"], ["疑点数", 9]],
    ALL: [ALL_HEADER,
          [1, "R08", "R08:A", "张三", None, "已移交", "属实"],  # 2: the same on R08's sheet, row 3
          [2, "R08", "R08:B", "李四", datetime(2026, 12, 31), "迁移滞后", "合理解释"],  # 3: and row 2
          [3, "R08", "R08:C", "王五", None, NOTE_X, None],  # 4: no outcome: no decision
          [4, "R08", "R08:D", "赵六", None, NOTE_X, "作废"],  # 5: unknown outcome
          [5, "R08", None, "钱七", None, NOTE_X, "属实"],  # 6: no case key
          [6, "R08", "R08:E", "孙八", None, NOTE_X, "核查中"],  # 7: R08's sheet row 4 says 属实
          [7, "R08", "R08:F", "周九", "明年", NOTE_X, "合理解释"],  # 8: not a date (R08's row 6 is fine)
          [8, "R01", "R01:X", "吴十", None, None, "CONFIRMED"],  # 9: read (unknown to the loader only)
          [9, "R08", "R08:G", "郑一", 20261231, None, " explained "]],  # 10: a number as yyyymmdd
    R08: [RULE_HEADER,
          ["合理解释", "R08:B", "…", "迁移滞后", "2026/12/31"],  # 2: a text date, the same decision
          ["CONFIRMED", "R08:A", "…", "已移交"],  # 3: the code for the label: the same decision
          ["属实", "R08:E", "…", NOTE_X],  # 4: conflicts with 全部疑点 row 7
          ["核查中", "R08:H", "…", 12345, "2027-01-15"],  # 5: a number as note
          ["合理解释", "R08:F", "…", NOTE_X, "2026-12-31"]],  # 6: its other row was rejected
}


def test_a_workbook_gives_decisions_and_rejections_by_sheet_and_row() -> None:
    decisions, rejected = parse_xlsx(workbook(SAMPLE))
    assert [(d.sheet, d.row, d.case_key, d.outcome, d.note, d.suppress_until) for d in decisions] == [
        (ALL, 2, "R08:A", "CONFIRMED", "已移交", None),
        (ALL, 3, "R08:B", "EXPLAINED", "迁移滞后", date(2026, 12, 31)),
        (ALL, 9, "R01:X", "CONFIRMED", None, None),
        (ALL, 10, "R08:G", "EXPLAINED", None, date(2026, 12, 31)),
        (R08, 5, "R08:H", "UNDER_REVIEW", "12345", date(2027, 1, 15))]
    assert len({d.stored_row for d in decisions}) == 5 and {d.sheet_no for d in decisions} == {1, 2}
    conflict = f"conflicting decisions for this case in sheets {ALL} and {R08}"
    assert [(r.row, r.reason, r.column) for r in rejected] == [
        (5, f"{ALL} row 5: {UNKNOWN_OUTCOME}", "核查结论"),
        (6, f"{ALL} row 6: missing case key", "疑点编号"),
        (7, f"{ALL} row 7: {conflict}", "核查结论"),
        (8, f"{ALL} row 8: {BAD_DATE}", "屏蔽至"),
        (4, f"{R08} row 4: {conflict}", "核查结论"),
        (6, f"{R08} row 6: conflicting decisions for this case in sheets {R08} and {ALL}", "核查结论")]
    reasons = " ".join(r.reason for r in rejected)
    for value in (NOTE_X, "作废", "明年", "R08:", "孙八"):
        assert value not in reasons
    assert NOTE_X in rejected[2].raw  # the row's cells are kept in the quarantine only
    assert reason_zh(rejected[1].reason).startswith("疑点编号为空")
    assert reason_zh(rejected[2].reason).startswith("同一疑点在多处填写了不同的核查结论")


def test_the_header_may_stand_below_a_title_and_cells_may_be_anywhere() -> None:
    sheet: list[list[Any]] = [["标题"], [], [None, None, "疑点编号", "核查结论", "核查说明", "屏蔽至"],
             [None, None, "R08:A", "核查中"], [None, None, "R08:B", "BOGUS"]]
    decisions, rejected = parse_xlsx(workbook({"疑点": sheet, "R08 重复": sheet[2:]}))
    assert [(d.sheet, d.row, d.case_key) for d in decisions] == [("疑点", 4, "R08:A")]
    assert [r.reason for r in rejected] == [f"疑点 row 5: {UNKNOWN_OUTCOME}",
                                            f"R08 重复 row 3: {UNKNOWN_OUTCOME}"]


@pytest.mark.parametrize(("data", "reason"), [
    (os.urandom(4096), "not a readable XLSX workbook (BadZipFile)"),
    (b"", "not a readable XLSX workbook (BadZipFile)"),
    (workbook({"汇总": [["疑点编号", "核查结论", "核查说明"]], "其他": []}), NO_SHEET),
])
def test_a_workbook_that_cannot_be_used_is_rejected_whole(data: bytes, reason: str) -> None:
    with pytest.raises(FileRejected) as caught:
        parse_xlsx(data)
    assert caught.value.reason == reason


def test_a_zip_bomb_is_refused_unread() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sharedStrings.xml", b"\0" * (20 << 20))
    with pytest.raises(FileRejected, match="would unpack beyond"):
        parse_xlsx(buf.getvalue())


def test_the_inbox_reads_csv_and_workbooks_but_not_the_extract_csv(tmp_path: Path) -> None:
    for name in ("dispositions_a.csv", "dispositions_b.xlsx", "mismatches_20261120.xlsx",
                 "mismatches_20261120.csv", "~$mismatches_20261120.xlsx", "dispositions_a.csv.ok",
                 "mismatches_20261120.xlsx.bak", "report.xlsx"):
        (tmp_path / name).write_bytes(b"x")
    cfg = Config(path=tmp_path / "config.yaml", province="江西省", city="上饶市", county="广丰区",
                 regions_file=tmp_path / "regions.csv", warehouse_url="sqlite://", work_dir=tmp_path,
                 rules={}, inbox=str(tmp_path))
    assert [p.name for p in inbox_files(cfg)] == [
        "dispositions_a.csv", "dispositions_b.xlsx", "mismatches_20261120.xlsx"]


# --------------------------------------------------------------------------- the loader (both warehouses)


def _extract(wh: Warehouse, day: date) -> dict[str, tuple[str, str | None]]:
    evaluate_day(wh.cfg, day)
    with get_engine(wh.cfg.warehouse_url).connect() as conn:
        cases = case_frame(conn, day)
    return {k: (s, d if isinstance(d, str) else None)
            for k, s, d in zip(cases["case_key"], cases["status"], cases["disposition"], strict=True)}


def test_a_returned_workbook_is_applied_and_its_rejections_name_sheet_and_row(
        wh: Warehouse, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    wh.cfg = dataclasses.replace(wh.cfg, inbox=str(inbox))
    wh.household("H1", A, B, address="a1")
    wh.household("H2", A, B, address="a2")
    a, b = f"R08:{A}", f"R08:{B}"
    assert set(_extract(wh, D)) == {a, b}
    name = f"mismatches_{D:%Y%m%d}.xlsx"
    (inbox / name).write_bytes(workbook({  # a on 全部疑点 row 2, b on R08's row 2: the same row number
        "汇总": [["汇总"]],
        ALL: [ALL_HEADER, [1, "R08", a, "张三", None, "已移交", "属实"], [2, "R08", b, "李四"]],
        R08: [RULE_HEADER, ["合理解释", b, "…", NOTE_X, datetime(2026, 12, 31)],
              ["属实", a, "…", "已移交"], ["核查中", f"R01:{B}", "…", NOTE_X]]}))
    (inbox / "dispositions_broken.xlsx").write_bytes(os.urandom(2048))
    (inbox / f"mismatches_{D:%Y%m%d}.csv").write_text("case_key\n", encoding="utf-8")  # not read
    day = D + timedelta(1)
    assert _extract(wh, day) == {a: ("OPEN", "CONFIRMED")}  # b explained until 2026-12-31
    with get_engine(wh.cfg.warehouse_url).connect() as conn:
        kept = conn.execute(text("SELECT row_number, case_key, known FROM core_disposition "
                                 "ORDER BY row_number")).all()
        report = disposition_report(conn, day)
        raw = conn.execute(text("SELECT raw FROM meta_quarantine")).scalar()
    assert [(r, k, bool(known)) for r, k, known in kept] == [(10_000_002, a, True), (20_000_002, b, True)]
    assert report["files_loaded"] == [name]
    assert report["files_rejected"] == [
        {"file": "dispositions_broken.xlsx", "reason": "not a readable XLSX workbook (BadZipFile)"}]
    assert report["rows_rejected"] == [{"file": name, "row": 4, "reason": f"{R08} row 4: unknown case"}]
    assert report["unknown_cases"] == [] and report["suppressed_cases"] == 1
    assert NOTE_X not in json.dumps(report, ensure_ascii=False) and NOTE_X in str(raw)
    evaluate_day(wh.cfg, day)  # seen again: not loaded twice
    with get_engine(wh.cfg.warehouse_url).connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM core_disposition")).scalar() == 2
        assert conn.execute(text("SELECT COUNT(*) FROM meta_audit WHERE action LIKE 'disposition_file%'")
                            ).scalar() == 2
