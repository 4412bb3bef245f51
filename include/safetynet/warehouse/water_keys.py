"""``int_water_key``: every water holder ID and address with the first month it was read.

Rule R07 asks whether a household has a linked water account in *any* loaded
month, not only the rule window. Joining every water reading ever loaded (7
million at city scale) with the covered households took 8–11 s of each day's
evaluation; the distinct keys with their first month answer the same question
from a table a tenth the size. The table depends on the water readings only, so
each water load rebuilds it inside its own transaction (a redelivered month can
remove keys as well as add them), and ``migrate`` fills it once when it is new.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

REBUILD = (
    "DELETE FROM int_water_key",
    """INSERT INTO int_water_key (kind, key, birth, first_month)
       SELECT 'id', holder_id_norm, holder_id_birth, MIN(month) FROM core_utility_reading
       WHERE source = 'water' AND holder_id_problem IS NULL AND holder_id_norm IS NOT NULL
       GROUP BY holder_id_norm, holder_id_birth
       UNION ALL
       SELECT 'address', address_norm, NULL, MIN(month) FROM core_utility_reading
       WHERE source = 'water' AND address_norm IS NOT NULL
       GROUP BY address_norm""",
)


def rebuild_water_keys(conn: Connection) -> None:
    """Recompute ``int_water_key`` from the loaded water readings (in the caller's transaction)."""
    for statement in REBUILD:
        conn.execute(text(statement))
    if conn.dialect.name == "postgresql":
        conn.execute(text("ANALYZE int_water_key"))
