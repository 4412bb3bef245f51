"""Issue 17 end to end: workbooks in the inbox, the shipped templates, a corrupt workbook.

A generated deployment ships ``templates/dispositions_template.{csv,xlsx}``. After
D, inspectors return the xlsx template filled in with real cases, the CSV
template unchanged, and a corrupt ``mismatches_20261121.xlsx``: D+1 publishes,
the workbook's decisions apply, the corrupt file is rejected by name and the
template's example row as an unknown case. On an SFTP inbox a workbook is read
once its ``.ok`` marker exists, like a CSV.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import shutil
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from tests.integration.sftp_server import SshServer

from safetynet.config import load_config
from safetynet.dispositions import inbox_files
from safetynet.generate.templates import EXAMPLE_KEY, write_templates
from safetynet.pipeline import run

D = date(2026, 11, 20)
CORRUPT = "mismatches_20261121.xlsx"
CONN = "departments_sftp"


def test_every_deployment_ships_the_templates(deployment: Callable[..., Path], tmp_path: Path) -> None:
    folder = deployment(tmp_path, households=400).parent / "templates"
    raw = (folder / "dispositions_template.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
    assert rows[0] == ["case_key", "outcome", "note", "suppress_until"] and rows[1][0] == EXAMPLE_KEY
    assert len(rows) == 2
    wb = openpyxl.load_workbook(folder / "dispositions_template.xlsx")
    assert wb.sheetnames == ["反馈", "说明"]
    ws = wb["反馈"]
    assert [c.value for c in ws[1]] == ["疑点编号", "核查结论", "核查说明", "屏蔽至"]
    drop_down = [v for v in ws.data_validations.dataValidation if v.type == "list"]
    assert [(v.formula1, str(v.sqref)) for v in drop_down] == [('"属实,合理解释,核查中"', "B2:B1001")]
    assert ws.column_dimensions["D"].number_format == "yyyy-mm-dd"  # the column: every cell typed in
    assert "inbox" in " ".join(str(c.value) for c in wb["说明"]["A"])
    again = write_templates(tmp_path / "again")  # deterministic
    assert [p.read_bytes() for p in again] == [(folder / p.name).read_bytes() for p in again]


def test_workbooks_and_templates_returned_to_the_inbox(
        deployment: Callable[..., Path], tmp_path: Path) -> None:
    config = deployment(tmp_path, households=400)
    expected = json.loads((config.parent / "expected_cases.json").read_text("utf-8"))["cases"]
    confirmed, explained = sorted(expected["R08"])[:2]
    run(D, config)
    inbox, templates = config.parent / "inbox", config.parent / "templates"
    (inbox / CORRUPT).write_bytes(os.urandom(8192))
    shutil.copy(templates / "dispositions_template.csv", inbox / "dispositions_template.csv")
    wb = openpyxl.load_workbook(templates / "dispositions_template.xlsx")  # filled in as Excel would
    ws = wb["反馈"]
    ws.append([confirmed, "属实", "已移交", None])
    ws.append([explained, "合理解释", "户籍迁移滞后", datetime(2026, 12, 31)])
    ws.append([None, None, "只写了说明", None])  # no outcome: not a decision
    wb.save(inbox / "dispositions_20261121.xlsx")
    day = D + timedelta(1)
    run(day, config)
    folder = config.parent / "outbox" / day.isoformat()
    assert (folder / "_SUCCESS").exists()
    with (folder / f"mismatches_{day:%Y%m%d}.csv").open(encoding="utf-8-sig", newline="") as fh:
        cases = {r["case_key"]: r for r in csv.DictReader(fh)}
    assert cases[confirmed]["disposition"] == "CONFIRMED" and explained not in cases
    report = json.loads((folder / "manifest.json").read_text("utf-8"))["dispositions"]
    assert report["files_loaded"] == ["dispositions_20261121.xlsx", "dispositions_template.csv"]
    assert [f["file"] for f in report["files_rejected"]] == [CORRUPT]
    assert report["files_rejected"][0]["reason"] == "not a readable XLSX workbook (BadZipFile)"
    assert report["rows_rejected"] == [
        {"file": "dispositions_template.csv", "row": 2, "reason": "unknown case"}]
    assert [u["case_key"] for u in report["unknown_cases"]] == [EXAMPLE_KEY]


def test_an_sftp_inbox_reads_a_workbook_once_it_is_complete(
        deployment: Callable[..., Path], tmp_path: Path, sshd: SshServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    config = deployment(tmp_path, households=200)
    remote = sshd.data / f"{tmp_path.name}-inbox"
    remote.mkdir()
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN.upper()}", sshd.conn_env())
    cfg = dataclasses.replace(load_config(config), inbox=f"sftp://{CONN}{remote}")
    for name in ("mismatches_20261120.xlsx", "dispositions_a.xlsx", "dispositions_b.csv",
                 "mismatches_20261120.csv"):
        (remote / name).write_bytes(b"x")
        (remote / f"{name}.ok").touch()
    (remote / "mismatches_20261121.xlsx").write_bytes(b"x")  # still being uploaded: no marker
    assert sorted(p.name for p in inbox_files(cfg)) == [
        "dispositions_a.xlsx", "dispositions_b.csv", "mismatches_20261120.xlsx"]
