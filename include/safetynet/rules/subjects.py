"""The subjects in scope of a scoped evaluation (``rules/scope.py``), built in SQL as ``tmp_scope``.

Persons (ID numbers), households and allowance records: the anchors the change
log holds since the predecessor's evaluation, the anchors of rows with a date
D's passing can flip, closed over the links between subjects
(docs/over-time.md, "Incremental evaluation").
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Connection, Date, Table, bindparam, text

from safetynet.warehouse.changes import anchors, since, watched

SUBJECTS = ("id", "household", "allowance")
UNLINKED = ("core_utility_reading", "int_water_key")
"""Tables neither followed between subjects nor searched for dates: their rows reach an item only
through a member's ID number (whose birth date, read from the number, is the member's: an edge
there) or a household's address, and a change to them re-evaluates every rule that reads them."""
AGED = ("core_member", "core_allowance", "core_cremation")
"""Tables whose birth dates give ages (birthdays flip them)."""


def subjects_in_scope(conn: Connection, create: str, mark: str, span: tuple[date, date, int],
                      read: set[str], compared: dict[str, set[str]]) -> dict[str, set[str]]:
    """Build ``tmp_scope`` (kind, key) for the scoped rules and return it as sets: ``span`` is
    (P, D, the breadwinner window in days), ``read`` the tables they read, ``compared`` the columns
    they compare with D."""
    previous, d, window_days = span
    where, params = since(mark)
    conn.execute(text(f"{create.format(name='tmp_scope_seed')} AS SELECT DISTINCT kind, key "
                      f"FROM int_change_log WHERE kind <> 'all' AND {where}"), params)
    lo, hi = previous - timedelta(days=1), d + timedelta(days=1)
    shifted = (lo - timedelta(days=window_days), hi - timedelta(days=window_days))
    birthdays = sorted({(lo + timedelta(days=i)).strftime("%m-%d") for i in range((hi - lo).days + 1)})
    bounds = {"lo": lo.isoformat(), "hi": hi.isoformat(), "slo": shifted[0].isoformat(),
              "shi": shifted[1].isoformat()}
    for table in watched():
        if table.name in read and table.name not in UNLINKED:
            _edges(conn, table, {c.name: compared[c.name] for c in table.columns
                                 if isinstance(c.type, Date) and c.name in compared}, bounds, birthdays)
    conn.execute(text(f"{create.format(name='tmp_scope')} AS SELECT kind, key FROM tmp_scope_seed"))
    _follow(conn, ("household", "allowance", "entity", "id"), ("id",), "tmp_scope_seed")
    _follow(conn, ("id", "address"), ("household", "allowance"), "tmp_scope")
    conn.execute(text("CREATE INDEX ix_tmp_scope ON tmp_scope (kind, key)"))
    conn.execute(text("ANALYZE tmp_scope"))
    out: dict[str, set[str]] = {k: set() for k in SUBJECTS}
    for kind, key in conn.execute(text("SELECT DISTINCT kind, key FROM tmp_scope WHERE kind IN :subjects")
                                  .bindparams(bindparam("subjects", expanding=True)), {"subjects": SUBJECTS}):
        out[kind].add(key)
    return out


def _edges(conn: Connection, table: Table, dates: dict[str, set[str]], bounds: dict,
           birthdays: list[str]) -> None:
    """Seed the anchors of ``table``'s rows whose ``dates`` (with the daily parameters they are
    compared with) D's passing can flip: within the span; shifted by the breadwinner window; a
    birthday within the span for an age."""
    anchored = anchors(table)
    if not dates or not anchored:
        return
    flips = [f"{c} BETWEEN :lo AND :hi" for c in dates]
    flips += [f"{c} BETWEEN :slo AND :shi" for c, used in dates.items() if "breadwinner_from" in used]
    flips += [f"SUBSTR(CAST({c} AS TEXT), 6, 5) IN ({', '.join(repr(b) for b in birthdays)})"
              for c, used in dates.items()
              if "elderly_cutoff" in used or (table.name in AGED and c.endswith("_birth"))]
    union = " UNION ALL ".join(f"SELECT '{k}', CAST({c} AS TEXT) FROM e WHERE {c} IS NOT NULL"
                               for c, k in anchored.items())
    conn.execute(text(f"INSERT INTO tmp_scope_seed (kind, key) WITH e AS MATERIALIZED ("
                      f"SELECT {', '.join(anchored)} FROM {table.name} WHERE {' OR '.join(flips)}) {union}"),
                 bounds)


def _follow(conn: Connection, sources: tuple[str, ...], targets: tuple[str, ...], frm: str) -> None:
    """Add to ``tmp_scope`` the ``targets`` anchors of rows holding a ``sources`` anchor in ``frm``."""
    for table in watched():
        anchored = anchors(table)
        if table.name in UNLINKED or len(anchored) < 2:
            continue
        for src, src_kind in anchored.items():
            for dst, dst_kind in anchored.items():
                if src != dst and src_kind in sources and dst_kind in targets:
                    conn.execute(text(
                        f"INSERT INTO tmp_scope (kind, key) SELECT DISTINCT '{dst_kind}', "
                        f"CAST(t.{dst} AS TEXT) FROM {table.name} t JOIN {frm} s ON s.kind = '{src_kind}' "
                        f"AND s.key = CAST(t.{src} AS TEXT) WHERE t.{dst} IS NOT NULL"))
