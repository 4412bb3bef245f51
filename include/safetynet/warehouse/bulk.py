"""Bulk writes: ``COPY FROM STDIN`` on PostgreSQL, ``executemany`` on SQLite.

The COPY text comes from Arrow's CSV writer (C++, several times faster than
``DataFrame.to_csv``); its quoting is PostgreSQL's CSV format: strings quoted,
NULL an unquoted empty field.

Both run inside the caller's transaction, so a batch lands whole or not at all.
"""

from __future__ import annotations

import io

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import Connection, Table

CHUNK_ROWS = 200_000
COPY_READ = 1 << 20  # bytes psycopg2 hands the server per read (its default, 8 KB, costs a call each)


def insert_frame(conn: Connection, table: Table, frame: pd.DataFrame | pa.Table) -> int:
    """Append the columns of ``frame`` (pandas or Arrow) that exist in ``table``; return rows written.

    Staged batches come as Arrow tables and go to ``COPY`` without a pandas round trip.
    """
    arrow = isinstance(frame, pa.Table)
    names = frame.column_names if arrow else list(frame.columns)
    cols = [c.name for c in table.columns if c.name in names]
    if not len(frame):
        return 0
    if conn.dialect.name == "postgresql":
        data = frame.select(cols) if arrow else pa.Table.from_pandas(frame[cols], preserve_index=False)
        _copy(conn, table.name, cols, data)
        return len(data)
    part_frame = frame.select(cols).to_pandas() if arrow else frame[cols]
    placeholders = ", ".join("?" for _ in cols)
    sql = f'INSERT INTO {table.name} ({", ".join(cols)}) VALUES ({placeholders})'
    for start in range(0, len(part_frame), CHUNK_ROWS):
        part = part_frame.iloc[start : start + CHUNK_ROWS]
        rows = part.astype(object).where(part.notna(), None).itertuples(index=False, name=None)
        conn.exec_driver_sql(sql, list(rows))
    return len(part_frame)


def _copy(conn: Connection, table: str, cols: list[str], data: pa.Table) -> None:
    raw = conn.connection.driver_connection
    cur = raw.cursor()  # type: ignore[union-attr]
    sql = f'COPY {table} ({", ".join(cols)}) FROM STDIN WITH (FORMAT csv)'
    options = pacsv.WriteOptions(include_header=False)
    try:
        for start in range(0, data.num_rows, CHUNK_ROWS):
            buf = io.BytesIO()
            pacsv.write_csv(data.slice(start, CHUNK_ROWS), buf, options)  # NULL: an unquoted empty field
            buf.seek(0)
            try:
                cur.copy_expert(sql, buf, size=COPY_READ)
            except Exception as exc:
                raise _without_row_data(exc, table, start) from None
    finally:
        cur.close()


class BulkLoadError(RuntimeError):
    """A COPY the server refused, described without the row's values."""

    batch_row: int | None = None  # the failing row's index in the frame given to insert_frame


def _without_row_data(exc: Exception, table: str, start: int) -> Exception:
    """The server's error minus its DETAIL and CONTEXT, which quote the failing row (IDs, names).

    The message travels to task logs, ``meta_task_failure`` and alert emails; the
    row is found again by the table, column and row number given here.
    """
    import re

    from safetynet.privacy import mask_text

    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None)
    if diag is None or primary is None:
        return exc
    line = re.search(r", line (\d+)", getattr(diag, "context", None) or "")
    where = f", row {start + int(line.group(1))} of the batch" if line else ""
    column = f", column {diag.column_name}" if getattr(diag, "column_name", None) else ""
    detail = f"SQLSTATE {diag.sqlstate}{column}{where}"
    error = BulkLoadError(f"COPY into {table} failed ({detail}): {mask_text(primary)}")
    error.batch_row = start + int(line.group(1)) - 1 if line else None
    return error
