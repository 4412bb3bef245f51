"""Which tables a load leaves with stale planner statistics, and what the planner thinks they hold.

``ANALYZE`` samples a whole table whatever the batch, so after a small daily delta
it was most of the load (four civil-affairs tables at 100,000 households: 1.2 of
1.5 s for 999 rows). A table an incremental read changed by fewer rows than
``SMALL_CHANGE`` of what it holds keeps its statistics: a thousand members change
no histogram, and autovacuum analyses the table once 10% of it has changed. A
month, a snapshot or a whole table is always analysed, as is anything on SQLite:
they bring new values of the columns the rules select on.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

SMALL_CHANGE = 0.02
"""An incremental batch writing fewer rows than this share of its table leaves its statistics as they are."""
INCREMENTAL = ("keys", "groups")
"""Replace modes of an incremental read (``load.replace_mode``)."""


def estimated_rows(conn: Connection, table: str) -> float:
    """The planner's row estimate (PostgreSQL; kept fresh by ``ANALYZE``); 0 if unknown."""
    value = conn.execute(text("SELECT reltuples FROM pg_class WHERE oid = CAST(:t AS regclass)"),
                         {"t": table}).scalar()
    return max(float(value or 0), 0.0)


def stale_statistics(conn: Connection, written: list[tuple[str, str, int]]) -> list[str]:
    """The targets to ``ANALYZE`` after a batch, given each item's (target, replace mode, rows
    written or removed), sorted."""
    out = []
    for target in sorted({t for t, _, _ in written}):
        mine = [(mode, rows) for t, mode, rows in written if t == target]
        small = all(mode in INCREMENTAL for mode, _ in mine) and conn.dialect.name == "postgresql" \
            and sum(rows for _, rows in mine) < SMALL_CHANGE * estimated_rows(conn, target)
        if not small:
            out.append(target)
    return out
