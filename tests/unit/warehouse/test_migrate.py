"""The project creates and upgrades its warehouse itself."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from safetynet.warehouse.engine import get_engine, migrate
from safetynet.warehouse.schema import metadata


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'w.db'}" if request.param == "sqlite" else request.getfixturevalue(
        "pg_database")


def test_fresh_warehouse_gets_every_table_and_a_second_migrate_is_a_no_op(url: str) -> None:
    engine = get_engine(url)
    assert set(migrate(engine)) == set(metadata.tables)
    assert set(inspect(engine).get_table_names()) >= set(metadata.tables)
    assert migrate(engine) == []


def test_an_older_warehouse_gains_the_new_columns_and_keeps_its_rows(url: str) -> None:
    engine = get_engine(url)
    with engine.begin() as conn:  # mart_case_day as it was before dispositions existed
        conn.execute(text("CREATE TABLE mart_case_day (report_date DATE, case_key TEXT, rule_code "
                          "VARCHAR(8), status VARCHAR(16), PRIMARY KEY (report_date, case_key))"))
        conn.execute(text("INSERT INTO mart_case_day VALUES ('2026-11-19', 'R08:x', 'R08', 'NEW')"))
    changes = migrate(engine)
    assert {"mart_case_day.disposition", "mart_case_day.suppressed"} <= set(changes)
    with engine.connect() as conn:
        row = conn.execute(text("SELECT case_key, disposition FROM mart_case_day")).one()
    assert tuple(row) == ("R08:x", None)


def _migrate_url(url: str) -> list[str]:
    return migrate(get_engine(url))


def test_concurrent_migrations_of_a_fresh_warehouse_create_each_table_exactly_once(url: str) -> None:
    """The five ingest DAGs start side by side on a fresh warehouse: none may fail the race."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    with ProcessPoolExecutor(4, mp_context=get_context("spawn")) as pool:
        created = list(pool.map(_migrate_url, [url] * 4))
    assert sorted(created, key=len) == [[], [], [], sorted(metadata.tables)]
    assert set(inspect(get_engine(url)).get_table_names()) >= set(metadata.tables)


def test_indexes_the_project_retired_are_dropped_from_an_existing_warehouse(url: str) -> None:
    """They would slow every COPY of the readings while no rule uses them."""
    engine = get_engine(url)
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(text("CREATE INDEX ix_core_utility_addr ON core_utility_reading (address_norm)"))
    migrate(engine)
    names = {i["name"] for i in inspect(engine).get_indexes("core_utility_reading")}
    assert names == {"ix_core_utility_src_month"}


def test_an_older_warehouse_gets_its_water_keys_from_the_readings_it_holds(url: str) -> None:
    """``int_water_key`` is new: migrating a warehouse that has water readings fills it at once."""
    engine = get_engine(url)
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE int_water_key"))
        for month, holder, address in (("2026-05", "361103196001010017", "a1"),
                                       ("2026-03", "361103196001010017", "a1"),
                                       ("2026-04", None, "a2")):
            conn.execute(text(
                "INSERT INTO core_utility_reading (source, month, account_no, holder_id_norm, "
                "holder_id_birth, holder_id_problem, address_norm) VALUES "
                "('water', :m, 'W1', :h, '1960-01-01', NULL, :a)"), {"m": month, "h": holder, "a": address})
    assert "int_water_key" in migrate(engine)
    with engine.connect() as conn:
        keys = set(conn.execute(text("SELECT kind, key, first_month FROM int_water_key")).all())
    assert keys == {("id", "361103196001010017", "2026-03"), ("address", "a1", "2026-03"),
                    ("address", "a2", "2026-04")}
