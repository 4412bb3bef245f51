"""The utility link kept from one evaluation to the next (PostgreSQL): only what moved is linked again.

Linking the window's readings to the covered households (``tmp_utility_link``)
is the largest part of a day with a new utility month: every reading of every
month in the window is joined with the members and households again, although
only the new month's readings and the households whose coverage changed can
link differently. So an evaluation that built the link keeps it
(``safetynet_cache.utility_link``, unlogged, with the report date and the change
log's mark it is valid for), and the next day's evaluation links afresh only:

* the months of its window the kept link does not hold, or whose readings were
  written since (a load names the months it wrote in the change log, in its own
  transaction: ``warehouse.changes.log_months``; a write to the readings that named none, by hand
  say, and the whole link is built afresh);
* the households in the evaluation's scope (``rules/scope.py``: every household
  a change or D's passing touched, which covers everything a link row depends on
  besides its reading: the household's members, their ID numbers and dates, its
  address and status);

and takes every other row as kept. A link row depends only on its reading and
its household, so the result equals linking everything afresh; the timeline
tests compare the two on every day. The kept link is used only by the evaluation
of the day after the one that kept it, on the change-log mark that day recorded:
a re-run, a back-fill, a restored or crashed database (unlogged tables come back
empty) or SQLite simply link everything, as before.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, text

from safetynet.rules.coverage import EVERYONE, LINK
from safetynet.warehouse.changes import MONTHS, since

log = logging.getLogger("safetynet.rules")
SCHEMA = "safetynet_cache"
TABLE, STATE = f"{SCHEMA}.utility_link", f"{SCHEMA}.utility_link_state"
SOURCES = ("electricity", "water")
LOCK = 7_150_311  # pg_advisory_xact_lock key: one evaluation at a time uses or replaces the kept link
IN_SCOPE = "SELECT key FROM tmp_scope WHERE kind = 'household' AND key IS NOT NULL"


@dataclass(frozen=True)
class Reuse:
    """Which months of D's window are taken from the kept link and which are linked afresh."""

    kept: dict[str, list[str]]
    fresh: dict[str, list[str]]


def _mine(conn: Connection) -> bool:
    """Whether this account may keep the link: PostgreSQL, and the cache schema is absent or its own."""
    if conn.dialect.name != "postgresql":
        return False
    owner = conn.execute(text("SELECT pg_get_userbyid(nspowner) = current_user FROM pg_namespace "
                              "WHERE nspname = :s"), {"s": SCHEMA}).first()
    if owner is None:
        allowed = text("SELECT has_database_privilege(current_database(), 'CREATE')")
        return bool(conn.execute(allowed).scalar())
    return bool(owner[0])


def _windows(params: dict) -> dict[str, list[str]]:
    """D's utility window per source (the rule parameters ``<source>_months``)."""
    return {s: list(params.get(f"{s}_months") or []) for s in SOURCES}


def reusable(conn: Connection, previous: date | None, mark: str | None, params: dict) -> Reuse | None:
    """How D's link can reuse the link kept by P's evaluation (``previous``, whose change-log
    ``mark`` it recorded; ``params`` the rule parameters), or None: nothing kept for exactly that
    evaluation, or readings written without naming their months."""
    if previous is None or mark is None or not _mine(conn) or conn.execute(text(
            "SELECT to_regclass(:t) IS NULL OR to_regclass(:s) IS NULL"), {"t": TABLE, "s": STATE}).scalar():
        return None
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK})
    state = conn.execute(text(f"SELECT report_date, mark, months FROM {STATE}")).first()
    if state is None or state.report_date != previous or state.mark != mark:
        return None
    where, seen = since(mark)
    unnamed = conn.execute(text(
        f"SELECT xid FROM int_change_log WHERE kind = 'all' AND key = 'core_utility_reading' AND {where} "
        f"EXCEPT SELECT xid FROM int_change_log WHERE kind = '{MONTHS}' AND {where} LIMIT 1"), seen).first()
    if unnamed is not None:
        return None
    written = set(conn.execute(text(f"SELECT DISTINCT key FROM int_change_log WHERE kind = '{MONTHS}' "
                                    f"AND {where}"), seen).scalars())
    held, windows = json.loads(state.months), _windows(params)
    kept = {s: [m for m in windows[s] if m in held.get(s, ()) and f"{s} {m}" not in written] for s in SOURCES}
    reuse = Reuse(kept, {s: [m for m in windows[s] if m not in kept[s]] for s in SOURCES})
    log.info("utility link: months %s kept from %s's evaluation, %s linked afresh (with the households "
             "in scope)", reuse.kept, previous.isoformat(), reuse.fresh)
    return reuse


