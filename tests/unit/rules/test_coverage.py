"""The coverage tables are private to one evaluation and leave nothing behind."""

from __future__ import annotations

from sqlalchemy import inspect, text

from safetynet.rules.coverage import COVERAGE_SQL, build_coverage, drop_coverage, private_schema
from safetynet.rules.engine import rule_params, silent_months
from safetynet.warehouse.engine import get_engine
from tests.unit.rules.conftest import D, Warehouse, pid

A = pid("19600101", 1)


def _params(wh: Warehouse) -> dict:
    params = rule_params(wh.cfg, D)
    params.update(electricity_months=[], water_months=[], electricity_n=0, water_n=0)
    return {**params, **silent_months(params)}


def test_an_evaluation_leaves_no_coverage_table_or_schema_and_the_search_path_as_it_was(
        wh: Warehouse) -> None:
    wh.household("H1", A)
    engine = get_engine(wh.cfg.warehouse_url)
    with engine.connect() as conn:
        path = conn.execute(text("SHOW search_path")).scalar() if conn.dialect.name != "sqlite" else None
    assert wh.cases("R08") == set()
    with engine.connect() as conn:
        assert not set(COVERAGE_SQL) & set(inspect(conn).get_table_names())
        if conn.dialect.name == "postgresql":
            assert not [s for s in inspect(conn).get_schema_names() if s.startswith("coverage_")]
            assert conn.execute(text("SHOW search_path")).scalar() == path


def test_coverage_is_visible_in_its_transaction_only(wh: Warehouse) -> None:
    """Built in one transaction: that transaction reads it; another session never sees it (PostgreSQL's
    parallel workers can, the point of unlogged tables in a private schema)."""
    wh.household("H1", A)
    engine = get_engine(wh.cfg.warehouse_url)
    with engine.begin() as conn:
        build_coverage(conn, private_schema(conn), _params(wh))
        assert conn.execute(text("SELECT household_id FROM tmp_active_member")).scalars().all() == ["H1"]
        if conn.dialect.name == "postgresql":
            with engine.connect() as other:
                seen = "SELECT count(*) FROM pg_class WHERE relname = 'tmp_active_member'"
                assert other.execute(text(seen)).scalar() == 0
        drop_coverage(conn)
        assert "tmp_active_member" not in inspect(conn).get_table_names()
