"""Issue 15 end to end: a bad dispositions file never stops the extract and is reported by name.

A generated deployment runs D; inspectors return a GB18030 file (Chinese labels,
an unquoted comma, an unknown case) and a file with a wrong header whose name
holds an ID number. D+1 and D+2 still publish; the manifest, the workbook's
summary sheet, ``safetynet status`` and the monitor page report the rejections
(masked where they should be), and the raw content of a rejected row appears in
none of them.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import openpyxl

from safetynet.config import load_config
from safetynet.dashboard.page import render
from safetynet.dashboard.summary import build_summary
from safetynet.pipeline import publish, run
from safetynet.reports.status import status_lines
from safetynet.warehouse.engine import get_engine

D = date(2026, 11, 20)
PERSON = "361103196001010017"
BAD = f"dispositions_{PERSON}.csv"  # a file name with an ID number: masked outside the manifest
GOOD = "dispositions_20261121.csv"
PRIVATE_NOTE = "王五秘密说明"  # the note of the rejected row: stays in the quarantine


def _folder(config: Path, day: date) -> Path:
    return config.parent / "outbox" / day.isoformat()


def _extract(config: Path, day: date) -> dict[str, dict[str, str]]:
    path = _folder(config, day) / f"mismatches_{day:%Y%m%d}.csv"
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return {r["case_key"]: r for r in csv.DictReader(fh)}


def _summary_cells(config: Path, day: date) -> list[list]:
    wb = openpyxl.load_workbook(_folder(config, day) / f"mismatches_{day:%Y%m%d}.xlsx", read_only=True)
    return [[c for c in r if c is not None] for r in wb["汇总"].iter_rows(values_only=True)]


def test_rejected_files_and_rows_are_reported_and_the_extract_still_publishes(
        deployment: Callable[..., Path], tmp_path: Path) -> None:
    config = deployment(tmp_path, households=400)
    expected = json.loads((config.parent / "expected_cases.json").read_text("utf-8"))["cases"]
    explained, confirmed, third = sorted(expected["R09"])[0], *sorted(expected["R08"])[:2]
    run(D, config)
    inbox = config.parent / "inbox"
    (inbox / BAD).write_text(f"疑点编号,核查结论,核查说明,屏蔽至\n{confirmed},属实,{PRIVATE_NOTE},\n",
                             encoding="utf-8")
    (inbox / GOOD).write_bytes((
        "case_key,outcome,note,suppress_until\n"
        f"{explained},合理解释,户籍系统已更正，待同步,2026年11月22日\n"
        f"{confirmed},属实,\"已移交, 待处理\",\n"
        f"{third},属实,{PRIVATE_NOTE},另一半,\n"
        "R01:000000000000000000,核查中,,\n").encode("gb18030"))
    day = D + timedelta(1)
    run(day, config)
    assert (_folder(config, day) / "_SUCCESS").exists()
    cases = _extract(config, day)
    assert explained not in cases and cases[confirmed]["disposition"] == "CONFIRMED"
    assert cases[confirmed]["disposition_note"] == "已移交, 待处理" and cases[third]["disposition"] == ""

    manifest_text = (_folder(config, day) / "manifest.json").read_text("utf-8")
    report = json.loads(manifest_text)["dispositions"]
    assert report["files_loaded"] == [GOOD]
    assert [f["file"] for f in report["files_rejected"]] == [BAD]
    assert report["files_rejected"][0]["reason"].startswith(
        "header must be case_key,outcome,note,suppress_until; found 4 columns: 疑点编号, 核查结论")
    assert report["rows_rejected"] == [
        {"file": GOOD, "row": 4, "reason": "5 fields, expected 4 (quote a note that contains a comma)"},
        {"file": GOOD, "row": 5, "reason": "unknown case"}]
    assert [u["case_key"] for u in report["unknown_cases"]] == ["R01:000000000000000000"]
    assert report["suppressed_cases"] >= 1

    cells = _summary_cells(config, day)
    start = next(i for i, r in enumerate(cells) if r and r[0] == "反馈文件处理情况")
    section = cells[start:]
    assert ["已读取文件", 1, GOOD] in section
    assert ["拒收文件（整个文件未采用）", 1] in section and ["拒收行（该行未采用）", 2] in section
    listed = {(r[0], r[1]): r[2] for r in section if len(r) == 3 and r[0] in (BAD, GOOD)}
    assert set(listed) == {(BAD, "整个文件"), (GOOD, 4), (GOOD, 5)}
    assert listed[(BAD, "整个文件")].startswith("表头不符") and listed[(GOOD, 4)].startswith("列数不对")
    flat = " ".join(str(c) for r in cells for c in r)
    assert "数据源" in flat and "规则阈值" in flat  # the earlier sections are still there

    status = "\n".join(status_lines(config))
    assert "dispositions   files rejected=1 rows rejected=2" in status
    assert f"row {GOOD}:4 for {day.isoformat()}: 5 fields, expected 4" in status
    assert "dispositions_361103********0017.csv" in status and PERSON not in status

    with get_engine(load_config(config).warehouse_url).connect() as conn:
        summary = build_summary(conn, "test")
    page = render(summary)
    shown = summary["dispositions"]
    assert [f["file"] for f in shown["files_rejected"]] == ["dispositions_361103********0017.csv"]
    assert [(r["file"], r["row"], r["report_date"]) for r in shown["rows_rejected"]] == [
        (GOOD, 4, day.isoformat()), (GOOD, 5, day.isoformat())]
    assert all(r["at"] for r in shown["rows_rejected"]) and "拒收行 Rejected rows (2)" in page
    for text_out in (manifest_text, flat, status, page, json.dumps(summary, ensure_ascii=False)):
        assert PRIVATE_NOTE not in text_out and "另一半" not in text_out
    for text_out in (status, page):
        assert PERSON not in text_out and "R01:000000000000000000" not in text_out

    workbook = _folder(config, day) / f"mismatches_{day:%Y%m%d}.xlsx"
    before = workbook.read_bytes()
    publish(day, config)  # republished: byte-identical with the rejections listed
    assert workbook.read_bytes() == before

    run(day + timedelta(1), config)  # the rejected file is not read again, the day still publishes
    later = json.loads((_folder(config, day + timedelta(1)) / "manifest.json").read_text("utf-8"))
    assert (_folder(config, day + timedelta(1)) / "_SUCCESS").exists()
    assert later["dispositions"]["files_rejected"] == [] and later["dispositions"]["files_loaded"] == []
    assert ["无拒收的文件或行"] in _summary_cells(config, day + timedelta(1))
