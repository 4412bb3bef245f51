"""Case life: NEW on the first day, OPEN later, RESOLVED once, then gone (rules.md)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from safetynet.pipeline import evaluate_day
from safetynet.warehouse.engine import get_engine
from tests.unit.rules.conftest import D, Warehouse, pid

A, B = pid("19600101", 1), pid("19700101", 2)


def _statuses(wh: Warehouse, day: object) -> dict[str, tuple[str, str]]:
    with get_engine(wh.cfg.warehouse_url).connect() as conn:
        rows = conn.execute(text(
            "SELECT case_key, status, first_seen FROM mart_case_day WHERE report_date = :d"),
            {"d": day.isoformat()}).all()  # type: ignore[attr-defined]
    return {k: (s, str(f)[:10]) for k, s, f in rows}


def test_new_open_resolved_then_absent_and_rerun_is_stable(wh: Warehouse) -> None:
    wh.household("H1", A, address="a1")
    wh.household("H2", A, address="a2")
    day1, day2, day3, day4 = D, D + timedelta(1), D + timedelta(2), D + timedelta(3)
    key = f"R08:{A}"
    evaluate_day(wh.cfg, day1)
    assert _statuses(wh, day1) == {key: ("NEW", day1.isoformat())}
    evaluate_day(wh.cfg, day2)
    evaluate_day(wh.cfg, day2)  # running a day twice gives the same result
    assert _statuses(wh, day2) == {key: ("OPEN", day1.isoformat())}
    with get_engine(wh.cfg.warehouse_url).begin() as conn:  # the source is corrected
        conn.execute(text("UPDATE core_household SET status = 'TERMINATED' WHERE household_id = 'H2'"))
    evaluate_day(wh.cfg, day3)
    assert _statuses(wh, day3) == {key: ("RESOLVED", day1.isoformat())}
    evaluate_day(wh.cfg, day4)
    assert _statuses(wh, day4) == {}


def test_unrelated_person_not_in_cases(wh: Warehouse) -> None:
    wh.household("H1", A, address="a1")
    wh.household("H2", B, address="a2")
    evaluate_day(wh.cfg, D)
    assert _statuses(wh, D) == {}


def test_a_backfill_of_an_earlier_day_changes_no_later_day(wh: Warehouse) -> None:
    """docs/over-time.md: a day's predecessor is fixed when it is first evaluated, so a day
    back-filled into the gap later neither turns a NEW case OPEN nor moves its first_seen."""
    from safetynet.rules.chain import applies_from, predecessor

    wh.household("H1", A, address="a1")
    wh.household("H2", A, address="a2", status="SUSPENDED")
    key, gap, later = f"R08:{A}", D + timedelta(1), D + timedelta(2)
    evaluate_day(wh.cfg, D)
    assert _statuses(wh, D) == {}
    with get_engine(wh.cfg.warehouse_url).begin() as conn:
        conn.execute(text("UPDATE core_household SET status = 'ACTIVE' WHERE household_id = 'H2'"))
    evaluate_day(wh.cfg, later)
    assert _statuses(wh, later) == {key: ("NEW", later.isoformat())}
    evaluate_day(wh.cfg, gap)  # a back-fill into the gap: its predecessor is D
    assert _statuses(wh, gap) == {key: ("NEW", gap.isoformat())}
    evaluate_day(wh.cfg, later)  # the re-run is still against D, not the back-filled gap
    assert _statuses(wh, later) == {key: ("NEW", later.isoformat())}
    evaluate_day(wh.cfg, D - timedelta(1))  # a back-fill before the first day has no predecessor
    with get_engine(wh.cfg.warehouse_url).connect() as conn:
        assert predecessor(conn, gap) == D and predecessor(conn, later) == D
        assert predecessor(conn, D) is None and predecessor(conn, D - timedelta(1)) is None
        assert applies_from(conn, later + timedelta(1)) == later + timedelta(1)  # the daily run
        assert applies_from(conn, gap) == later + timedelta(1)  # a decision read by a back-fill
