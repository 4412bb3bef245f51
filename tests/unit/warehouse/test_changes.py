"""The change log (warehouse/changes.py): every write leaves its anchors, old and new."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from safetynet.warehouse.changes import changed_tables, current_mark, since
from safetynet.warehouse.engine import get_engine, migrate


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Engine:
    url = f"sqlite:///{tmp_path / 'wh.db'}" if request.param == "sqlite" else \
        request.getfixturevalue("pg_database")
    engine = get_engine(url)
    migrate(engine)
    return engine


def _new(engine: Engine, mark: str) -> list[tuple[str, str]]:
    where, params = since(mark)
    with engine.connect() as conn:
        return sorted({(k, v) for k, v in conn.execute(
            text(f"SELECT kind, key FROM int_change_log WHERE {where}"), params)})


def _mark(engine: Engine) -> str:
    with engine.connect() as conn:
        return current_mark(conn)


def test_a_move_logs_both_households_and_the_person(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO core_member (row_key, household_id, id_norm) "
                          "VALUES ('k', 'H1', 'P1')"))
    mark = _mark(engine)
    assert _new(engine, mark) == []
    with engine.begin() as conn:
        conn.execute(text("UPDATE core_member SET household_id = 'H2' WHERE row_key = 'k'"))
    assert _new(engine, mark) == [("household", "H1"), ("household", "H2"), ("id", "P1")]
    mark = _mark(engine)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM core_member"))
    assert _new(engine, mark) == [("household", "H2"), ("id", "P1")]


def test_a_table_without_row_keys_logs_that_it_was_written(engine: Engine) -> None:
    mark = _mark(engine)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO core_vehicle (plate_no) VALUES ('A'), ('B')"))
        conn.execute(text("INSERT INTO ref_region (code) VALUES ('1')"))
    with engine.connect() as conn:
        assert changed_tables(conn, mark) == {"core_vehicle", "ref_region"}
    assert _new(engine, mark) == [("all", "core_vehicle"), ("all", "ref_region")]


def test_migrating_again_creates_no_trigger_twice(engine: Engine) -> None:
    assert migrate(engine) == []
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO core_payment (row_key, payment_id, household_id) "
                          "VALUES ('k', 'p', 'H9')"))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM int_change_log WHERE key = 'H9'")).scalar() == 1


def test_a_write_committed_after_the_mark_is_new_though_it_began_before(pg_database: str) -> None:
    """PostgreSQL: an evaluation's mark is its snapshot; a load in flight when it was taken is
    new to the next evaluation even when it ends up with a lower transaction ID."""
    engine = get_engine(pg_database)
    migrate(engine)
    with engine.connect() as load:
        with load.begin():
            load.execute(text("INSERT INTO core_member (row_key, household_id, id_norm) "
                              "VALUES ('k', 'H1', 'P1')"))
            mark = _mark(engine)  # taken while the load is in flight
            with engine.begin() as other:  # a later transaction commits first
                other.execute(text("INSERT INTO core_cremation (row_key, record_id, id_norm) "
                                   "VALUES ('c', 'C1', 'P2')"))
        assert _new(engine, mark) == [("household", "H1"), ("id", "P1"), ("id", "P2")]


def test_a_mark_ahead_of_the_log_is_not_usable(engine: Engine) -> None:
    """A warehouse restored into a new cluster (or a replaced SQLite log): its old marks are ahead."""
    from safetynet.warehouse.changes import usable

    with engine.connect() as conn:
        now = current_mark(conn)
        ahead = "999999999:999999999:" if ":" in now else "999999999"
        assert usable(conn, now)
        assert not usable(conn, ahead)
