"""Every partner's delivery, declared once (sources.md §1–§8): the one place a source is described.

A source is one :class:`~safetynet.sources.specs.Source`: its tables or file
layout (columns and how each is normalised, key, how a load replaces what it
supersedes, watermark), the file name and cadence, schedule, sensor time-out,
staleness, labels and which columns are personal (by kind: ``id``, ``name``,
``address``). The rest of the pipeline reads these declarations; adding a source
is this declaration, its warehouse table(s), its expectation suite(s) and its DAG
file (README, "Adding a source"). Standard library only: DAG files import it
when they are parsed.
"""

from __future__ import annotations

from safetynet.sources.specs import Source, TableSpec, columns

SNAPSHOT_DOC = ("reads the newest complete snapshot dated on or before the run's day from the drop "
                "(a file counts once its `.ok` marker is there); every snapshot is kept as a version")
MONTHLY_DOC = ("reads every complete month up to the run's month that is new or re-delivered "
               "(a file counts once its `.ok` marker is there); a re-sent month replaces the month")
INCREMENTAL_DOC = "reads what changed since the last watermark in the read-only replica"

CIVIL_AFFAIRS = Source(
    "civil_affairs", "社会救助系统", "Civil affairs", "database", (

        TableSpec("sa_household", "core_household", columns(
            household_id=("household_id", "key"), program=("program", "code"),
            area_type=("area_type", "code"), region_code=("region_code", "code"),
            address=("address", "address"), status=("status", "code"),
            approved_on=("approved_on", "date"), terminated_on=("terminated_on", "date"),
            monthly_amount=("monthly_amount", "number"), updated_at=("updated_at", "text"),
        ), key=("household_id",), order_by="household_id", watermark="updated_at"),
        TableSpec("sa_member", "core_member", columns(
            household_id=("household_id", "key"), id_number=("id", "id"), name=("name", "name"),
            relation=("relation", "code"), joined_on=("joined_on", "date"),
            left_on=("left_on", "date"), updated_at=("updated_at", "text"),
        ), key=("household_id", "id_raw", "name"), order_by="household_id, id_number",
            watermark="updated_at", replace_group="household_id", group_id_column="id_number"),
        TableSpec("sa_payment", "core_payment", columns(
            payment_id=("payment_id", "key"), household_id=("household_id", "key"),
            period=("period", "month"), amount=("amount", "number"), paid_on=("paid_on", "date"),
        ), key=("payment_id",), order_by="payment_id", watermark="payment_id"),
        TableSpec("sa_allowance", "core_allowance", columns(
            allowance_id=("allowance_id", "key"), id_number=("id", "id"), name=("name", "name"),
            kind=("kind", "code"), region_code=("region_code", "code"),
            start_on=("start_on", "date"), end_on=("end_on", "date"),
            monthly_amount=("monthly_amount", "number"), updated_at=("updated_at", "text"),
        ), key=("allowance_id",), order_by="allowance_id", watermark="updated_at"),
        TableSpec("sa_cremation", "core_cremation", columns(
            record_id=("record_id", "key"), id_number=("id", "id"), name=("name", "name"),
            death_date=("death_date", "date"), cremation_date=("cremation_date", "date"),
            funeral_home=("funeral_home", "text"), updated_at=("updated_at", "text"),
        ), key=("record_id",), order_by="record_id", watermark="updated_at",
            derived={"death_month": ("death_date", "month_of")}),
        TableSpec("sa_relative_filing", "core_relative_filing", columns(
            filing_id=("filing_id", "key"), id_number=("id", "id"),
            staff_id_number=("staff_id", "id"), relation=("relation", "code"),
            filed_on=("filed_on", "date"),
        ), key=("filing_id",), order_by="filing_id", watermark="filing_id"),
    ), schedule="0 1 * * *", stale_after_days=62, freshness=("core_household", "updated_at"),
    doc=INCREMENTAL_DOC + ": households, members, payments, allowances, cremation records, filings")

