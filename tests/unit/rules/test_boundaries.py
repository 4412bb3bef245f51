"""Each rule's boundaries, pinned on a hand-built warehouse (rules.md)."""

from __future__ import annotations

from datetime import date, timedelta

from tests.unit.rules.conftest import D, Warehouse, pid

A, B, C = pid("19600101", 1), pid("19700101", 2), pid("19800101", 3)
DAY = timedelta(days=1)


def test_r01_death_before_d_is_a_case_death_on_d_is_not(wh: Warehouse) -> None:
    wh.household("H1", A)
    wh.household("H2", B)
    wh.add("core_cremation", record_id="C1", id_norm=A, death_date=D - DAY, death_month="2026-11")
    wh.add("core_cremation", record_id="C2", id_norm=B, death_date=D, death_month="2026-11")
    assert wh.cases("R01") == {f"R01:{A}"}


def test_r01_allowance_holder_and_payments_after_death(wh: Warehouse) -> None:
    wh.add("core_allowance", allowance_id="AL1", id_norm=C, kind="ELDERLY",
           region_code="361103100201", start_on=date(2020, 1, 1))
    wh.add("core_cremation", record_id="C1", id_norm=C, death_date=date(2026, 8, 3),
           death_month="2026-08")
    assert wh.cases("R01") == {f"R01:{C}"}


def test_r08_two_active_households_but_not_a_suspended_one(wh: Warehouse) -> None:
    wh.household("H1", A, B, address="a1")
    wh.household("H2", A, address="a2", program="TEKUN")
    wh.household("H3", B, status="SUSPENDED", address="a3")
    assert wh.cases("R08") == {f"R08:{A}"}


def test_r08_member_who_left_on_d_is_not_active(wh: Warehouse) -> None:
    wh.household("H1", A, address="a1")
    wh.household("H2", A, address="a2", left=D)
    assert wh.cases("R08") == set()


def test_r02_payroll_ending_the_day_before_benefit_starts(wh: Warehouse) -> None:
    start = date(2024, 5, 1)
    wh.household("H1", A, B, approved=start, address="a1")
    wh.add("core_staff", id_norm=A, employer="某局", post="科员", payroll_from=date(2000, 1, 1),
           payroll_to=start - DAY)
    wh.add("core_staff", id_norm=B, employer="某局", post="科员", payroll_from=date(2000, 1, 1),
           payroll_to=start)
    assert wh.cases("R02") == {f"R02:{B}"}


def test_r03_filing_on_d_clears_filing_after_d_does_not(wh: Warehouse) -> None:
    wh.household("H1", A, B, address="a1")
    wh.add("core_cadre", id_norm=A, post="主任", term_from=date(2021, 1, 1))
    wh.add("core_cadre", id_norm=B, post="委员", term_from=date(2021, 1, 1))
    wh.add("core_relative_filing", filing_id="F1", id_norm=A, staff_id_norm=A, filed_on=D)
    wh.add("core_relative_filing", filing_id="F2", id_norm=B, staff_id_norm=B, filed_on=D + DAY)
    assert wh.cases("R03") == {f"R03:{B}"}


def test_r04_co_owned_unit_counts_once(wh: Warehouse) -> None:
    wh.household("H1", A, B, address="a1")
    for owner in (A, B):
        wh.add("core_property_right", unit_no="U1", id_kind="身份证", owner_id_norm=owner,
               use="住宅", registered_on=date(2010, 1, 1))
    assert wh.cases("R04") == set()
    wh.add("core_property_right", unit_no="U2", id_kind="身份证", owner_id_norm=B, use="住宅",
           registered_on=date(2010, 1, 1))
    assert wh.cases("R04") == {"R04:H1"}


def test_r04_right_cancelled_on_d_and_business_licence_do_not_count(wh: Warehouse) -> None:
    wh.household("H1", A, address="a1")
    wh.add("core_property_right", unit_no="U1", id_kind="身份证", owner_id_norm=A, use="住宅",
           registered_on=date(2010, 1, 1))
    wh.add("core_property_right", unit_no="U2", id_kind="身份证", owner_id_norm=A, use="住宅",
           registered_on=date(2010, 1, 1), cancelled_on=D)
    wh.add("core_property_right", unit_no="U3", id_kind="营业执照", owner_id_norm=A, use="住宅",
           registered_on=date(2010, 1, 1))
    assert wh.cases("R04") == set()


def test_r05_shop_is_a_case_parking_space_is_not(wh: Warehouse) -> None:
    wh.household("H1", A, B, address="a1")
    wh.add("core_property_right", unit_no="U1", id_kind="身份证", owner_id_norm=A, use="商业",
           registered_on=date(2010, 1, 1))
    wh.add("core_property_right", unit_no="U2", id_kind="身份证", owner_id_norm=B, use="车位",
           registered_on=date(2010, 1, 1))
    assert wh.cases("R05") == {f"R05:{A}"}


