"""The bureau's decisions on hardship warnings: its own files, words and table, never the inspectors'."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import text

from safetynet.dispositions_kinds import WARNING_DECISIONS
from safetynet.dispositions_report import disposition_report, reason_zh
from safetynet.pipeline import evaluate_day
from safetynet.reports.warnings import warning_frame
from safetynet.warehouse.engine import get_engine
from tests.unit.rules.conftest import Warehouse, pid

A, B = pid("19800101", 1), pid("19800101", 2)
HEADER = "warning_key,outcome,note,suppress_until\n"


def _setup(wh: Warehouse, tmp_path: Path) -> Path:
    for allowance, person in (("AL1", A), ("AL2", B)):  # two uncovered severely disabled (H02)
        wh.add("core_allowance", allowance_id=allowance, id_norm=person, kind="DISABILITY_CARE",
               region_code="361103100201", start_on=date(2022, 1, 1))
    assert wh.warnings("H02") == {f"H02:{A}", f"H02:{B}"}  # configures the optional sources
    return wh.with_inbox(tmp_path)


def _published(wh: Warehouse, day: date) -> dict[str, tuple[str, str | None]]:
    evaluate_day(wh.cfg, day)
    with get_engine(wh.cfg.warehouse_url).connect() as conn:
        frame = warning_frame(conn, day)
    return {k: (s, d if isinstance(d, str) else None)
            for k, s, d in zip(frame["warning_key"], frame["status"], frame["disposition"], strict=True)}


def test_not_needed_suppresses_and_assisted_shows(wh: Warehouse, tmp_path: Path) -> None:
    inbox = _setup(wh, tmp_path)
    day = date(2026, 11, 21)
    (inbox / "warning_dispositions_20261120.csv").write_text(
        HEADER + f"H02:{A},无需救助,已纳入其他保障,{day + timedelta(1):%Y-%m-%d}\n"
        f"H02:{B},ASSISTED,已纳入低保,\n", encoding="utf-8")
    assert _published(wh, day) == {f"H02:{B}": ("OPEN", "ASSISTED")}
    assert _published(wh, day + timedelta(2)) == {f"H02:{A}": ("OPEN", "NOT_NEEDED"),
                                                  f"H02:{B}": ("OPEN", "ASSISTED")}


def test_neither_side_decides_on_the_others_items(wh: Warehouse, tmp_path: Path) -> None:
    inbox = _setup(wh, tmp_path)
    (inbox / "dispositions_x.csv").write_text(  # the inspectors' file naming a warning
        f"case_key,outcome,note,suppress_until\nH02:{A},EXPLAINED,,\n", encoding="utf-8")
    (inbox / "warning_dispositions_x.csv").write_text(  # the bureau's, with an inspectors' outcome
        HEADER + f"H02:{B},EXPLAINED,,\n", encoding="utf-8")
    assert _published(wh, date(2026, 11, 21)) == {f"H02:{A}": ("OPEN", None), f"H02:{B}": ("OPEN", None)}
    with get_engine(wh.cfg.warehouse_url).connect() as conn:
        cases = conn.execute(text("SELECT case_key, known FROM core_disposition")).all()
        rejected = conn.execute(text("SELECT source, reason FROM meta_quarantine")).all()
        bureau = conn.execute(text("SELECT COUNT(*) FROM core_warning_disposition")).scalar()
    assert [(k, bool(known)) for k, known in cases] == [(f"H02:{A}", False)]  # unknown to the cases
    assert bureau == 0
    assert rejected == [("warning_dispositions", "unknown outcome (expected ASSISTED/已救助, "
                                                 "NOT_NEEDED/无需救助, VISITING/走访中)")]


def test_the_bureau_is_told_of_its_own_rejected_rows_in_its_own_words(wh: Warehouse, tmp_path: Path) -> None:
    inbox = _setup(wh, tmp_path)
    (inbox / "dispositions_x.csv").write_text(f"case_key,outcome,note,suppress_until\nH02:{A},待定,,\n",
                                              encoding="utf-8")  # the inspectors' bad row: not the bureau's
    (inbox / "warning_dispositions_x.csv").write_text(
        HEADER + f"H02:{A},VISITING,,\nH02:{B},待定,,\nH09:X,ASSISTED,,\n", encoding="utf-8")
    day = date(2026, 11, 21)
    evaluate_day(wh.cfg, day)
    with get_engine(wh.cfg.warehouse_url).connect() as conn:
        bureau = disposition_report(conn, day, WARNING_DECISIONS)
        inspectors = disposition_report(conn, day)
    assert bureau["files_loaded"] == ["warning_dispositions_x.csv"]
    assert [r["row"] for r in bureau["rows_rejected"]] == [3, 4]
    assert bureau["rows_rejected"][1]["reason"] == "unknown case"
    assert [u["case_key"] for u in bureau["unknown_cases"]] == ["H09:X"]
    assert reason_zh(bureau["rows_rejected"][0]["reason"], WARNING_DECISIONS).startswith(
        "处置结论无法识别，应为 已救助、无需救助 或 走访中（unknown outcome")
    assert reason_zh("unknown case", WARNING_DECISIONS).startswith("预警编号不在此前任何一期清单中")
    assert reason_zh("unknown case").startswith("疑点编号不在")  # the inspectors keep their words
    assert inspectors["files_loaded"] == ["dispositions_x.csv"] and len(inspectors["rows_rejected"]) == 1


def test_figures_closed_out_within_a_week_and_h02_later_enrolled(wh: Warehouse, tmp_path: Path) -> None:
    from safetynet.reports.warning_figures import warning_figures

    inbox = _setup(wh, tmp_path)  # H02 for A and B, first seen 2026-11-20
    (inbox / "warning_dispositions_1.csv").write_text(HEADER + f"H02:{A},ASSISTED,,\n", encoding="utf-8")
    evaluate_day(wh.cfg, date(2026, 11, 24))  # A's decision applies from the 24th: within the week
    wh.household("H9", B, approved=date(2026, 11, 25), joined=date(2026, 11, 25))  # B taken in on the 25th
    day = date(2026, 11, 28)
    evaluate_day(wh.cfg, day)
    with get_engine(wh.cfg.warehouse_url).connect() as conn:
        figures = warning_figures(conn, day)
    assert figures["closed_within_7_days"] == {"due": 2, "closed": 1}
    assert figures["h02_enrolled"] == {"warned": 2, "enrolled": 1, "share": 0.5}
    assert figures["by_code"] == [{"rule_code": "H02", "open": 0, "closed": 1}]  # B resolved: not open
