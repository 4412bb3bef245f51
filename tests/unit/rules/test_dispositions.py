"""Inspectors' dispositions: loaded once, EXPLAINED suppresses until a date or an evidence change."""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from safetynet import dispositions
from safetynet.dispositions import disposition_report
from safetynet.dispositions_parse import UNKNOWN_OUTCOME
from safetynet.pipeline import evaluate_day
from safetynet.reports.extract import case_frame
from safetynet.warehouse.engine import get_engine
from tests.unit.rules.conftest import D, Warehouse, pid

A, B = pid("19600101", 1), pid("19700101", 2)
HEADER = "case_key,outcome,note,suppress_until\n"


def _with_inbox(wh: Warehouse, tmp_path: Path) -> Path:
    return wh.with_inbox(tmp_path)


def _extract(wh: Warehouse, day: date) -> dict[str, tuple[str, str | None]]:
    evaluate_day(wh.cfg, day)
    with get_engine(wh.cfg.warehouse_url).connect() as conn:
        cases = case_frame(conn, day)
    return {k: (s, d if isinstance(d, str) else None)  # no decision: None (or NaN beside others)
            for k, s, d in zip(cases["case_key"], cases["status"], cases["disposition"], strict=True)}


def test_explained_case_is_suppressed_until_its_date(wh: Warehouse, tmp_path: Path) -> None:
    inbox = _with_inbox(wh, tmp_path)
    wh.household("H1", A, address="a1")
    wh.household("H2", A, address="a2")
    key = f"R08:{A}"
    assert _extract(wh, D) == {key: ("NEW", None)}
    until = D + timedelta(2)
    (inbox / "dispositions_20261120.csv").write_text(
        HEADER + f"{key},EXPLAINED,已核实为同户迁移,{until:%Y/%m/%d}\n", encoding="utf-8")
    assert _extract(wh, D + timedelta(1)) == {}
    assert _extract(wh, until) == {}
    assert _extract(wh, until + timedelta(1)) == {key: ("OPEN", "EXPLAINED")}


def test_explained_case_comes_back_when_its_evidence_changes(wh: Warehouse, tmp_path: Path) -> None:
    inbox = _with_inbox(wh, tmp_path)
    wh.household("H1", A, address="a1")
    wh.household("H2", A, address="a2")
    key = f"R08:{A}"
    _extract(wh, D)
    (inbox / "dispositions_a.csv").write_text(HEADER + f"{key},EXPLAINED,,\n", encoding="utf-8")
    assert _extract(wh, D + timedelta(1)) == {}
    wh.household("H3", A, address="a3")  # a third household: the evidence changes
    assert _extract(wh, D + timedelta(2)) == {key: ("OPEN", "EXPLAINED")}


def test_confirmed_is_shown_and_unknown_cases_are_kept_not_applied(wh: Warehouse, tmp_path: Path) -> None:
    inbox = _with_inbox(wh, tmp_path)
    wh.household("H1", A, B, address="a1")
    wh.household("H2", A, address="a2")
    _extract(wh, D)
    (inbox / "dispositions_b.csv").write_text(
        HEADER + f"R08:{A},confirmed,已移交,\nR01:{B},EXPLAINED,,\nR08:{A},BOGUS,,\n", encoding="utf-8")
    day = D + timedelta(1)
    assert _extract(wh, day) == {f"R08:{A}": ("OPEN", "CONFIRMED")}
    with get_engine(wh.cfg.warehouse_url).connect() as conn:
        kept = conn.execute(text("SELECT case_key, known, row_number FROM core_disposition")).all()
        rejected = conn.execute(text("SELECT row_number, reason FROM meta_quarantine "
                                     "WHERE source = 'dispositions'")).all()
    assert sorted((k, bool(known), r) for k, known, r in kept) == [
        (f"R01:{B}", False, 3), (f"R08:{A}", True, 2)]
    assert [r for r, _ in rejected] == [4]
    evaluate_day(wh.cfg, day)  # the same file seen again is not loaded twice
    with get_engine(wh.cfg.warehouse_url).connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM core_disposition")).scalar() == 2


# --------------------------------------------------------------------------- issue 15: robust loading

NOTE = "王五秘密说明"  # a note that must never leave the quarantine


def _two_cases(wh: Warehouse, tmp_path: Path) -> Path:
    """R08:A and R08:B open on D, an inbox ready."""
    inbox = _with_inbox(wh, tmp_path)
    wh.household("H1", A, B, address="a1")
    wh.household("H2", A, B, address="a2")
    assert set(_extract(wh, D)) == {f"R08:{A}", f"R08:{B}"}
    return inbox


def _report(wh: Warehouse, day: date) -> dict:
    with get_engine(wh.cfg.warehouse_url).connect() as conn:
        return disposition_report(conn, day)


def _audit(wh: Warehouse, action: str) -> list[dict]:
    with get_engine(wh.cfg.warehouse_url).connect() as conn:
        rows = conn.execute(text("SELECT report_date, detail FROM meta_audit WHERE action = :a ORDER BY id"),
                            {"a": action}).all()
    return [{"report_date": str(d)[:10], **json.loads(detail)} for d, detail in rows]


