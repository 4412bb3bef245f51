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
