"""``int_water_key``: every water holder ID and address with the first month it was read.

Rule R07 asks whether a household has a linked water account in *any* loaded
month, not only the rule window. Joining every water reading ever loaded (7
million at city scale) with the covered households took 8–11 s of each day's
evaluation; the distinct keys with their first month answer the same question
from a table a tenth the size. The table depends on the water readings only, so
each water load brings it up to date inside its own transaction, and ``migrate``
fills it once when it is new. A load whose months all come after every key's
first month (the monthly delivery) only adds the keys first read in them: every
other key keeps its first month, so the work follows the delivery, not the
history. Any other load (a redelivered month can remove a key's first reading, a
back-filled month can move it earlier) rebuilds the table from all readings.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, bindparam, text

KEYS = """SELECT 'id' AS kind, holder_id_norm AS key, holder_id_birth AS birth, MIN(month) AS first_month
       FROM core_utility_reading
       WHERE source = 'water' AND holder_id_problem IS NULL AND holder_id_norm IS NOT NULL{months}
       GROUP BY holder_id_norm, holder_id_birth
       UNION ALL
       SELECT 'address', address_norm, NULL, MIN(month) FROM core_utility_reading
       WHERE source = 'water' AND address_norm IS NOT NULL{months}
       GROUP BY address_norm"""
"""Every water key with its first month (``{months}``: optionally only the readings of some months)."""
REBUILD = (
    "DELETE FROM int_water_key",
    f"INSERT INTO int_water_key (kind, key, birth, first_month) {KEYS.format(months='')}",
)
ADD_NEW = text(f"""INSERT INTO int_water_key (kind, key, birth, first_month)
    SELECT f.kind, f.key, f.birth, f.first_month FROM ({KEYS.format(months=' AND month IN :months')}) f
    WHERE NOT EXISTS (SELECT 1 FROM int_water_key k WHERE k.kind = f.kind AND k.key = f.key
                      AND COALESCE(CAST(k.birth AS TEXT), '') = COALESCE(CAST(f.birth AS TEXT), ''))
""").bindparams(bindparam("months", expanding=True))


def update_water_keys(conn: Connection, months: Sequence[str]) -> None:
    """Bring ``int_water_key`` up to date after a water load that replaced ``months`` (``YYYY-MM``):
    only the new keys when every month is later than every key's first month, else a rebuild."""
    latest = conn.execute(text("SELECT MAX(first_month) FROM int_water_key")).scalar()
    if not months or latest is None or min(months) <= latest:
        rebuild_water_keys(conn)
        return
    conn.execute(ADD_NEW, {"months": sorted(months)})
    if conn.dialect.name == "postgresql":
        conn.execute(text("ANALYZE int_water_key"))


def rebuild_water_keys(conn: Connection) -> None:
    """Recompute ``int_water_key`` from the loaded water readings (in the caller's transaction)."""
    for statement in REBUILD:
        conn.execute(text(statement))
    if conn.dialect.name == "postgresql":
        conn.execute(text("ANALYZE int_water_key"))
