"""Warehouse URLs in every spelling people write reach the driver the bulk loader needs."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from safetynet.warehouse.engine import get_engine, normalise_url


@pytest.mark.parametrize("spelling", ["postgresql://", "postgres://", "postgresql+psycopg://",
                                      "postgresql+psycopg2://"])
def test_every_postgresql_spelling_uses_psycopg2(spelling: str) -> None:
    url = f"{spelling}loader:secret@db.example:5432/warehouse"
    assert normalise_url(url) == "postgresql+psycopg2://loader:secret@db.example:5432/warehouse"
    assert get_engine(url).dialect.driver == "psycopg2"


def test_other_urls_are_left_alone() -> None:
    assert normalise_url("sqlite:///w.db") == "sqlite:///w.db"
    assert normalise_url("mysql+pymysql://x@h/db") == "mysql+pymysql://x@h/db"


def test_a_plain_postgresql_url_bulk_loads(pg_database: str) -> None:
    """The COPY path (psycopg2's copy_expert) works behind a plain ``postgresql://`` URL."""
    import pandas as pd
    from sqlalchemy import Column, MetaData, Table, Text

    from safetynet.warehouse.bulk import insert_frame

    plain = "postgresql://" + pg_database.split("://", 1)[1]
    table = Table("t_plain_url", MetaData(), Column("v", Text))
    engine = get_engine(plain)
    with engine.begin() as conn:
        table.create(conn)
        insert_frame(conn, table, pd.DataFrame({"v": ["a", "b"]}))
        assert conn.execute(text("SELECT COUNT(*) FROM t_plain_url")).scalar() == 2
