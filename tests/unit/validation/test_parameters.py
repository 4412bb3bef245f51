"""Suite parameters from the warehouse: the previous delivery's volume and the freshness threshold."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import create_engine, insert

from safetynet.thresholds import Thresholds
from safetynet.validation.parameters import fresh_since, newest_file_item, volume_bounds
from safetynet.warehouse.schema import core_property_right, core_utility_reading, metadata

S = Thresholds(expectations_dir=Path("."), volume_floor=0.5, min_rows=20)


def test_a_new_month_is_compared_with_the_newest_earlier_delivery() -> None:
    earlier = {"DL_202609.csv": 1000, "DL_202610.csv": 901, "DL_202612.csv": 5}
    item = {"item": "DL_202611.csv", "mode": None}
    assert volume_bounds(S, item, False, earlier) == {"min_rows": 451, "max_rows": None}


def test_a_redelivery_is_compared_with_itself_and_growth_is_never_refused() -> None:
    earlier = {"DL_202609.csv": 1000, "DL_202610.csv": 100}
    assert volume_bounds(S, {"item": "DL_202609.csv"}, False, earlier) == {"min_rows": 500, "max_rows": None}


def test_even_a_small_previous_delivery_is_a_yardstick() -> None:
    """sources.md: any full delivery below the floor of the previous one is refused (an emptied
    ten-row table deletes leads as surely as an emptied big one)."""
    assert volume_bounds(S, {"item": "hr_relative", "mode": "full"}, True, {"hr_relative": 3}) == {
        "min_rows": 2, "max_rows": None}


@pytest.mark.parametrize(("item", "database", "earlier", "accepted"), [
    ({"item": "sa_member", "mode": "incremental"}, True, {"sa_member": 1000}, False),  # deltas vary freely
    ({"item": "hr_relative", "mode": "full"}, True, {"hr_staff": 1000}, False),  # other tables: no yardstick
    ({"item": "DL_202511.csv"}, False, {}, False),  # a first delivery
    ({"item": "DL_202611.csv"}, False, {"DL_202610.csv": 0}, False),  # after an accepted empty month
    ({"item": "DL_202611.csv"}, False, {"DL_202610.csv": 900}, True),  # an operator accepted it
])
def test_no_yardstick_leaves_the_bounds_open(item: dict, database: bool, earlier: dict,
                                             accepted: bool) -> None:
    assert volume_bounds(S, item, database, earlier, accepted) == {"min_rows": None, "max_rows": None}


def test_freshness_is_enforced_only_while_the_warehouse_is_stale() -> None:
    engine = create_engine("sqlite://")
    metadata.create_all(engine, tables=[core_property_right, core_utility_reading])
    d = date(2026, 11, 20)
    prop = {"item": "BDC_QLR_20261120.xlsx", "target": "core_property_right"}
    with engine.begin() as conn:
        assert fresh_since(conn, S, "property", prop, "snapshot_date", d, None) == "2026-11-06T00:00:00"
        conn.execute(insert(core_property_right).values(unit_no="u", snapshot_date=date(2026, 11, 13)))
        assert fresh_since(conn, S, "property", prop, "snapshot_date", d, None) is None
        util = {"item": "SS_202603.txt", "target": "core_utility_reading"}
        conn.execute(insert(core_utility_reading).values(source="electricity", month="2026-10",
                                                         account_no="a"))
        assert fresh_since(conn, S, "water", util, "month", d, "SS_202603.txt") == "2026-08-12T00:00:00"
        assert fresh_since(conn, S, "water", util, "month", d, "SS_202610.txt") is None  # not the newest
        conn.execute(insert(core_utility_reading).values(source="water", month="2026-09", account_no="a"))
        assert fresh_since(conn, S, "water", util, "month", d, "SS_202603.txt") is None  # a late correction


def test_the_newest_month_is_the_heartbeat_of_monthly_files_only() -> None:
    items = [{"item": "DL_202610.csv", "loaded": 5}, {"item": "DL_202611.csv", "loaded": 0},
             {"item": "DL_202609.csv", "loaded": 5}]
    assert newest_file_item("electricity", items) == "DL_202610.csv"
    assert newest_file_item("property", items) is None
