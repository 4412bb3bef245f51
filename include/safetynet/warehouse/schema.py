"""Warehouse tables, layered like dbt: ``core_*`` conformed data, ``mart_*`` rule
output and ``meta_*`` bookkeeping (file registry, load log, quarantine, validation).

Every person reference is stored three ways: the value as delivered and trimmed
(``*_raw``, needed for R09 case keys), the normalised number (``*_norm``) and
its birth date plus structural problem (``*_birth``, ``*_problem``): a number is
valid on D when ``*_problem IS NULL AND *_birth <= D`` (rules.md). Normalised
addresses are computed at load time so joins never normalise.
"""

from __future__ import annotations

from sqlalchemy import (
    DDL,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    event,
)

metadata = MetaData()


def _row_key() -> Column:
    """The delivered row's key as one text column: what an incremental load upserts by."""
    return Column("row_key", Text, index=True)


def _id(prefix: str) -> list[Column]:
    return [
        Column(f"{prefix}_raw", Text),
        Column(f"{prefix}_norm", String(32)),
        Column(f"{prefix}_birth", Date),
        Column(f"{prefix}_problem", String(16)),
    ]


core_household = Table(
    "core_household", metadata,
    _row_key(),
    Column("household_id", String(64), primary_key=True),
    Column("program", String(16)), Column("area_type", String(16)),
    Column("region_code", String(12)), Column("address", Text), Column("address_norm", Text),
    Column("status", String(16)), Column("approved_on", Date), Column("terminated_on", Date),
    Column("monthly_amount", Float), Column("updated_at", Text),
)
core_member = Table(
    "core_member", metadata,
    _row_key(),
    Column("household_id", String(64), nullable=False), *_id("id"), Column("name", Text),
    Column("relation", String(16)), Column("joined_on", Date), Column("left_on", Date),
    Column("updated_at", Text),
    Index("ix_core_member_id", "id_norm"), Index("ix_core_member_hh", "household_id"),
)
core_payment = Table(
    "core_payment", metadata,
    _row_key(),
    Column("payment_id", String(64), primary_key=True), Column("household_id", String(64)),
    Column("period", String(7)), Column("amount", Float), Column("paid_on", Date),
    Index("ix_core_payment_hh", "household_id"),
)
core_allowance = Table(
    "core_allowance", metadata,
    _row_key(),
    Column("allowance_id", String(64), primary_key=True), *_id("id"), Column("name", Text),
    Column("kind", String(32)), Column("region_code", String(12)),
    Column("start_on", Date), Column("end_on", Date), Column("monthly_amount", Float),
    Column("updated_at", Text),
    Index("ix_core_allowance_id", "id_norm"),
)
core_cremation = Table(
    "core_cremation", metadata,
    _row_key(),
    Column("record_id", String(64), primary_key=True), *_id("id"), Column("name", Text),
    Column("death_date", Date), Column("death_month", String(7)), Column("cremation_date", Date),
    Column("funeral_home", Text), Column("updated_at", Text),
    Index("ix_core_cremation_id", "id_norm"),
)
core_relative_filing = Table(
    "core_relative_filing", metadata,
    _row_key(),
    Column("filing_id", String(64), primary_key=True), *_id("id"), *_id("staff_id"),
    Column("relation", String(16)), Column("filed_on", Date),
    Index("ix_core_filing_id", "id_norm"),
)
core_staff = Table(
    "core_staff", metadata,
    _row_key(),
    *_id("id"), Column("name", Text), Column("employer", Text), Column("employer_kind", String(16)),
    Column("post", Text), Column("payroll_from", Date), Column("payroll_to", Date),
    Column("updated_at", Text),
    Index("ix_core_staff_id", "id_norm"),
)
core_cadre = Table(
    "core_cadre", metadata,
    _row_key(),
    *_id("id"), Column("name", Text), Column("region_code", String(12)), Column("post", Text),
    Column("term_from", Date), Column("term_to", Date), Column("updated_at", Text),
    Index("ix_core_cadre_id", "id_norm"),
)
core_declared_relative = Table(
    "core_declared_relative", metadata,
    *_id("staff_id"), *_id("relative_id"), Column("relative_name", Text),
    Column("relation", String(16)), Column("declared_on", Date),
    Index("ix_core_declared_rel", "relative_id_norm"),
)
core_property_right = Table(
    "core_property_right", metadata,
    Column("unit_no", String(64), nullable=False), Column("owner_name", Text),
    Column("id_kind", String(16)), *_id("owner_id"), Column("share_mode", String(16)),
    Column("location", Text), Column("use", String(16)), Column("area", Float),
    Column("registered_on", Date), Column("cancelled_on", Date),
    Column("snapshot_date", Date),  # every accepted snapshot is a version; rules read the one in force
    Index("ix_core_property_snap_owner", "snapshot_date", "owner_id_norm"),
)
core_vehicle = Table(  # the traffic-police registry (sources.md §6): every snapshot a version
    "core_vehicle", metadata,
    Column("plate_no", String(32), nullable=False), Column("plate_kind", String(16)),
    Column("vehicle_type", Text), Column("owner_name", Text), Column("id_kind", String(16)),
    *_id("owner_id"), Column("first_registered_on", Date), Column("status", String(16)),
    Column("snapshot_date", Date),
    Index("ix_core_vehicle_snap_owner", "snapshot_date", "owner_id_norm"),
)
core_market_entity = Table(  # the market-regulation registry (sources.md §7)
    "core_market_entity", metadata,
    _row_key(),
    Column("credit_code", String(32), primary_key=True), Column("entity_name", Text),
    Column("entity_kind", String(16)), Column("status", String(16)),
    Column("established_on", Date), Column("closed_on", Date), Column("registered_capital", Float),
    Column("updated_at", Text),
)
core_market_role = Table(
    "core_market_role", metadata,
    _row_key(),
    Column("role_id", String(64), primary_key=True), Column("credit_code", String(32)),
    *_id("id"), Column("name", Text), Column("role", String(16)), Column("share_pct", Float),
    Column("from_on", Date), Column("to_on", Date), Column("updated_at", Text),
    Index("ix_core_market_role_id", "id_norm"), Index("ix_core_market_role_entity", "credit_code"),
)
core_utility_reading = Table(
    "core_utility_reading", metadata,
    Column("source", String(16), nullable=False), Column("month", String(7), nullable=False),
    Column("account_no", String(64), nullable=False), Column("holder_name", Text),
    *_id("holder_id"), Column("address", Text), Column("address_norm", Text),
    Column("usage", Float), Column("file_name", Text),
    # Only (source, month): the rules hash-join the readings on holder ID and address
    # (EXPLAIN at 100,000 households never used an index there), and every index is
    # paid for on each COPY. Indexes dropped for that reason are in RETIRED_INDEXES.
    Index("ix_core_utility_src_month", "source", "month"),
)
core_medical_settlement = Table(  # the medical-insurance bureau (sources.md §8): health data
    "core_medical_settlement", metadata,
    Column("source", String(16), nullable=False), Column("month", String(7), nullable=False),
    Column("settlement_no", String(64), nullable=False), *_id("person_id"), Column("name", Text),
    Column("visit_kind", String(16)), Column("settled_on", Date), Column("total_cost", Float),
    Column("fund_paid", Float), Column("self_paid", Float), Column("file_name", Text),
    Index("ix_core_medical_month_person", "month", "person_id_norm"),
)
RETIRED_INDEXES = ("ix_core_utility_holder", "ix_core_utility_addr",  # migrate drops them
                   "ix_core_property_owner")