def _months(alias: str, which: str, months: dict[str, list[str]]) -> str:
    """The condition that a row of ``alias`` is of one of ``months`` (by source), bound as
    ``:<which>_<source>``; a source without months is left out (an empty ``IN`` made the
    planner read all its readings)."""
    return " OR ".join(f"({alias}.source = '{s}' AND {alias}.month IN :{which}_{s})"
                       for s in SOURCES if months[s]) or "FALSE"


def select_sql(reuse: Reuse) -> tuple[str, dict]:
    """``tmp_utility_link`` from the kept link (its months still valid, households out of scope)
    and the link built afresh for the other months and, over the kept months, for the households
    in scope (their members and households joined, not everyone's: the planner cannot push a
    condition on the result's household through the link's grouping), with its parameters
    (month lists, to bind as expanding)."""
    parts = [f"SELECT source, household_id, account_no, month, usage, by_id, by_address, address "
             f"FROM {TABLE} c WHERE ({_months('c', 'kept', reuse.kept)}) "
             f"AND c.household_id NOT IN ({IN_SCOPE})"]
    if any(reuse.fresh.values()):
        parts.append(LINK.format(**EVERYONE, months=f"({_months('r', 'fresh', reuse.fresh)})"))
    if any(reuse.kept.values()):
        parts.append(LINK.format(
            members=f"(SELECT * FROM tmp_active_member WHERE household_id IN ({IN_SCOPE}))",
            households=f"(SELECT * FROM tmp_active_household WHERE household_id IN ({IN_SCOPE}))",
            months=f"({_months('r', 'kept', reuse.kept)})"))
    params = {f"{which}_{s}": months[s] for which, months in (("kept", reuse.kept), ("fresh", reuse.fresh))
              for s in SOURCES if months[s]}
    return " UNION ALL ".join(parts), params


def keep(conn: Connection, create: str, d: date, mark: str, params: dict, built: str | None,
         previous: tuple[date | None, str | None]) -> None:
    """Keep D's ``tmp_utility_link`` for D's successor.

    ``built`` is ``"full"`` (everyone's link: it becomes the kept one), ``"scoped"`` (the
    households in scope: they replace theirs in the link kept by D's predecessor, ``previous``
    = (its date, its mark), when that one's months are D's window) or None (no link built).
    Anything else leaves nothing valid for D's successor. Only where coverage tables are
    unlogged tables of a private schema (``coverage.private_schema``): they are moved, not copied.
    """
    if not create.startswith("CREATE UNLOGGED") or not _mine(conn):
        return
    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK})  # first: two may create the schema
    conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}"))
    conn.execute(text(f"CREATE UNLOGGED TABLE IF NOT EXISTS {STATE} "
                      "(report_date DATE NOT NULL, mark TEXT NOT NULL, months TEXT NOT NULL)"))
    months = json.dumps({s: sorted(m) for s, m in _windows(params).items()}, sort_keys=True)
    state = conn.execute(text(f"SELECT report_date, mark, months FROM {STATE}")).first()
    conn.execute(text(f"DELETE FROM {STATE}"))
    if built == "full":
        conn.execute(text(f"DROP TABLE IF EXISTS {TABLE}"))
        conn.execute(text(f"ALTER TABLE tmp_utility_link SET SCHEMA {SCHEMA}"))
        conn.execute(text(f"ALTER TABLE {SCHEMA}.tmp_utility_link RENAME TO utility_link"))
    elif built == "scoped" and state is not None and (state.report_date, state.mark) == previous \
            and state.months == months and conn.execute(text("SELECT to_regclass(:t) IS NOT NULL"),
                                                        {"t": TABLE}).scalar():
        conn.execute(text(f"DELETE FROM {TABLE} WHERE household_id IN ({IN_SCOPE})"))
        conn.execute(text(f"INSERT INTO {TABLE} SELECT source, household_id, account_no, month, usage, "
                          "by_id, by_address, address FROM tmp_utility_link"))
    else:
        return
    conn.execute(text(f"INSERT INTO {STATE} (report_date, mark, months) VALUES (:d, :m, :months)"),
                 {"d": d, "m": mark, "months": months})
