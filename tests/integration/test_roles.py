"""Warehouse roles on a real PostgreSQL: each role can do its part and is refused the rest.

Why: a grant that is too wide is invisible until someone reads what they should
not. Each check runs a statement as the role (``SET ROLE``, exactly its
privileges) and asserts it either works or fails with PostgreSQL's
``insufficient_privilege`` (42501) — not, say, the append-only trigger, so a
missing REVOKE on ``meta_audit`` would fail the test even though the trigger
still protects the table.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import yaml
from sqlalchemy import Engine, create_engine, insert, text

from safetynet.cli import main
from safetynet.privacy import mask_id
from safetynet.rules.catalog import keyed_by_person
from safetynet.rules.coverage import build_coverage, drop_coverage, private_schema
from safetynet.warehouse import audit
from safetynet.warehouse.roles import AUDITOR, LOADER, REPORTER, ROLES, apply_roles, reporter_views
from safetynet.warehouse.schema import (
    core_medical_settlement,
    core_member,
    mart_case_day,
    mart_warning_day,
    meta_task_failure,
)

pytestmark = pytest.mark.integration

FULL_ID = "361103196001010017"
NAME = "张三丰"
DENIED = "42501"
BILL = "12345.67"  # a medical figure: no view shows one


@pytest.fixture
def warehouse(pg_database: str) -> Iterator[Engine]:
    """A warehouse with the roles applied and one member, one case and one audit row in it."""
    engine = create_engine(pg_database)
    apply_roles(engine, keyed_by_person())
    with engine.begin() as conn:
        conn.execute(insert(core_member).values(household_id="DB1", id_raw=FULL_ID, id_norm=FULL_ID,
                                                id_birth=date(1960, 1, 1), name=NAME, relation="户主"))
        conn.execute(insert(mart_case_day).values(
            report_date=date(2026, 11, 20), case_key=f"R08:{FULL_ID}", rule_code="R08", status="NEW",
            household_id="DB1", id_number=FULL_ID, name=NAME, summary="…", evidence="{}"))
        conn.execute(insert(mart_warning_day).values(  # a hardship warning keyed by the person
            report_date=date(2026, 11, 20), case_key=f"H01:{FULL_ID}", rule_code="H01", status="NEW",
            household_id="DB1", id_number=FULL_ID, name=NAME, summary=BILL, evidence=BILL))
        conn.execute(insert(core_medical_settlement).values(
            source="medical", month="2026-10", settlement_no="S1", person_id_raw=FULL_ID,
            person_id_norm=FULL_ID, name=NAME, visit_kind="住院", settled_on=date(2026, 10, 3),
            total_cost=float(BILL) * 3, fund_paid=float(BILL) * 2, self_paid=float(BILL)))
        audit.record(conn, "extract_published", date(2026, 11, 20), {"files": 4})
    try:
        yield engine
    finally:
        engine.dispose()


def _as(engine: Engine, role: str, statement: str) -> str | list[tuple]:
    """Run ``statement`` as ``role``, rolled back after; its rows, or the SQLSTATE it failed with."""
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute(f"SET ROLE {role}")
        try:
            cur.execute(statement)
        except Exception as exc:
            return str(getattr(exc, "pgcode", None) or type(exc).__name__)
        return list(cur.fetchall()) if cur.description else []
    finally:
        raw.rollback()
        raw.close()


def test_roles_exist_as_group_roles_without_login(warehouse: Engine) -> None:
    with warehouse.connect() as conn:
        rows = dict(conn.execute(text("SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname = ANY(:r)"),
                                 {"r": list(ROLES)}).all())
    assert rows == {role: False for role in ROLES}


def test_reporter_reads_masked_views_never_full_ids_or_names(warehouse: Engine) -> None:
    for statement in ("SELECT id_norm FROM core_member", "SELECT name FROM core_member",
                      "SELECT id_raw FROM core_member", "SELECT id_number FROM mart_case_day",
                      "SELECT case_key FROM mart_case", "SELECT * FROM meta_audit",
                      "INSERT INTO core_payment (payment_id) VALUES ('p1')"):
        assert _as(warehouse, REPORTER, statement) == DENIED, statement
    members = _as(warehouse, REPORTER, "SELECT household_id, id_masked, id_problem FROM rpt_member")
    assert members == [("DB1", mask_id(FULL_ID), None)]
    cases = _as(warehouse, REPORTER, "SELECT case_key_masked, id_number_masked, rule_code FROM rpt_case_day")
    assert cases == [(f"R08:{mask_id(FULL_ID)}", mask_id(FULL_ID), "R08")]
    warned = _as(warehouse, REPORTER, "SELECT case_key_masked, rule_code FROM rpt_warning_day")
    assert warned == [(f"H01:{mask_id(FULL_ID)}", "H01")]
    assert _as(warehouse, REPORTER, "SELECT self_paid FROM rpt_medical_settlement") == "42703"
    assert _as(warehouse, REPORTER, "SELECT count(*) FROM ref_region") == [(0,)]
    for view in reporter_views(keyed_by_person()):  # no view shows a full ID or a name, whatever its columns
        rows = _as(warehouse, REPORTER, f"SELECT * FROM {view}")
        assert isinstance(rows, list), f"{view}: {rows}"
        assert not [v for row in rows for v in row if FULL_ID in str(v) or NAME in str(v)
                    or BILL in str(v)], view
        assert _as(warehouse, REPORTER, f"SELECT name FROM {view}") == "42703", view  # no such column


def test_household_case_keys_stay_readable(warehouse: Engine) -> None:
    with warehouse.begin() as conn:
        conn.execute(insert(mart_case_day).values(report_date=date(2026, 11, 20), case_key="R04:DB1",
                                                  rule_code="R04", status="NEW", household_id="DB1"))
    keys = _as(warehouse, REPORTER, "SELECT case_key_masked FROM rpt_case_day ORDER BY 1")
    assert keys == [("R04:DB1",), (f"R08:{mask_id(FULL_ID)}",)]


def test_auditor_reads_meta_tables_only(warehouse: Engine) -> None:
    assert _as(warehouse, AUDITOR, "SELECT action FROM meta_audit") == [("extract_published",)]
    assert _as(warehouse, AUDITOR, "SELECT count(*) FROM meta_task_failure") == [(0,)]
    for statement in ("SELECT * FROM core_member", "SELECT * FROM rpt_member", "SELECT * FROM mart_case",
                      "SELECT * FROM ref_region",
                      "INSERT INTO meta_audit (at, action) VALUES (now(), 'x')"):
        assert _as(warehouse, AUDITOR, statement) == DENIED, statement


def test_loader_writes_everything_but_cannot_rewrite_the_audit_trail(warehouse: Engine) -> None:
    assert _as(warehouse, LOADER, "INSERT INTO meta_audit (at, action) VALUES (now(), 'x')") == []
    assert _as(warehouse, LOADER, "UPDATE core_member SET relation = '配偶'") == []
    assert _as(warehouse, LOADER, "DELETE FROM mart_case_day") == []
    assert _as(warehouse, LOADER, "CREATE TEMPORARY TABLE tmp_x AS SELECT 1 AS x") == []  # rule coverage
    ok = _as(warehouse, LOADER, "INSERT INTO meta_task_failure (dag_id, failed_at) VALUES ('d', now()) "
                                "RETURNING id")  # its id comes from a sequence
    assert isinstance(ok, list) and len(ok) == 1, ok
    for statement in ("UPDATE meta_audit SET detail = 'x'", "DELETE FROM meta_audit",
                      "TRUNCATE meta_audit", "DROP TABLE core_member",
                      "CREATE TABLE core_extra (x int)"):
        assert _as(warehouse, LOADER, statement) == DENIED, statement


PERSISTENCE = "SELECT relpersistence FROM pg_class WHERE relname = 'tmp_active_member'"


def test_the_loader_evaluates_with_temporary_coverage_tables(warehouse: Engine) -> None:
    """The loader may not create schemas, so the rules' coverage falls back to temporary tables
    (the owner gets unlogged tables in a private schema); either way nothing is left behind."""
    params = {"d": "2026-11-20", "month": "2026-11", "electricity_months": [], "water_months": [],
              "silent_months": []}
    with warehouse.begin() as conn:
        conn.execute(text(f"SET LOCAL ROLE {LOADER}"))
        build_coverage(conn, private_schema(conn), params)
        assert conn.execute(text(PERSISTENCE)).scalar() == "t"  # temporary
        drop_coverage(conn)
    with warehouse.begin() as conn:
        build_coverage(conn, private_schema(conn), params)
        assert conn.execute(text(PERSISTENCE)).scalar() == "u"  # unlogged, in the evaluation's schema
        drop_coverage(conn)
        assert conn.execute(text(PERSISTENCE)).scalar() is None


def test_reapplying_is_idempotent_and_keeps_the_same_grants(warehouse: Engine) -> None:
    grants = ("SELECT grantee, table_name, privilege_type FROM information_schema.role_table_grants "
              "WHERE grantee = ANY(:r) ORDER BY 1, 2, 3")
    with warehouse.connect() as conn:
        before = conn.execute(text(grants), {"r": list(ROLES)}).all()
    assert apply_roles(warehouse, keyed_by_person())
    with warehouse.connect() as conn:
        after = conn.execute(text(grants), {"r": list(ROLES)}).all()
    assert after == before and len(before) > 30
    assert ("safetynet_loader", meta_task_failure.name, "INSERT") in before


def _config(tmp_path: Path, warehouse: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({
        "region": {"province": "江西省", "city": "上饶市", "county": "广丰区"},
        "regions_file": "regions.csv", "warehouse": warehouse,
        "sources": {"civil_affairs": {"url": "sqlite:///ca.db"}, "personnel": {"url": "sqlite:///hr.db"},
                    **{s: {"location": s} for s in ("property", "electricity", "water")}},
        "outbox": {"location": "outbox"}, "inbox": {"location": "inbox"}}, allow_unicode=True))
    return path


def test_cli_applies_roles_on_postgresql(pg_database: str, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["roles", "--config", str(_config(tmp_path, pg_database))]) == 0
    assert "safetynet_reporter: SELECT on" in capsys.readouterr().out
    engine = create_engine(pg_database)
    try:
        assert _as(engine, REPORTER, "SELECT * FROM rpt_member") == []
        assert _as(engine, REPORTER, "SELECT * FROM core_member") == DENIED
    finally:
        engine.dispose()


def test_cli_explains_that_sqlite_has_no_roles(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["roles", "--config", str(_config(tmp_path, "sqlite:///warehouse.db"))]) == 1
    assert "warehouse roles are a PostgreSQL feature" in capsys.readouterr().err