PERSONNEL = Source(
    "personnel", "组织人事系统", "Personnel", "database", (

        TableSpec("hr_staff", "core_staff", columns(
            id_number=("id", "id"), name=("name", "name"), employer=("employer", "text"),
            employer_kind=("employer_kind", "code"), post=("post", "text"),
            payroll_from=("payroll_from", "date"), payroll_to=("payroll_to", "date"),
            updated_at=("updated_at", "text"),
        ), key=("id_raw", "employer", "payroll_from"), order_by="id_number, employer, payroll_from"),
        TableSpec("hr_village_cadre", "core_cadre", columns(
            id_number=("id", "id"), name=("name", "name"), region_code=("region_code", "code"),
            post=("post", "text"), term_from=("term_from", "date"), term_to=("term_to", "date"),
            updated_at=("updated_at", "text"),
        ), key=("id_raw", "region_code", "term_from"), order_by="id_number, region_code, term_from"),
        TableSpec("hr_relative", "core_declared_relative", columns(
            staff_id_number=("staff_id", "id"), relative_id_number=("relative_id", "id"),
            relative_name=("relative_name", "name"), relation=("relation", "code"),
            declared_on=("declared_on", "date"),
        ), order_by="staff_id_number, relative_id_number"),
    ), schedule="0 2 1 * *", stale_after_days=92, freshness=("core_staff", "updated_at"),
    doc="reads the public-payroll register, village cadres and declared relatives in full "
        "(each table only when its content changed)")

PROPERTY = Source(
    "property", "不动产登记", "Property", "files", (TableSpec("BDC_QLR", "core_property_right", columns(
        不动产单元号=("unit_no", "key"), 权利人名称=("owner_name", "name"), 证件种类=("id_kind", "code"),
        证件号码=("owner_id", "id"), 共有方式=("share_mode", "code"), 坐落=("location", "address"),
        规划用途=("use", "code"), 建筑面积=("area", "number"), 登记时间=("registered_on", "date"),
        注销时间=("cancelled_on", "date"),
    ), extra={"sheet": "权利人信息"}),),
    schedule="0 3 * * 1", stale_after_days=14, freshness=("core_property_right", "snapshot_date"),
    cadence="snapshot", file_name="BDC_QLR_{tag}.xlsx", sensor_timeout_hours=48.0, doc=SNAPSHOT_DOC)

ELECTRICITY = Source(
    "electricity", "供电公司", "Electricity", "files", (TableSpec("DL", "core_utility_reading", columns(
        户号=("account_no", "key"), 户名=("holder_name", "name"), 证件号码=("holder_id", "id"),
        用电地址=("address", "address"), 抄表年月=("month", "month"), 本月电量=("usage", "number"),
    ), key=("month", "account_no"), extra={"encoding": "gb18030", "sep": ","}),),
    schedule="0 4 5 * *", stale_after_days=100, freshness=("core_utility_reading", "month"),
    cadence="monthly", file_name="DL_{tag}.csv", doc=MONTHLY_DOC)

WATER = Source(
    "water", "自来水公司", "Water", "files", (TableSpec("SS", "core_utility_reading", columns(
        ACCOUNT_NO=("account_no", "key"), HOLDER_NAME=("holder_name", "name"),
        HOLDER_ID=("holder_id", "id"), ADDRESS=("address", "address"), PERIOD=("month", "month"),
        USAGE_M3=("usage", "number"),
    ), key=("month", "account_no"), extra={"encoding": "utf-8", "sep": "|"}),),
    schedule="30 4 5 * *", stale_after_days=100, freshness=("core_utility_reading", "month"),
    cadence="monthly", file_name="SS_{tag}.txt", rebuild=("int_water_key",), doc=MONTHLY_DOC)

