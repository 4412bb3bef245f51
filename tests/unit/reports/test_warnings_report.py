"""The warnings' own files (outputs.md "Hardship warnings"), and the line drawn around them."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

from safetynet.reports.build import build_reports
from safetynet.reports.warnings import WARNING_COLUMNS, build_warnings
from tests.unit.rules.conftest import D, Warehouse, pid


def _medical_burden(wh: Warehouse) -> str:
    person = pid("19600101", 1)
    wh.household("H1", person)
    wh.add("core_medical_settlement", source="medical", month="2026-06", settlement_no="S1",
           person_id_norm=person, name="某人", visit_kind="住院", settled_on=date(2026, 6, 3),
           total_cost=40000.0, fund_paid=27654.32, self_paid=12345.68, file_name="YB_202606.csv")
    assert wh.warnings("H01") == {f"H01:{person}"}
    return person


def test_warnings_csv_and_manifest(wh: Warehouse, tmp_path: Path) -> None:
    person = _medical_burden(wh)
    out = tmp_path / "warnings"
    out.mkdir()
    summary = build_warnings(wh.cfg, D, out)
    assert summary["warnings"] == 1
    raw = (out / "warnings_20261120.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, like the cases CSV
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert list(rows[0]) == WARNING_COLUMNS
    (row,) = rows
    assert (row["warning_key"], row["warning_code"], row["status"]) == (f"H01:{person}", "H01", "NEW")
    assert row["warning_name"] == "MEDICAL_BURDEN 大额医疗费用负担"
    assert row["summary"].endswith("建议核查是否符合医疗救助或临时救助条件。")
    evidence = json.loads(row["evidence"])
    assert evidence["self_paid_total"] == 12345.68 and evidence["beneficiary"] is True
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert [f["name"] for f in manifest["files"]] == ["warnings_20261120.csv", "warnings_20261120.xlsx"]
    assert manifest["warnings_by_code"] == {"H01": 1}
    assert {w["code"]: w["evaluated"] for w in manifest["warnings"]} == \
        {"H01": True, "H02": True, "H03": True, "H04": True}
    assert "medical_burden_general" in manifest["thresholds"]


def test_the_inspectors_files_hold_no_warning_and_no_medical_figure(wh: Warehouse, tmp_path: Path) -> None:
    person = _medical_burden(wh)
    out = tmp_path / "outbox"
    out.mkdir()
    build_reports(wh.cfg, D, out)
    for path in out.iterdir():
        text = path.read_bytes().decode("utf-8", errors="replace")
        assert f"H01:{person}" not in text and "12345.68" not in text and "12,345.68" not in text, path
        assert "medical" not in text and "医保" not in text, path
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    assert not {k for k in manifest["thresholds"] if k.startswith(("medical", "silent", "breadwinner"))}


def test_the_warnings_workbook_is_worked_and_returned(wh: Warehouse, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from safetynet.dispositions_kinds import WARNING_DECISIONS
    from safetynet.dispositions_xlsx import parse_xlsx

    person = _medical_burden(wh)
    out = tmp_path / "warnings"
    out.mkdir()
    build_warnings(wh.cfg, D, out)
    book = load_workbook(out / "warnings_20261120.xlsx")
    assert book.sheetnames == ["汇总", "全部预警", "H01 大额医疗费用负担", "H02 重度残疾人未纳入救助",
                               "H03 独居老人用电骤停", "H04 家庭主要劳动力死亡"]
    sheet = book["H01 大额医疗费用负担"]
    header = [c.value for c in sheet[1]]
    assert {"预警编号", "处置结论", "处置说明", "屏蔽至", "证据说明"} <= set(header)
    row = {h: c.value for h, c in zip(header, sheet[2], strict=True)}
    assert row["预警编号"] == f"H01:{person}" and "个人自付合计：12345.68元" in row["证据说明"]
    (validation,) = [v for v in sheet.data_validations.dataValidation if v.type == "list"]
    assert validation.formula1 == '"已救助,无需救助,走访中"'
    cells = list(sheet[2])
    cells[header.index("处置结论")].value = "走访中"
    cells[header.index("处置说明")].value = "已约定周三入户"
    book.save(tmp_path / "returned.xlsx")
    decisions, rejected = parse_xlsx((tmp_path / "returned.xlsx").read_bytes(), WARNING_DECISIONS)
    assert rejected == [] and [(x.case_key, x.outcome, x.note) for x in decisions] == \
        [(f"H01:{person}", "VISITING", "已约定周三入户")]
