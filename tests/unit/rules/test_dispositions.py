"""Inspectors' dispositions: loaded once, EXPLAINED suppresses until a date or an evidence change."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import text

from safetynet.reports.extract import case_frame
from safetynet.rules.engine import evaluate_rules
from safetynet.warehouse.engine import get_engine
from tests.unit.rules.conftest import D, Warehouse, pid

A, B = pid("19600101", 1), pid("19700101", 2)
HEADER = "case_key,outcome,note,suppress_until\n"


def _with_inbox(wh: Warehouse, tmp_path: Path) -> Path:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    wh.cfg = dataclasses.replace(wh.cfg, inbox=str(inbox))
    return inbox


def _extract(wh: Warehouse, day: date) -> dict[str, tuple[str, str | None]]:
    evaluate_rules(wh.cfg, day)
    with get_engine(wh.cfg.warehouse_url).connect() as conn:
        cases = case_frame(conn, day)
    return {k: (s, d) for k, s, d in zip(cases["case_key"], cases["status"], cases["disposition"],
                                         strict=True)}


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
    evaluate_rules(wh.cfg, day)  # the same file seen again is not loaded twice
    with get_engine(wh.cfg.warehouse_url).connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM core_disposition")).scalar() == 2