ref_region = Table(
    "ref_region", metadata,
    Column("code", String(12), primary_key=True), Column("name", Text),
    Column("level", String(16)), Column("parent_code", String(12)),
    Column("township_code", String(12)),
)

int_water_key = Table(  # see warehouse/water_keys.py: kept up to date in every water load's transaction
    "int_water_key", metadata,
    Column("kind", String(8), nullable=False),  # 'id' (holder ID number) or 'address'
    Column("key", Text, nullable=False), Column("birth", Date),
    Column("first_month", String(7), nullable=False),
    Index("ix_int_water_key_kind_key", "kind", "key"),
)

int_change_log = Table(  # what every write to a table the rules read touched (warehouse/changes.py)
    "int_change_log", metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("xid", BigInteger),  # PostgreSQL: the writing transaction, for snapshot visibility
    Column("kind", String(16), nullable=False),  # household | id | allowance | entity | address | all
    Column("key", Text, nullable=False),  # the anchor's value; for 'all' the table's name
    Index("ix_int_change_log_xid", "xid"),
    sqlite_autoincrement=True,
)

stg_batch_key = Table(  # keys of the batch being upserted; filled and emptied in one transaction
    "stg_batch_key", metadata, Column("row_key", Text, index=True),
)

meta_file = Table(
    "meta_file", metadata,
    Column("source", String(32), primary_key=True), Column("file_name", Text, primary_key=True),
    Column("size", Integer), Column("sha256", String(64)), Column("seen_at", DateTime),
    Column("outcome", String(16)),
)
meta_load_log = Table(
    "meta_load_log", metadata,
    Column("source", String(32), primary_key=True), Column("item", Text, primary_key=True),
    Column("batch_id", String(64)), Column("rows_read", Integer), Column("rows_loaded", Integer),
    Column("rows_quarantined", Integer), Column("rows_duplicate", Integer),
    Column("loaded_at", DateTime),
    Column("future_rows", Integer),  # rows dated after the extraction cut-off (a source clock ahead)
    Column("future_max", Text),  # the latest such timestamp, as delivered
    Column("rows_removed", Integer),  # keyed rows deleted at the source (groups re-read for sa_member)
    Column("fingerprint", Text),  # what was delivered: file SHA-256, or the batch's watermark/content
)
meta_quarantine = Table(
    "meta_quarantine", metadata,
    Column("source", String(32), nullable=False), Column("item", Text, nullable=False),
    Column("batch_id", String(64)), Column("row_number", Integer), Column("column_name", Text),
    Column("reason", Text),
    Column("raw", Text),
    Index("ix_meta_quarantine_item", "source", "item"),
)
meta_validation = Table(  # one row per expectation per validated item (issue 4); no personal data
    "meta_validation", metadata,
    Column("source", String(32), nullable=False), Column("item", Text, nullable=False),
    Column("batch_id", String(64), nullable=False), Column("expectation", String(96)),
    Column("column_name", Text), Column("level", String(8)), Column("success", Boolean),
    Column("outcome", String(16)),  # passed | quarantined | rejected | not_judged
    Column("observed", Text), Column("expected", Text), Column("unexpected_count", Integer),
    Column("validated_at", DateTime),
    Index("ix_meta_validation_batch", "source", "batch_id"),
)
meta_watermark = Table(
    "meta_watermark", metadata,
    Column("source", String(32), primary_key=True), Column("table_name", String(64), primary_key=True),
    Column("column_name", String(64)), Column("value", Text),  # JSON: keeps ints as ints
)
meta_refused = Table(  # deliveries refused and not (yet) replaced or accepted: the stale sources' why
    "meta_refused", metadata,
    Column("source", String(32), primary_key=True), Column("item", Text, primary_key=True),
    Column("sha256", String(64)), Column("size", Integer),  # a file's; NULL for a table
    Column("reason", Text),  # masked, no personal data
    Column("batch_id", String(64)), Column("refused_at", DateTime),
)
meta_acceptance = Table(  # operators' acceptances of refused deliveries (safetynet accept)
    "meta_acceptance", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(32), nullable=False), Column("item", Text, nullable=False),
    Column("sha256", String(64)),  # the accepted file; NULL for a table (its next read)
    Column("accepted_at", DateTime, nullable=False), Column("accepted_by", Text),
    Column("used_by_batch", String(64)),  # the batch that loaded it (tables: consumed once)
)
meta_report_chain = Table(  # each report date's predecessor, fixed when it was first evaluated
    "meta_report_chain", metadata,
    Column("report_date", Date, primary_key=True), Column("previous_date", Date),
    Column("recorded_at", DateTime),
)
meta_evaluation = Table(  # what each report date's evaluation saw, for the next one (rules/scope.py)
    "meta_evaluation", metadata,
    Column("report_date", Date, primary_key=True),
    Column("mark", Text),  # the change log as of the evaluation: a PostgreSQL snapshot or a sequence number
    Column("signatures", Text),  # JSON: rule code -> what its result depends on besides the data
    Column("evaluated_at", DateTime),
)
meta_source_state = Table(
    "meta_source_state", metadata,
    Column("source", String(32), primary_key=True), Column("newest_data", Text),
    Column("loaded_at", DateTime), Column("last_attempt_at", DateTime),
    Column("last_outcome", String(16)), Column("last_error", Text),
)
meta_audit = Table(  # append-only: the triggers below refuse UPDATE, DELETE and TRUNCATE
    "meta_audit", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True), Column("at", DateTime, nullable=False),
    Column("action", String(32), nullable=False), Column("report_date", Date),
    Column("run_id", Text), Column("detail", Text),
)
_SQLITE = [
    "CREATE TRIGGER IF NOT EXISTS meta_audit_no_update BEFORE UPDATE ON meta_audit "
    "BEGIN SELECT RAISE(ABORT, 'meta_audit is append-only'); END",
    "CREATE TRIGGER IF NOT EXISTS meta_audit_no_delete BEFORE DELETE ON meta_audit "
    "BEGIN SELECT RAISE(ABORT, 'meta_audit is append-only'); END",
]
_POSTGRES = [
    "CREATE OR REPLACE FUNCTION meta_audit_append_only() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'meta_audit is append-only'; END $$ LANGUAGE plpgsql",
    "CREATE TRIGGER meta_audit_no_change BEFORE UPDATE OR DELETE ON meta_audit "
    "FOR EACH ROW EXECUTE FUNCTION meta_audit_append_only()",
    "CREATE TRIGGER meta_audit_no_truncate BEFORE TRUNCATE ON meta_audit "
    "FOR EACH STATEMENT EXECUTE FUNCTION meta_audit_append_only()",
]
for _statement in _SQLITE:
    event.listen(meta_audit, "after_create", DDL(_statement).execute_if(dialect="sqlite"))