def test_gb18030_file_with_chinese_labels_is_applied(wh: Warehouse, tmp_path: Path) -> None:
    inbox = _two_cases(wh, tmp_path)
    data = (HEADER + f"R08:{A},属实,已移交纪委，待处理,\nR08:{B},合理解释,户籍迁移滞后,2026年11月22日\n"
            ).encode("gb18030")
    (inbox / "dispositions_gb.csv").write_bytes(data)
    assert _extract(wh, D + timedelta(1)) == {f"R08:{A}": ("OPEN", "CONFIRMED")}  # B suppressed
    with get_engine(wh.cfg.warehouse_url).connect() as conn:
        notes = dict(conn.execute(text("SELECT case_key, note FROM core_disposition")).all())
    assert notes == {f"R08:{A}": "已移交纪委，待处理", f"R08:{B}": "户籍迁移滞后"}
    assert _report(wh, D + timedelta(1))["files_loaded"] == ["dispositions_gb.csv"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"])
def test_utf8_with_and_without_bom_is_applied(wh: Warehouse, tmp_path: Path, encoding: str) -> None:
    inbox = _two_cases(wh, tmp_path)
    data = (HEADER + f" R08:{A} , under_review ,核查中,\n").encode(encoding)
    (inbox / "dispositions_u.csv").write_bytes(data)
    assert _extract(wh, D + timedelta(1))[f"R08:{A}"] == ("OPEN", "UNDER_REVIEW")


def test_a_rejected_file_is_reported_registered_and_not_read_again(wh: Warehouse, tmp_path: Path) -> None:
    inbox = _two_cases(wh, tmp_path)
    bad = inbox / "dispositions_a.csv"
    bad.write_text(f"case_key,outcome,notes,suppress_until\nR08:{A},CONFIRMED,{NOTE},\n", encoding="utf-8")
    (inbox / "dispositions_b.csv").write_text(HEADER + f"R08:{B},CONFIRMED,,\n", encoding="utf-8")
    day = D + timedelta(1)
    assert _extract(wh, day) == {f"R08:{A}": ("OPEN", None), f"R08:{B}": ("OPEN", "CONFIRMED")}
    report = _report(wh, day)
    assert report["files_loaded"] == ["dispositions_b.csv"]
    assert [f["file"] for f in report["files_rejected"]] == ["dispositions_a.csv"]
    assert report["files_rejected"][0]["reason"].startswith(
        "header must be case_key,outcome,note,suppress_until; found 4 columns")
    audit = _audit(wh, "disposition_file_rejected")
    assert [(a["report_date"], a["file"], a["sha256"]) for a in audit] == [
        (day.isoformat(), "dispositions_a.csv", hashlib.sha256(bad.read_bytes()).hexdigest())]
    assert NOTE not in json.dumps([audit, report], ensure_ascii=False) and A not in str(audit)
    with get_engine(wh.cfg.warehouse_url).connect() as conn:
        assert conn.execute(text("SELECT outcome FROM meta_file WHERE file_name = 'dispositions_a.csv'")
                            ).scalar() == "rejected"
    (inbox / "dispositions_c.csv").write_text(HEADER + f"R08:{A},核查中,,\n", encoding="utf-8")
    later = D + timedelta(2)
    assert _extract(wh, later)[f"R08:{A}"] == ("OPEN", "UNDER_REVIEW")  # later files still load
    assert len(_audit(wh, "disposition_file_rejected")) == 1  # the same rejected file: a no-op
    assert _report(wh, later)["files_rejected"] == [] and _report(wh, later)["files_loaded"] == [
        "dispositions_c.csv"]
    bad.write_text(HEADER + f"R08:{A},EXPLAINED,,\n", encoding="utf-8")  # corrected under the same name
    assert _extract(wh, D + timedelta(3)) == {f"R08:{B}": ("OPEN", "CONFIRMED")}
    assert _report(wh, D + timedelta(3))["files_loaded"] == ["dispositions_a.csv"]


def test_bad_rows_are_rejected_by_number_and_the_rest_applied(wh: Warehouse, tmp_path: Path) -> None:
    inbox = _two_cases(wh, tmp_path)
    (inbox / "dispositions_r.csv").write_text(
        HEADER + f"R08:{A},CONFIRMED,{NOTE},甲,\n"  # row 2: an unquoted comma
        f'R08:{B},CONFIRMED,"甲,乙\n丙",\n'  # rows 3-4: a quoted comma and line break
        f"\nR08:{A},BOGUS,,\nR08:{A},EXPLAINED,,明天\n,CONFIRMED,,\nR01:{B},EXPLAINED,,\n"
        f"R08:{A},UNDER_REVIEW,a\x00b,\n", encoding="utf-8")
    day = D + timedelta(1)
    assert _extract(wh, day) == {f"R08:{A}": ("OPEN", None), f"R08:{B}": ("OPEN", "CONFIRMED")}
    with get_engine(wh.cfg.warehouse_url).connect() as conn:
        note = conn.execute(text("SELECT note FROM core_disposition WHERE row_number = 3")).scalar()
        raw = conn.execute(text("SELECT raw FROM meta_quarantine WHERE row_number = 2")).scalar()
    assert note == "甲,乙\n丙" and raw == f"R08:{A},CONFIRMED,{NOTE},甲,"
    report = _report(wh, day)
    assert report == {
        "files_loaded": ["dispositions_r.csv"], "files_rejected": [],
        "rows_rejected": [
            {"file": "dispositions_r.csv", "row": 2,
             "reason": "5 fields, expected 4 (quote a note that contains a comma)"},
            {"file": "dispositions_r.csv", "row": 6, "reason": UNKNOWN_OUTCOME},
            {"file": "dispositions_r.csv", "row": 7, "reason": "bad date in suppress_until"},
            {"file": "dispositions_r.csv", "row": 8, "reason": "empty case_key"},
            {"file": "dispositions_r.csv", "row": 9, "reason": "unknown case"},
            {"file": "dispositions_r.csv", "row": 10, "reason": "contains a NUL character"}],
        "unknown_cases": [{"file_name": "dispositions_r.csv", "row_number": 9, "case_key": f"R01:{B}",
                           "outcome": "EXPLAINED"}],
        "suppressed_cases": 0}
    assert NOTE not in json.dumps(report, ensure_ascii=False)


def test_a_decision_applies_from_the_date_it_was_loaded_for(wh: Warehouse, tmp_path: Path) -> None:
    inbox = _two_cases(wh, tmp_path)
    (inbox / "dispositions_d.csv").write_text(HEADER + f"R08:{A},CONFIRMED,,\nR08:{B},EXPLAINED,,\n",
                                              encoding="utf-8")
    later = D + timedelta(1)
    assert _extract(wh, later) == {f"R08:{A}": ("OPEN", "CONFIRMED")}
    assert _extract(wh, D) == {f"R08:{A}": ("NEW", None), f"R08:{B}": ("NEW", None)}  # D re-run
    assert _extract(wh, later) == {f"R08:{A}": ("OPEN", "CONFIRMED")}


def test_a_decision_read_by_a_rerun_applies_after_the_newest_report_against_its_evidence(
        wh: Warehouse, tmp_path: Path) -> None:
    """A decision that arrives after D+1 was published, read by a re-run of D, changes neither
    D nor D+1 (both were published without it); it applies from D+2, fingerprinted against the
    evidence inspectors last saw (D+1's)."""
    inbox = _with_inbox(wh, tmp_path)
    wh.household("H1", A, address="a1")
    wh.household("H2", A, address="a2")
    key, later = f"R08:{A}", D + timedelta(1)
    _extract(wh, D)
    wh.household("H3", A, address="a3", approved=later, joined=later)  # the evidence changes on D+1
    assert _extract(wh, later) == {key: ("OPEN", None)}
    (inbox / "dispositions_e.csv").write_text(HEADER + f"{key},EXPLAINED,,\n", encoding="utf-8")
    assert _extract(wh, D) == {key: ("NEW", None)}  # read now, but D was published before it came
    assert _extract(wh, later) == {key: ("OPEN", None)}
    assert _extract(wh, later + timedelta(1)) == {}  # D+1's evidence, unchanged: suppressed


def test_a_parser_failure_or_a_vanished_file_rejects_only_that_file(
        wh: Warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inbox = _two_cases(wh, tmp_path)
    (inbox / "dispositions_x.csv").write_text(HEADER + f"R08:{A},CONFIRMED,,\n", encoding="utf-8")

    def broken(data: bytes, kind: object = None) -> None:
        raise ValueError(f"cannot handle R08:{A} {NOTE}")  # a message quoting the data

    monkeypatch.setattr(dispositions, "parse", broken)
    real, gone = dispositions.inbox_files, inbox / "dispositions_gone.csv"
    monkeypatch.setattr(dispositions, "inbox_files", lambda cfg, kind=dispositions.CASE_DECISIONS: (
        [gone] if kind == dispositions.CASE_DECISIONS else []) + real(cfg, kind))
    day = D + timedelta(1)
    assert _extract(wh, day)[f"R08:{A}"] == ("OPEN", None)  # evaluated and published all the same
    assert _report(wh, day)["files_rejected"] == [
        {"file": "dispositions_gone.csv", "reason": "cannot be read (FileNotFoundError)"},
        {"file": "dispositions_x.csv", "reason": "unreadable (ValueError)"}]
    assert NOTE not in json.dumps(_audit(wh, "disposition_file_rejected"), ensure_ascii=False)
    with get_engine(wh.cfg.warehouse_url).connect() as conn:  # the vanished file is tried again next run
        assert [n for (n,) in conn.execute(text("SELECT file_name FROM meta_file"))] == ["dispositions_x.csv"]
