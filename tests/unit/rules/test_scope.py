"""Incremental evaluation (rules/scope.py): what changed is evaluated afresh, the rest carried,
and a full evaluation of the same day always gives the same items."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from sqlalchemy import text, update

from safetynet.rules.engine import evaluate_rules
from safetynet.warehouse.engine import get_engine
from safetynet.warehouse.regions import load_regions
from safetynet.warehouse.schema import core_household
from tests.unit.rules.conftest import D, Warehouse, pid

DAY = timedelta(days=1)
WARNING_SOURCES = {"medical": "drop/medical", "vehicles": "drop/vehicles", "business": "sqlite://"}


def _items(wh: Warehouse, on: date) -> dict[str, tuple]:
    with get_engine(wh.cfg.warehouse_url).connect() as conn:
        return {row[1]: tuple(str(v) for v in row)
                for table in ("mart_case_day", "mart_warning_day")
                for row in conn.execute(text(f"SELECT * FROM {table} WHERE report_date = :d"),
                                        {"d": on.isoformat()})}


def _evaluate(wh: Warehouse, on: date) -> tuple[dict, dict[str, tuple]]:
    """Evaluate ``on`` incrementally, then in full: the full evaluation must change nothing."""
    with get_engine(wh.cfg.warehouse_url).begin() as conn:
        load_regions(conn, wh.cfg.regions_file)
    result = evaluate_rules(wh.cfg, on)
    items = _items(wh, on)
    assert evaluate_rules(wh.cfg, on, full=True)["evaluated_for_changes"] == []
    assert _items(wh, on) == items
    return result, items


def _live(items: dict[str, tuple], prefix: str) -> dict[str, str]:
    return {k: row[3] for k, row in items.items() if k.startswith(prefix)}  # key -> status


def test_a_change_is_evaluated_afresh_and_the_rest_is_carried(wh: Warehouse) -> None:
    x, y = pid("19700101", 1), pid("19710101", 2)
    wh.household("H1", x, address="a1")
    wh.household("H2", x, address="a2")
    wh.household("H3", y, address="a3")
    wh.household("H4", y, address="a4")
    first, items = _evaluate(wh, D)
    assert first["evaluated_for_changes"] == []  # no predecessor: everything in full
    assert _live(items, "R08") == {f"R08:{x}": "NEW", f"R08:{y}": "NEW"}
    with get_engine(wh.cfg.warehouse_url).begin() as conn:  # H2 ends the day after
        conn.execute(update(core_household).where(core_household.c.household_id == "H2")
                     .values(terminated_on=D + DAY))
    second, items = _evaluate(wh, D + DAY)
    assert "R08" in second["evaluated_for_changes"]
    assert second["subjects_in_scope"]["household"] == 2  # H2, and H1 through x
    assert _live(items, "R08") == {f"R08:{x}": "RESOLVED", f"R08:{y}": "OPEN"}


def test_a_birthday_flips_an_age_without_any_change(wh: Warehouse) -> None:
    turning = pid((date(D.year - 80, D.month, D.day) + DAY).strftime("%Y%m%d"), 5)
    wh.add("core_allowance", allowance_id="AL1", id_norm=turning, kind="ELDERLY",
           region_code="361103100201", start_on=date(2020, 1, 1))
    _, items = _evaluate(wh, D)
    assert _live(items, "R10") == {f"R10:{turning}": "NEW"}  # 79 on D
    second, items = _evaluate(wh, D + DAY)
    assert "R10" in second["evaluated_for_changes"]
    assert _live(items, "R10") == {f"R10:{turning}": "RESOLVED"}  # 80 on D+1


def test_a_death_leaving_the_breadwinner_window_ends_the_warning(wh: Warehouse) -> None:
    earner, child = pid("19860101", 1), pid("20160101", 9)
    wh.household("H1", earner, child, address="a1")
    wh.add("core_cremation", record_id="C1", id_norm=earner, death_date=D - 90 * DAY,
           death_month=(D - 90 * DAY).strftime("%Y-%m"))
    wh.cfg = replace(wh.cfg, sources=WARNING_SOURCES)
    _, items = _evaluate(wh, D)
    assert _live(items, "H04") == {"H04:H1": "NEW"}
    second, items = _evaluate(wh, D + DAY)
    assert "H04" in second["evaluated_for_changes"]
    assert _live(items, "H04") == {"H04:H1": "RESOLVED"}


def test_a_rule_whose_threshold_changed_is_evaluated_in_full(wh: Warehouse) -> None:
    wh.household("H1", pid("19700101", 1), address="a1")
    _evaluate(wh, D)
    wh.cfg = replace(wh.cfg, rules={**wh.cfg.rules, "electricity_high_kwh": 400})
    second, _ = _evaluate(wh, D + DAY)
    assert "R06" in second["evaluated_in_full"]
    assert "R08" in second["evaluated_for_changes"]


def test_a_table_written_whole_re_evaluates_the_rules_that_read_it(wh: Warehouse) -> None:
    wh.household("H1", pid("19700101", 1), address="a1")
    _evaluate(wh, D)
    wh.add("core_property_right", unit_no="U1", owner_id_norm=pid("19500101", 3), use="住宅")
    second, _ = _evaluate(wh, D + DAY)
    assert {"R04", "R05"} <= set(second["evaluated_in_full"])
    assert "R08" in second["evaluated_for_changes"]


def test_a_narrowed_query_finds_the_person_who_joined_a_household(wh: Warehouse) -> None:
    """H01's query is narrowed to the persons in scope (``/* in scope: … */``): one who joined a
    household crosses the beneficiaries' lower line; an unchanged person's warning is carried."""
    joiner, other = pid("19700101", 5), pid("19700101", 3)
    wh.household("H1", pid("19600101", 1), address="a1")
    for number, person, paid in (("S1", joiner, 15000.0), ("S2", other, 26000.0)):
        wh.add("core_medical_settlement", source="medical", month="2026-03", settlement_no=number,
               person_id_norm=person, name="某人", visit_kind="住院", settled_on=date(2026, 3, 5),
               total_cost=paid * 3, fund_paid=paid * 2, self_paid=paid, file_name="YB_202603.csv")
    wh.cfg = replace(wh.cfg, sources=WARNING_SOURCES)
    _, items = _evaluate(wh, D)
    assert _live(items, "H01") == {f"H01:{other}": "NEW"}
    wh.add("core_member", household_id="H1", id_norm=joiner, name="新成员", relation="子女",
           joined_on=D, row_key="m-new")
    second, items = _evaluate(wh, D + DAY)
    assert "H01" in second["evaluated_for_changes"]
    assert _live(items, "H01") == {f"H01:{other}": "OPEN", f"H01:{joiner}": "NEW"}


def test_every_comparison_with_d_names_its_date_column_on_its_line() -> None:
    """The scope finds the columns D's passing can flip on the lines of SQL that hold a daily
    parameter (``scope.day_columns``): each such line names a date column, or selects the
    parameter as a value."""
    import re

    from sqlalchemy import Date

    from safetynet.rules.cases import EVERY_RULE
    from safetynet.rules.scope import DAY_PARAMS, reads
    from safetynet.warehouse.changes import watched

    dates = {c.name for t in watched() for c in t.columns if isinstance(c.type, Date)}
    day = re.compile(r"(?<![:\w]):(" + "|".join(DAY_PARAMS) + r")\b")
    selected = re.compile(r"(?<![:\w]):\w+ AS \w+")
    for rule in EVERY_RULE:
        for line in reads(rule)[2].splitlines():
            if day.search(line) and not selected.search(line):
                assert set(re.findall(r"\w+", line)) & dates, f"{rule.code}: {line.strip()}"