for _statement in _POSTGRES:
    event.listen(meta_audit, "after_create", DDL(_statement).execute_if(dialect="postgresql"))


meta_task_failure = Table(  # one row per failed Airflow task (or missed deadline: task_id NULL)
    "meta_task_failure", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("dag_id", String(250), nullable=False), Column("task_id", String(250)),
    Column("run_id", String(250)), Column("try_number", Integer),
    Column("error_class", String(128)), Column("message", Text),  # ID numbers masked
    Column("failed_at", DateTime, nullable=False),
    Index("ix_meta_task_failure_dag", "dag_id", "failed_at"),
)

mart_case = Table(
    "mart_case", metadata,
    Column("case_key", Text, primary_key=True), Column("rule_code", String(8)),
    Column("first_seen", Date), Column("last_seen", Date), Column("resolved_on", Date),
)
def _case_day(name: str) -> Table:
    """A day's cases (or warnings) with their life: one row per report date and key."""
    return Table(
        name, metadata,
        Column("report_date", Date, primary_key=True), Column("case_key", Text, primary_key=True),
        Column("rule_code", String(8)), Column("status", String(16)), Column("first_seen", Date),
        Column("disposition", String(16)), Column("disposition_note", Text),
        Column("suppressed", Integer, default=0),
        Column("township_code", String(12)), Column("household_id", String(64)),
        Column("id_number", Text), Column("name", Text), Column("summary", Text),
        Column("evidence", Text),
        Column("rule_version", String(8)), Column("source_snapshot", Text),  # where a case came from
        Column("address", Text),  # the household's address as delivered; NULL without a household
    )


def _decisions(name: str) -> Table:
    """The decisions returned on cases (or warnings), one row per row of a decision file."""
    return Table(
        name, metadata,
        Column("file_name", Text, primary_key=True), Column("row_number", Integer, primary_key=True),
        Column("file_sha256", String(64)), Column("case_key", Text, index=True),
        Column("outcome", String(16)), Column("note", Text), Column("suppress_until", Date),
        Column("evidence_sha256", String(64)), Column("known", Boolean), Column("loaded_for", Date),
    )


mart_case_day = _case_day("mart_case_day")
"""The inspectors' cases (rules R01–R12)."""
mart_warning_day = _case_day("mart_warning_day")
"""The bureau's hardship warnings (H01–H04): kept apart so no inspectors' report can read them."""
core_disposition = _decisions("core_disposition")
core_warning_disposition = _decisions("core_warning_disposition")
