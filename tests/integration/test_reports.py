"""The published workbook, monitoring file and manifest, read back as a user would."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import text

from safetynet.config import load_config
from safetynet.pipeline import publish, run
from safetynet.reports.extract import EXTRACT_COLUMNS
from safetynet.rules.catalog import RULES
from safetynet.sources.declarations import SOURCES
from safetynet.warehouse.engine import get_engine

D = date(2026, 11, 20)


@pytest.fixture(scope="module")
def published(deployment: Callable[..., Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    config = deployment(tmp_path_factory.mktemp("reports"), households=500)
    run(D, config)
    return config


def _folder(config: Path) -> Path:
    return config.parent / "outbox" / D.isoformat()


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_case_csv_matches_the_contract(published: Path) -> None:
    raw = (_folder(published) / "mismatches_20261120.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    reader = csv.reader(io.StringIO(raw.decode("utf-8-sig")))
    assert next(reader) == EXTRACT_COLUMNS
    rows = _csv_rows(_folder(published) / "mismatches_20261120.csv")
    order = {"high": 0, "medium": 1, "low": 2}
    keys = [(order[r["severity"]], r["township_code"] or "\uffff", r["case_key"]) for r in rows]
    assert keys == sorted(keys)
    for r in rows:
        assert r["summary"].startswith("疑似") and r["summary"].endswith("待核实。")
        json.loads(r["evidence"])
        assert r["report_date"] == D.isoformat()


def test_every_row_is_a_lead_with_its_rule_version_and_traceable_snapshots(published: Path) -> None:
    """Issue 9: a case names the rule version and the exact deliveries it was found in."""
    rows = _csv_rows(_folder(published) / "mismatches_20261120.csv")
    rules = {r.code: r for r in RULES}
    with get_engine(load_config(published).warehouse_url).connect() as conn:
        files = {(s, f"{n}#{h[:12]}") for s, n, h in conn.execute(text(
            "SELECT source, file_name, sha256 FROM meta_file WHERE outcome = 'loaded'"))}
        batches = {(s, f"batch {b}") for s, b in conn.execute(text(
            "SELECT DISTINCT source, batch_id FROM meta_load_log"))}
    assert {r["rule_code"] for r in rows} == set(rules)
    for r in rows:
        assert r["summary"].endswith("待核实。") and r["rule_version"] == rules[r["rule_code"]].version
        parts = [p.split(":", 1) for p in r["source_snapshot"].split("; ")]
        assert [s for s, _ in parts] == list(rules[r["rule_code"]].sources)
        for source, snapshot in parts:
            assert (source, snapshot) in files | batches, (r["rule_code"], source, snapshot)


def test_workbook_sheets_headers_panes_filters_and_cases(published: Path) -> None:
    """Every case of the CSV is on 全部疑点 and on its rule's sheet, nothing else (issue 17 layout:
    tests/integration/test_workbook.py checks the rest)."""
    wb = openpyxl.load_workbook(_folder(published) / "mismatches_20261120.xlsx")
    assert wb.sheetnames[:2] == ["汇总", "全部疑点"]
    assert len(wb.sheetnames) == 2 + len(RULES)
    csv_keys = {r["case_key"]: r for r in _csv_rows(_folder(published) / "mismatches_20261120.csv")}
    on_rule_sheets: dict = {}
    for name in wb.sheetnames[1:]:
        ws = wb[name]
        header = [c.value for c in ws[1]]
        assert "身份证号码" in header and "疑点说明（线索，待核实）" in header and "疑点编号" in header
        key, first_seen = header.index("疑点编号"), header.index("首次发现")
        assert ws.freeze_panes == "F2"
        assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A1:")
        keys = []
        for row in ws.iter_rows(min_row=2, values_only=True):
            keys.append(row[key])
            assert isinstance(row[first_seen], datetime)
            if name != "全部疑点":
                assert row[header.index("规则")].split()[0] == name.split()[0]
                on_rule_sheets[row[key]] = row
        if name == "全部疑点":
            assert sorted(keys) == sorted(csv_keys)
    assert set(on_rule_sheets) == set(csv_keys)
    summary = [[c for c in r if c is not None] for r in wb["汇总"].iter_rows(values_only=True)]
    flat = [str(c) for r in summary for c in r]
    assert "数据源" in flat and "规则阈值" in flat and "用电量异常偏高的月均阈值" in flat


def test_monitoring_counts_match_the_warehouse(published: Path) -> None:
    rows = _csv_rows(_folder(published) / "monitoring_20261120.csv")
    assert rows and "id_number" not in rows[0]
    households = sum(int(r["active_households"]) for r in rows if r["programme"] in ("DIBAO", "TEKUN"))
    with get_engine(load_config(published).warehouse_url).connect() as conn:
        expected = conn.execute(text(
            "SELECT COUNT(*) FROM core_household WHERE status = 'ACTIVE' AND approved_on <= :d "
            "AND (terminated_on IS NULL OR terminated_on > :d) AND EXISTS (SELECT 1 FROM core_member m "
            "WHERE m.household_id = core_household.household_id AND m.joined_on <= :d "
            "AND (m.left_on IS NULL OR m.left_on > :d))"), {"d": D.isoformat()}).scalar()
    assert households == expected
    assert sum(int(r["persons_with_open_case"]) for r in rows) > 0


def test_manifest_lists_every_file_with_checksum(published: Path) -> None:
    folder = _folder(published)
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    names = {f["name"] for f in manifest["files"]}
    assert names == {"mismatches_20261120.csv", "mismatches_20261120.xlsx", "monitoring_20261120.csv"}
    for f in manifest["files"]:
        assert (folder / f["name"]).stat().st_size == f["size"]
    assert set(manifest["sources"]) == {n for n, s in SOURCES.items() if not s.warnings_only}  # no medical
    assert manifest["thresholds"]["utility_window_months"] == 3


def test_publishing_again_gives_byte_identical_case_files(published: Path) -> None:
    folder = _folder(published)
    before = {n: (folder / n).read_bytes() for n in ("mismatches_20261120.csv", "mismatches_20261120.xlsx",
                                                      "monitoring_20261120.csv")}
    publish(D, published)
    assert {n: (folder / n).read_bytes() for n in before} == before
