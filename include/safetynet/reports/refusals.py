"""Refused deliveries still pending: what every report shows next to a stale source.

A delivery refused by a reader or by validation (a collapsed snapshot, an emptied
table, a file breaking its contract) stays in ``meta_refused`` until a delivery of
the same item loads (replaced, or accepted with ``safetynet accept``). Each entry
names the source and the file or table and says why, masked at the time it was
recorded; rows of a source clock ahead are reported per source from the load log.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, inspect, select

from safetynet.warehouse.schema import meta_refused


def pending_refusals(conn: Connection) -> list[dict[str, Any]]:
    """Every pending refusal, by source and item (empty on a warehouse without the table)."""
    if not inspect(conn).has_table("meta_refused"):
        return []
    rows = conn.execute(select(meta_refused).order_by(meta_refused.c.source, meta_refused.c.item))
    return [{"source": r.source, "item": r.item, "reason": r.reason, "refused_for": r.batch_id,
             "refused_at": r.refused_at.isoformat() if r.refused_at else None,
             "accept": f"safetynet accept --source {r.source} --item {r.item}"} for r in rows]
