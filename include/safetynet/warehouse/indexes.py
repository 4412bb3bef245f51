"""Bulk loads into PostgreSQL with secondary indexes rebuilt once instead of maintained per row.

Maintaining three B-tree indexes while ``COPY`` streams millions of utility rows
is most of the load's server time (4M rows: 111 s with the indexes, 24 s without
plus 30 s to build them afterwards). A batch at least as large as what its target
table already holds therefore drops the table's secondary indexes, loads, and
rebuilds them — all inside the batch's transaction, so a reader never sees the
table without them: it waits for the commit (the drop takes the table's lock)
and then sees the whole new batch. Small batches (a daily delta) keep the indexes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Index, text

from safetynet.warehouse.schema import metadata
from safetynet.warehouse.statistics import estimated_rows

BULK_ROWS = 200_000  # below this, maintaining the indexes is cheaper than rebuilding them
BUILD_MEMORY = "256MB"  # maintenance_work_mem for the rebuild, for this transaction only


@contextmanager
def deferred_indexes(conn: Connection, rows_by_target: dict[str, int]) -> Iterator[list[str]]:
    """Drop the big targets' secondary indexes for the ``with`` body; rebuild them after it.

    Yields the names of the indexes it dropped (empty on SQLite and for small batches).
    """
    dropped: list[Index] = []
    if conn.dialect.name == "postgresql":
        for target in sorted(rows_by_target):
            rows = rows_by_target[target]
            if rows >= BULK_ROWS and rows >= estimated_rows(conn, target):
                for index in sorted(metadata.tables[target].indexes, key=lambda i: str(i.name)):
                    index.drop(conn)
                    dropped.append(index)
    yield [str(i.name) for i in dropped]
    if dropped:
        conn.execute(text(f"SET LOCAL maintenance_work_mem = '{BUILD_MEMORY}'"))
        for index in dropped:
            index.create(conn)
