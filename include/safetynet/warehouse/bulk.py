"""Bulk writes: ``COPY FROM STDIN`` on PostgreSQL, ``executemany`` on SQLite.

Both run inside the caller's transaction, so a batch lands whole or not at all.
"""

from __future__ import annotations

import io

import pandas as pd
from sqlalchemy import Connection, Table

CHUNK_ROWS = 200_000


def insert_frame(conn: Connection, table: Table, frame: pd.DataFrame) -> int:
    """Append ``frame``'s columns that exist in ``table``; return rows written."""
    cols = [c.name for c in table.columns if c.name in frame.columns]
    if frame.empty:
        return 0
    data = frame[cols]
    if conn.dialect.name == "postgresql":
        _copy(conn, table.name, cols, data)
    else:
        placeholders = ", ".join("?" for _ in cols)
        sql = f'INSERT INTO {table.name} ({", ".join(cols)}) VALUES ({placeholders})'
        for start in range(0, len(data), CHUNK_ROWS):
            part = data.iloc[start : start + CHUNK_ROWS]
            rows = part.astype(object).where(part.notna(), None).itertuples(index=False, name=None)
            conn.exec_driver_sql(sql, list(rows))
    return len(data)


def _copy(conn: Connection, table: str, cols: list[str], data: pd.DataFrame) -> None:
    raw = conn.connection.driver_connection
    cur = raw.cursor()  # type: ignore[union-attr]
    sql = f'COPY {table} ({", ".join(cols)}) FROM STDIN WITH (FORMAT csv)'
    try:
        for start in range(0, len(data), CHUNK_ROWS):
            buf = io.StringIO()
            data.iloc[start : start + CHUNK_ROWS].to_csv(buf, index=False, header=False)
            buf.seek(0)
            cur.copy_expert(sql, buf)
    finally:
        cur.close()
