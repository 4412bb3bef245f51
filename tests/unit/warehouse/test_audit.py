"""The audit table is append-only: updates and deletes fail, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from safetynet.warehouse.audit import record
from safetynet.warehouse.engine import get_engine, migrate


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'w.db'}" if request.param == "sqlite" else request.getfixturevalue(
        "pg_database")


@pytest.mark.parametrize("tamper", ["UPDATE meta_audit SET action = 'nothing'",
                                    "DELETE FROM meta_audit"])
def test_tampering_with_an_audit_row_fails(url: str, tamper: str) -> None:
    engine = get_engine(url)
    migrate(engine)
    with engine.begin() as conn:
        record(conn, "extract_published", date(2026, 11, 20), {"files": {"a.csv": "00"}})
    with pytest.raises(DatabaseError, match="append-only"), engine.begin() as conn:
        conn.execute(text(tamper))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT action FROM meta_audit")).scalars().all() == ["extract_published"]


def test_truncate_fails_on_postgresql(pg_database: str) -> None:
    engine = get_engine(pg_database)
    migrate(engine)
    with pytest.raises(DatabaseError, match="append-only"), engine.begin() as conn:
        conn.execute(text("TRUNCATE meta_audit"))