VEHICLES = Source(
    "vehicles", "机动车登记", "Vehicles", "files", (TableSpec("JDC", "core_vehicle", columns(
        号牌号码=("plate_no", "key"), 号牌种类=("plate_kind", "code"), 车辆类型=("vehicle_type", "code"),
        所有人=("owner_name", "name"), 身份证明名称=("id_kind", "code"), 身份证明号码=("owner_id", "id"),
        初次登记日期=("first_registered_on", "date"), 机动车状态=("status", "code"),
    ), key=("plate_no", "plate_kind"), extra={"encoding": "utf-8-sig", "sep": ","}),),
    schedule="0 3 * * 2", stale_after_days=14, freshness=("core_vehicle", "snapshot_date"),
    cadence="snapshot", file_name="JDC_{tag}.csv", sensor_timeout_hours=48.0, optional=True,
    doc=SNAPSHOT_DOC)

BUSINESS = Source(
    "business", "市场主体登记", "Market entities", "database", (
        TableSpec("mr_entity", "core_market_entity", columns(
            credit_code=("credit_code", "key"), entity_name=("entity_name", "name"),
            entity_kind=("entity_kind", "code"), status=("status", "code"),
            established_on=("established_on", "date"), closed_on=("closed_on", "date"),
            registered_capital=("registered_capital", "number"), updated_at=("updated_at", "text"),
        ), key=("credit_code",), order_by="credit_code", watermark="updated_at"),
        TableSpec("mr_role", "core_market_role", columns(
            role_id=("role_id", "key"), credit_code=("credit_code", "code"), id_number=("id", "id"),
            name=("name", "name"), role=("role", "code"), share_pct=("share_pct", "number"),
            from_on=("from_on", "date"), to_on=("to_on", "date"), updated_at=("updated_at", "text"),
        ), key=("role_id",), order_by="role_id", watermark="updated_at"),
    ), schedule="30 1 * * *", stale_after_days=62, freshness=("core_market_entity", "updated_at"),
    optional=True, doc=INCREMENTAL_DOC + ": market entities and the roles people hold in them")

MEDICAL = Source(
    "medical", "医保结算", "Medical insurance", "files", (TableSpec("YB", "core_medical_settlement", columns(
        结算流水号=("settlement_no", "key"), 证件号码=("person_id", "id"), 姓名=("name", "name"),
        就诊类型=("visit_kind", "code"), 结算日期=("settled_on", "date"), 医疗总费用=("total_cost", "number"),
        基金支付=("fund_paid", "number"), 个人自付=("self_paid", "number"),
    ), key=("settlement_no",), derived={"month": ("settled_on", "month_of")},
        extra={"encoding": "utf-8", "sep": ","}, personal=("total_cost", "fund_paid", "self_paid")),),
    schedule="0 5 6 * *", stale_after_days=100, freshness=("core_medical_settlement", "month"),
    cadence="monthly", file_name="YB_{tag}.csv", optional=True, warnings_only=True,
    doc=MONTHLY_DOC + "; health data: used only for hardship warnings, never in the inspectors' extract")

SOURCES: dict[str, Source] = {s.name: s for s in (
    CIVIL_AFFAIRS, PERSONNEL, PROPERTY, ELECTRICITY, WATER, VEHICLES, BUSINESS, MEDICAL)}
"""Every declared source, in the order runs ingest them and reports list them."""

FILE_SPECS: dict[str, TableSpec] = {n: s.layout for n, s in SOURCES.items() if s.kind == "files"}
DB_SPECS: dict[str, tuple[TableSpec, ...]] = {n: s.tables for n, s in SOURCES.items() if s.kind == "database"}


def of_cadence(cadence: str) -> tuple[str, ...]:
    """The file sources delivered ``monthly`` (a month per file) or as dated ``snapshot`` versions."""
    return tuple(n for n, s in SOURCES.items() if s.cadence == cadence)


def personal_columns() -> frozenset[str]:
    """Every warehouse column that holds personal data, from the declared column kinds."""
    out: set[str] = set()
    for source in SOURCES.values():
        for table in source.tables:
            out |= set(table.personal)
            for target, kind in table.columns.values():
                if kind == "id":
                    out |= {f"{target}_raw", f"{target}_norm", f"{target}_birth"}
                elif kind in ("name", "address"):
                    out |= {target, f"{target}_norm"} if kind == "address" else {target}
    return frozenset(out)
