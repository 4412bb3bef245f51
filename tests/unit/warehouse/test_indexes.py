"""Big PostgreSQL loads rebuild secondary indexes once; the indexes are always there afterwards."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from safetynet.warehouse.engine import get_engine, migrate
from safetynet.warehouse.indexes import BULK_ROWS, deferred_indexes
from safetynet.warehouse.schema import core_utility_reading

UTILITY_INDEXES = {str(i.name) for i in core_utility_reading.indexes}


def _indexes(url: str) -> set[str]:
    return {i["name"] for i in inspect(get_engine(url)).get_indexes("core_utility_reading")}


def test_a_big_batch_drops_and_rebuilds_the_indexes_inside_its_transaction(pg_database: str) -> None:
    engine = get_engine(pg_database)
    migrate(engine)
    with engine.begin() as conn, deferred_indexes(conn, {"core_utility_reading": BULK_ROWS}) as dropped:
        assert set(dropped) == UTILITY_INDEXES
        missing = conn.execute(text("SELECT count(*) FROM pg_indexes WHERE tablename = "
                                    "'core_utility_reading'")).scalar()
        assert missing == 0  # inside the transaction they are gone ...
    assert _indexes(pg_database) == UTILITY_INDEXES  # ... and rebuilt before the commit


def test_a_failed_big_load_leaves_the_indexes_in_place(pg_database: str) -> None:
    engine = get_engine(pg_database)
    migrate(engine)
    with pytest.raises(RuntimeError), engine.begin() as conn, \
            deferred_indexes(conn, {"core_utility_reading": BULK_ROWS}):
        raise RuntimeError("the COPY failed")
    assert _indexes(pg_database) == UTILITY_INDEXES


def test_a_small_batch_or_sqlite_keeps_the_indexes(pg_database: str, tmp_path: object) -> None:
    engine = get_engine(pg_database)
    migrate(engine)
    with engine.begin() as conn, deferred_indexes(conn, {"core_utility_reading": BULK_ROWS - 1}) as dropped:
        assert dropped == []
    lite = get_engine(f"sqlite:///{tmp_path}/w.db")
    migrate(lite)
    with lite.begin() as conn, deferred_indexes(conn, {"core_utility_reading": 10 * BULK_ROWS}) as dropped:
        assert dropped == []
