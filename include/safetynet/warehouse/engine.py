"""Warehouse connections and schema creation.

SQLite is the embedded default and PostgreSQL the production warehouse; the
same SQL runs on both because dates are compared as typed parameters and every
derived key (normalised ID, address, month) is stored at load time.
"""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text

from safetynet.warehouse.changes import install_triggers
from safetynet.warehouse.schema import RETIRED_INDEXES, metadata
from safetynet.warehouse.water_keys import rebuild_water_keys

PG_SPELLINGS = ("postgresql://", "postgres://", "postgresql+psycopg://", "postgresql+psycopg2://")
PG_DRIVER = "postgresql+psycopg2://"  # bulk loads stream COPY through psycopg2's copy_expert


def normalise_url(url: str) -> str:
    """A PostgreSQL URL in any common spelling as the driver the bulk loader uses.

    SQLAlchemy 2.1 gives a plain ``postgresql://`` to psycopg 3, whose cursor has no
    ``copy_expert``: a load would fail after minutes of work. Every spelling people
    write (``postgresql://``, ``postgres://``, ``postgresql+psycopg://``) is read as
    ``postgresql+psycopg2://``; other URLs are returned unchanged.
    """
    for spelling in PG_SPELLINGS:
        if url.startswith(spelling):
            return PG_DRIVER + url[len(spelling):]
    return url


@lru_cache(maxsize=16)
def get_engine(url: str) -> Engine:
    """One engine per URL per process (connections are pooled inside it)."""
    if url.startswith("airflow://"):
        url = _airflow_connection_uri(url.removeprefix("airflow://"))
    engine = create_engine(normalise_url(url), future=True)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_conn: object, _record: object) -> None:
    cur = dbapi_conn.cursor()  # type: ignore[attr-defined]
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _airflow_connection_uri(conn_id: str) -> str:
    """Resolve a connection id to a SQLAlchemy URL (the password stays in the connection)."""
    from safetynet.connections import sqlalchemy_url

    return sqlalchemy_url(conn_id).render_as_string(hide_password=False)


MIGRATE_LOCK = 0x5AFE7E7  # advisory lock key: one migration at a time per PostgreSQL database


def migrate(engine: Engine) -> list[str]:
    """Bring the warehouse to the project's schema; return what was created or added.

    Missing tables and indexes are created; columns the project added since a
    warehouse was created are added with ``ALTER TABLE … ADD COLUMN`` (all added
    columns are nullable), so an existing deployment upgrades in place, never by hand.
    It runs in one transaction; on PostgreSQL under an advisory lock, because the
    five ingest DAGs start side by side and would otherwise race to create the
    same tables on a fresh warehouse; on SQLite under ``BEGIN IMMEDIATE`` (the
    write lock), for the same reason.
    """
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATE_LOCK})
        elif conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")  # the driver would run DDL outside a transaction
        return _migrate_in(conn)


def _migrate_in(conn: Connection) -> list[str]:
    inspector = inspect(conn)
    existing = set(inspector.get_table_names())
    changes = []
    for table in metadata.sorted_tables:
        if table.name not in existing:
            continue
        have = {c["name"] for c in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name not in have:
                kind = column.type.compile(dialect=conn.dialect)
                conn.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {column.name} {kind}"))
                changes.append(f"{table.name}.{column.name}")
    metadata.create_all(conn, checkfirst=True)
    for name in RETIRED_INDEXES:
        conn.execute(text(f"DROP INDEX IF EXISTS {name}"))
    if "int_water_key" not in existing and "core_utility_reading" in existing:
        rebuild_water_keys(conn)  # a warehouse from before the table: fill it once
    install_triggers(conn)  # the change log (warehouse/changes.py); not reported: no table or column
    return sorted(set(metadata.tables) - existing) + changes
