"""A load analyses what it made stale: small incremental deltas keep their statistics."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from safetynet.warehouse.engine import get_engine, migrate
from safetynet.warehouse.statistics import SMALL_CHANGE, estimated_rows, stale_statistics


def test_a_small_incremental_delta_keeps_the_statistics_and_anything_else_is_analysed(
        pg_database: str) -> None:
    engine = get_engine(pg_database)
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO core_household (household_id, status) "
                          "SELECT 'H' || g, 'ACTIVE' FROM generate_series(1, 5000) g"))
        conn.execute(text("ANALYZE core_household"))
        assert estimated_rows(conn, "core_household") == 5000
        few = int(SMALL_CHANGE * 5000) - 1
        assert stale_statistics(conn, [("core_household", "keys", few)]) == []
        assert stale_statistics(conn, [("core_household", "keys", few), ("core_household", "groups", 2)]) \
            == ["core_household"]  # together they reach the share
        assert stale_statistics(conn, [("core_household", "table", 1)]) == ["core_household"]
        assert stale_statistics(conn, [("core_member", "groups", 1)]) == ["core_member"]  # never analysed
        assert stale_statistics(conn, [("core_utility_reading", "month", 0),
                                       ("core_household", "keys", 3)]) == ["core_utility_reading"]


def test_sqlite_always_analyses(tmp_path: Path) -> None:
    engine = get_engine(f"sqlite:///{tmp_path / 'w.db'}")
    migrate(engine)
    with engine.begin() as conn:
        assert stale_statistics(conn, [("core_household", "keys", 0)]) == ["core_household"]
