"""What each delivery looks like and where it lands: one declaration per table.

Column kinds drive normalisation (see ``conform``): ``key`` (required text),
``text``, ``code`` (text with whitespace removed), ``id`` (ID number), ``name``,
``date``, ``number``, ``month``, ``address``. The header of every file must equal
the declared columns exactly (sources.md); database tables must contain them.

Database tables with a ``watermark`` are read incrementally (``updated_at`` from
the last committed watermark, ids after the last loaded id for the append-only
tables) and upserted by ``key``, or, with ``replace_group``, replaced group by
group (``sa_member`` has no key of its own: a household's whole membership is
re-read when one of its rows changed). Tables without a watermark are read whole
each time and replace the warehouse's table: the personnel register (monthly)
has no key a corrected ID or employer could be upserted by (docs/over-time.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TableSpec:
    """One delivered table or file layout and its warehouse target."""

    name: str
    target: str
    columns: dict[str, tuple[str, str]]  # delivered column -> (warehouse column, kind)
    key: tuple[str, ...] = ()  # warehouse columns that identify a row
    order_by: str | None = None
    derived: dict[str, tuple[str, str]] = field(default_factory=dict)  # column -> (from, how)
    watermark: str | None = None  # delivered column read incrementally (None: full extract)
    replace_group: str | None = None  # delivered column whose groups are replaced whole
    group_id_column: str | None = None  # delivered ID column: a changed row's ID names its old group too
    extra: dict[str, str] = field(default_factory=dict)


def _c(**cols: tuple[str, str]) -> dict[str, tuple[str, str]]:
    return cols


CIVIL_AFFAIRS = (
    TableSpec("sa_household", "core_household", _c(
        household_id=("household_id", "key"), program=("program", "code"),
        area_type=("area_type", "code"), region_code=("region_code", "code"),
        address=("address", "address"), status=("status", "code"),
        approved_on=("approved_on", "date"), terminated_on=("terminated_on", "date"),
        monthly_amount=("monthly_amount", "number"), updated_at=("updated_at", "text"),
    ), key=("household_id",), order_by="household_id", watermark="updated_at"),
    TableSpec("sa_member", "core_member", _c(
        household_id=("household_id", "key"), id_number=("id", "id"), name=("name", "name"),
        relation=("relation", "code"), joined_on=("joined_on", "date"),
        left_on=("left_on", "date"), updated_at=("updated_at", "text"),
    ), key=("household_id", "id_raw", "name"), order_by="household_id, id_number",
        watermark="updated_at", replace_group="household_id", group_id_column="id_number"),
    TableSpec("sa_payment", "core_payment", _c(
        payment_id=("payment_id", "key"), household_id=("household_id", "key"),
        period=("period", "month"), amount=("amount", "number"), paid_on=("paid_on", "date"),
    ), key=("payment_id",), order_by="payment_id", watermark="payment_id"),
    TableSpec("sa_allowance", "core_allowance", _c(
        allowance_id=("allowance_id", "key"), id_number=("id", "id"), name=("name", "name"),
        kind=("kind", "code"), region_code=("region_code", "code"),
        start_on=("start_on", "date"), end_on=("end_on", "date"),
        monthly_amount=("monthly_amount", "number"), updated_at=("updated_at", "text"),
    ), key=("allowance_id",), order_by="allowance_id", watermark="updated_at"),
    TableSpec("sa_cremation", "core_cremation", _c(
        record_id=("record_id", "key"), id_number=("id", "id"), name=("name", "name"),
        death_date=("death_date", "date"), cremation_date=("cremation_date", "date"),
        funeral_home=("funeral_home", "text"), updated_at=("updated_at", "text"),
    ), key=("record_id",), order_by="record_id", watermark="updated_at",
        derived={"death_month": ("death_date", "month_of")}),
    TableSpec("sa_relative_filing", "core_relative_filing", _c(
        filing_id=("filing_id", "key"), id_number=("id", "id"),
        staff_id_number=("staff_id", "id"), relation=("relation", "code"),
        filed_on=("filed_on", "date"),
    ), key=("filing_id",), order_by="filing_id", watermark="filing_id"),
)

PERSONNEL = (
    TableSpec("hr_staff", "core_staff", _c(
        id_number=("id", "id"), name=("name", "name"), employer=("employer", "text"),
        employer_kind=("employer_kind", "code"), post=("post", "text"),
        payroll_from=("payroll_from", "date"), payroll_to=("payroll_to", "date"),
        updated_at=("updated_at", "text"),
    ), key=("id_raw", "employer", "payroll_from"), order_by="id_number, employer, payroll_from"),
    TableSpec("hr_village_cadre", "core_cadre", _c(
        id_number=("id", "id"), name=("name", "name"), region_code=("region_code", "code"),
        post=("post", "text"), term_from=("term_from", "date"), term_to=("term_to", "date"),
        updated_at=("updated_at", "text"),
    ), key=("id_raw", "region_code", "term_from"), order_by="id_number, region_code, term_from"),
    TableSpec("hr_relative", "core_declared_relative", _c(
        staff_id_number=("staff_id", "id"), relative_id_number=("relative_id", "id"),
        relative_name=("relative_name", "name"), relation=("relation", "code"),
        declared_on=("declared_on", "date"),
    ), order_by="staff_id_number, relative_id_number"),
)

PROPERTY = TableSpec("BDC_QLR", "core_property_right", _c(
    不动产单元号=("unit_no", "key"), 权利人名称=("owner_name", "name"), 证件种类=("id_kind", "code"),
    证件号码=("owner_id", "id"), 共有方式=("share_mode", "code"), 坐落=("location", "address"),
    规划用途=("use", "code"), 建筑面积=("area", "number"), 登记时间=("registered_on", "date"),
    注销时间=("cancelled_on", "date"),
), extra={"sheet": "权利人信息", "pattern": r"^BDC_QLR_(\d{8})\.xlsx$"})

ELECTRICITY = TableSpec("DL", "core_utility_reading", _c(
    户号=("account_no", "key"), 户名=("holder_name", "name"), 证件号码=("holder_id", "id"),
    用电地址=("address", "address"), 抄表年月=("month", "month"), 本月电量=("usage", "number"),
), key=("month", "account_no"),
    extra={"pattern": r"^DL_(\d{6})\.csv$", "encoding": "gb18030", "sep": ","})

WATER = TableSpec("SS", "core_utility_reading", _c(
    ACCOUNT_NO=("account_no", "key"), HOLDER_NAME=("holder_name", "name"),
    HOLDER_ID=("holder_id", "id"), ADDRESS=("address", "address"), PERIOD=("month", "month"),
    USAGE_M3=("usage", "number"),
), key=("month", "account_no"),
    extra={"pattern": r"^SS_(\d{6})\.txt$", "encoding": "utf-8", "sep": "|"})

FILE_SPECS = {"property": PROPERTY, "electricity": ELECTRICITY, "water": WATER}
DB_SPECS = {"civil_affairs": CIVIL_AFFAIRS, "personnel": PERSONNEL}