def test_r04_r05_read_only_the_registry_version_in_force_on_d(wh: Warehouse) -> None:
    """docs/over-time.md: every accepted snapshot is a version; D reads the newest dated on or
    before D, so a later snapshot (or a back-filled older one) never changes D's cases."""
    wh.household("H1", A, address="a1")
    for unit in ("U1", "U2"):  # two homes in the version of 13 November
        wh.add("core_property_right", unit_no=unit, id_kind="身份证", owner_id_norm=A, use="住宅",
               registered_on=date(2010, 1, 1))
    wh.add("core_property_right", unit_no="U1", id_kind="身份证", owner_id_norm=A, use="住宅",
           registered_on=date(2010, 1, 1), snapshot_date=D)  # D's version: U2 is gone
    wh.add("core_property_right", unit_no="U9", id_kind="身份证", owner_id_norm=A, use="商业",
           registered_on=date(2010, 1, 1), snapshot_date=date(2026, 11, 6))  # an older version
    assert wh.cases("R04", on=D - DAY) == {"R04:H1"}  # in force on the 19th: the 13th
    assert wh.cases("R04") == set()  # in force on the 20th: the 20th, one home
    assert wh.cases("R05") == set()  # the shop is only in an older version
    wh.add("core_property_right", unit_no="U3", id_kind="身份证", owner_id_norm=A, use="住宅",
           registered_on=date(2010, 1, 1), snapshot_date=D + DAY)  # a later version
    assert wh.cases("R04") == set()


def _reading(wh: Warehouse, source: str, account: str, month: str, usage: float,
             holder: str | None = None, address: str | None = None) -> None:
    row = {"source": source, "account_no": account, "month": month, "usage": usage,
           "address_norm": address}
    if holder:
        row["holder_id_norm"] = holder
    wh.add("core_utility_reading", **row)


def test_r06_mean_exactly_500_is_not_a_case_above_is(wh: Warehouse) -> None:
    wh.household("H1", A, address="a1")
    wh.household("H2", B, address="a2")
    for month, u in (("2026-08", 400.0), ("2026-09", 600.0), ("2026-10", 500.0)):
        _reading(wh, "electricity", "E1", month, u, holder=A)
        _reading(wh, "electricity", "E2", month, u + 0.1, address="a2")  # linked by address
    _reading(wh, "electricity", "E1", "2026-07", 9000.0, holder=A)  # outside the window
    assert wh.cases("R06") == {"R06:H2"}


def test_r07_all_zero_with_zero_water_but_not_with_missing_month(wh: Warehouse) -> None:
    wh.household("H1", A, address="a1")
    wh.household("H2", B, address="a2")
    for month in ("2026-08", "2026-09", "2026-10"):
        _reading(wh, "electricity", "E1", month, 0.0, holder=A)
        _reading(wh, "water", "W1", month, 0.0, address="a1")
        if month != "2026-09":
            _reading(wh, "electricity", "E2", month, 0.0, holder=B)
    _reading(wh, "electricity", "E3", "2026-09", 5.0)  # keeps 2026-09 a loaded month
    assert wh.cases("R07") == {"R07:H1"}


def test_r09_invalid_id_on_active_member_keyed_by_delivered_value(wh: Warehouse) -> None:
    bad = A[:17] + ("0" if A[17] != "0" else "1")
    wh.household("H1", B, address="a1")
    wh.add("core_member", household_id="H1", id_raw=f"{bad}", id_norm=bad, id_problem="check_char",
           joined_on=date(2020, 1, 1))
    wh.household("H9", status="TERMINATED", address="a9")
    wh.add("core_member", household_id="H9", id_raw="123", id_norm="123", id_problem="length",
           joined_on=date(2020, 1, 1))
    assert wh.cases("R09") == {f"R09:H1:{bad}"}


def test_r10_eightieth_birthday_on_d_is_not_a_case_day_after_is(wh: Warehouse) -> None:
    on_d = pid(date(D.year - 80, D.month, D.day).strftime("%Y%m%d"), 4)
    after = pid((date(D.year - 80, D.month, D.day) + DAY).strftime("%Y%m%d"), 5)
    for i, holder in enumerate((on_d, after)):
        wh.add("core_allowance", allowance_id=f"AL{i}", id_norm=holder, kind="ELDERLY",
               region_code="361103100201", start_on=date(2020, 1, 1))
    assert wh.cases("R10") == {f"R10:{after}"}


def test_r07_a_water_account_silent_in_the_window_still_counts_as_linked(wh: Warehouse) -> None:
    wh.household("H1", A, address="a1")
    for month in ("2026-08", "2026-09", "2026-10"):
        _reading(wh, "electricity", "E1", month, 0.0, holder=A)
    _reading(wh, "water", "W1", "2026-03", 4.0, address="a1")  # linked, but before the window
    for month in ("2026-08", "2026-09", "2026-10"):
        _reading(wh, "water", "W9", month, 1.0)  # keeps the water window loaded
    assert wh.cases("R07") == set()
