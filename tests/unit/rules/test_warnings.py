"""Each hardship warning's boundaries, pinned on a hand-built warehouse (rules.md, H01–H04)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import text

from safetynet.warehouse.engine import get_engine
from tests.unit.rules.conftest import SNAPSHOT, D, Warehouse, pid

DAY = timedelta(days=1)


def _settle(wh: Warehouse, number: str, person: str, on: date, self_paid: float) -> None:
    wh.add("core_medical_settlement", source="medical", month=on.strftime("%Y-%m"), settlement_no=number,
           person_id_norm=person, name="某人", visit_kind="住院", settled_on=on,
           total_cost=self_paid * 3, fund_paid=self_paid * 2, self_paid=self_paid,
           file_name=f"YB_{on:%Y%m}.csv")


def test_h01_thresholds_for_beneficiaries_and_others_inclusive(wh: Warehouse) -> None:
    member, member_short = pid("19600101", 1), pid("19600101", 2)
    other, other_short, between = pid("19700101", 3), pid("19700101", 4), pid("19700101", 5)
    wh.household("H1", member, member_short)
    _settle(wh, "S1", member, date(2026, 3, 5), 6000.10)
    _settle(wh, "S2", member, date(2026, 10, 9), 3999.90)  # exactly 10000.00 in all
    _settle(wh, "S3", member_short, date(2026, 3, 5), 9999.99)
    _settle(wh, "S4", other, date(2026, 1, 5), 26000.00)
    _settle(wh, "S5", other_short, date(2026, 1, 5), 25999.99)
    _settle(wh, "S6", between, date(2026, 1, 5), 15000.00)  # a beneficiary's line, not another's
    assert wh.warnings("H01") == {f"H01:{member}", f"H01:{other}"}


def test_h01_window_starts_on_the_first_day_eleven_months_before(wh: Warehouse) -> None:
    early, first_day = pid("19600101", 1), pid("19600101", 2)
    wh.household("H1", early, first_day)
    _settle(wh, "S1", early, date(2025, 11, 30), 10000.00)
    _settle(wh, "S2", first_day, date(2025, 12, 1), 10000.00)
    assert wh.warnings("H01") == {f"H01:{first_day}"}


def test_h01_an_allowance_holder_is_a_beneficiary(wh: Warehouse) -> None:
    holder = pid("19400101", 1)
    wh.add("core_allowance", allowance_id="AL1", id_norm=holder, kind="ELDERLY",
           region_code="361103100201", start_on=date(2020, 1, 1))
    _settle(wh, "S1", holder, date(2026, 6, 1), 12000.00)
    assert wh.warnings("H01") == {f"H01:{holder}"}


def _care(wh: Warehouse, allowance: str, person: str, end: date | None = None) -> None:
    wh.add("core_allowance", allowance_id=allowance, id_norm=person, kind="DISABILITY_CARE",
           region_code="361103100201", start_on=date(2022, 1, 1), end_on=end)


def _vehicle(wh: Warehouse, plate: str, owner: str, kind: str) -> None:
    wh.add("core_vehicle", plate_no=plate, plate_kind=kind, vehicle_type="小型轿车", owner_name="某人",
           id_kind="居民身份证", owner_id_norm=owner, first_registered_on=date(2015, 1, 1),
           status="正常", snapshot_date=SNAPSHOT)


def test_h02_uncovered_severe_disability_and_what_rules_it_out(wh: Warehouse) -> None:
    alone, member, car, moto = (pid("19800101", k) for k in (1, 2, 3, 4))
    payroll_on_d, payroll_before, ended = (pid("19800101", k) for k in (5, 6, 7))
    for k, person in enumerate((alone, member, car, moto, payroll_on_d, payroll_before)):
        _care(wh, f"AL{k}", person)
    _care(wh, "AL9", ended, end=D)
    wh.household("H1", member)
    _vehicle(wh, "赣E00001", car, "小型汽车")
    _vehicle(wh, "赣E00002", moto, "普通摩托车")
    wh.add("core_staff", id_norm=payroll_on_d, employer="某局", post="科员", payroll_from=date(2000, 1, 1),
           payroll_to=D)
    wh.add("core_staff", id_norm=payroll_before, employer="某局", post="科员",
           payroll_from=date(2000, 1, 1), payroll_to=D - DAY)
    assert wh.warnings("H02") == {f"H02:{alone}", f"H02:{moto}", f"H02:{payroll_before}"}


def test_h02_one_home_is_allowed_two_are_not(wh: Warehouse) -> None:
    one, two = pid("19800101", 1), pid("19800101", 2)
    _care(wh, "AL1", one)
    _care(wh, "AL2", two)
    for unit, owner in (("U1", one), ("U2", two), ("U3", two)):
        wh.add("core_property_right", unit_no=unit, owner_name="某人", id_kind="身份证",
               owner_id_norm=owner, use="住宅", location=unit, registered_on=date(2010, 1, 1))
    assert wh.warnings("H02") == {f"H02:{one}"}


def _power(wh: Warehouse, account: str, holder: str, month: str, kwh: float) -> None:
    wh.add("core_utility_reading", source="electricity", month=month, account_no=account,
           holder_id_norm=holder, address=account, address_norm=account, usage=kwh,
           file_name=f"DL_{month.replace('-', '')}.csv")


@pytest.mark.parametrize("window", [3, 1])  # with one month, the month before is outside the window
def test_h03_silent_home_of_a_lone_elder(wh: Warehouse, window: int) -> None:
    wh.cfg.rules["utility_window_months"] = window
    turned_75, aged_74 = pid("19511120", 1), pid("19511121", 2)
    pair, vacant, unread = pid("19400101", 3), pid("19400101", 4), pid("19400101", 5)
    wh.household("H1", turned_75, address="a1")
    wh.household("H2", aged_74, address="a2")
    wh.household("H3", pair, pid("19450101", 6), address="a3")
    wh.household("H4", vacant, address="a4")
    wh.household("H5", unread, address="a5")
    for account, holder in (("E1", turned_75), ("E2", aged_74), ("E3", pair)):
        _power(wh, account, holder, "2026-09", 35.0)
        _power(wh, account, holder, "2026-10", 0.0)
    _power(wh, "E4", vacant, "2026-09", 0.0)
    _power(wh, "E4", vacant, "2026-10", 0.0)
    _power(wh, "E5", unread, "2026-10", 0.0)
    assert wh.warnings("H03") == {"H03:H1"}


def _died(wh: Warehouse, record: str, person: str, on: date) -> None:
    wh.add("core_cremation", record_id=record, id_norm=person, death_date=on,
           death_month=on.strftime("%Y-%m"))


def test_h04_breadwinner_died_within_the_window(wh: Warehouse) -> None:
    child = pid("20160101", 9)
    earner_edge, earner_out, sixty = pid("19860101", 1), pid("19860101", 2), pid("19660101", 3)
    adults_only = pid("19860101", 4)
    wh.household("H1", earner_edge, child, address="a1")
    wh.household("H2", earner_out, pid("20150101", 8), address="a2")
    wh.household("H3", sixty, pid("20140101", 7), address="a3")
    wh.household("H4", adults_only, pid("19900101", 6), address="a4")
    _died(wh, "C1", earner_edge, D - 90 * DAY)
    _died(wh, "C2", earner_out, D - 91 * DAY)
    _died(wh, "C3", sixty, D - 30 * DAY)  # aged 60 at death: not 18–59
    _died(wh, "C4", adults_only, D - 30 * DAY)
    assert wh.warnings("H04") == {"H04:H1"}


def test_warnings_never_reach_the_case_table(wh: Warehouse) -> None:
    person = pid("19800101", 1)
    _care(wh, "AL1", person)
    assert wh.warnings("H02") == {f"H02:{person}"}
    with get_engine(wh.cfg.warehouse_url).connect() as conn:
        leaked = conn.execute(text("SELECT COUNT(*) FROM mart_case_day WHERE case_key LIKE 'H%'")).scalar()
    assert leaked == 0
