"""What changed in the tables the rules read, logged by the database itself (``int_change_log``).

Every write to a watched table — by a load, a repair by hand, a test — leaves
its *anchors* in the log: the households, ID numbers, allowances, market
entities and addresses of the rows written or removed, from the old and the new
version of each row. Tables without a row key (monthly files, registry
snapshots, reference data) log one ``('all', <table>)`` row per write instead:
the rules that read them are evaluated in full after any change
(``rules/scope.py``). Triggers do the logging, so no writer can forget it.

A *mark* says how much of the log an evaluation saw. On PostgreSQL it is the
evaluation's snapshot (``pg_current_snapshot()``), and a change is new to it
when its transaction was not visible in that snapshot: a load that commits
during an evaluation, with a transaction ID below one the evaluation saw, is
still new next time. On SQLite (one writer at a time) it is the log's highest
sequence number.
"""

from __future__ import annotations

from sqlalchemy import Connection, Table, text

from safetynet.warehouse.schema import metadata

KINDS = {"household_id": "household", "allowance_id": "allowance", "credit_code": "entity",
         "address_norm": "address"}
"""Anchor columns by name; any other ``*_norm`` column is a person's ID number (kind ``id``)."""
UNWATCHED = ("core_disposition", "core_warning_disposition", "int_change_log")
"""Decisions are applied to every item on every evaluation; the log does not log itself."""
ALL_ROWS = 100_000
"""A PostgreSQL statement writing more rows than this logs ``all`` instead of each anchor."""
VERSION = "v1"  # in the trigger names: a new definition gets new triggers
MONTHS = "utility_month"
"""Kind of the log rows naming the months a load wrote into a table several sources share (the
utility readings): key ``'<source> <YYYY-MM>'``, next to the ``all`` row its trigger logs."""


def anchors(table: Table) -> dict[str, str]:
    """The table's anchor columns and their kinds."""
    return {c.name: KINDS.get(c.name, "id") for c in table.columns
            if c.name in KINDS or c.name.endswith("_norm")}


def watched() -> list[Table]:
    """The tables whose changes are logged: the core, reference and derived tables."""
    return [t for t in metadata.sorted_tables
            if t.name.startswith(("core_", "ref_", "int_")) and t.name not in UNWATCHED]


def logs_anchors(table: Table) -> bool:
    """Whether writes log each anchor (keyed tables) rather than ``all``."""
    return "row_key" in table.c and bool(anchors(table))


def _pg_statements(table: Table) -> list[tuple[str, str]]:
    name, tag = table.name, f"safetynet_change_{VERSION}"
    if not logs_anchors(table):
        return [(f"{tag}_all", f"CREATE TRIGGER {tag}_all AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                               f"ON {name} FOR EACH STATEMENT EXECUTE FUNCTION safetynet_change_all()")]

    def logged(rows: str) -> str:
        union = " UNION ALL ".join(f"SELECT '{k}' AS kind, CAST({c} AS TEXT) AS key FROM {rows}"
                                   for c, k in anchors(table).items())
        return (f"IF (SELECT COUNT(*) FROM (SELECT 1 FROM {rows} LIMIT {ALL_ROWS + 1}) n) > {ALL_ROWS} THEN "
                f"INSERT INTO int_change_log (xid, kind, key) VALUES (pg_current_xact_id()::text::bigint, "
                f"'all', TG_TABLE_NAME); ELSE INSERT INTO int_change_log (xid, kind, key) "
                f"SELECT DISTINCT pg_current_xact_id()::text::bigint, kind, key FROM ({union}) a "
                f"WHERE key IS NOT NULL; END IF;")
    function = (f"CREATE OR REPLACE FUNCTION {tag}_{name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"IF TG_OP IN ('INSERT', 'UPDATE') THEN {logged('new_rows')} END IF; "
                f"IF TG_OP IN ('DELETE', 'UPDATE') THEN {logged('old_rows')} END IF; RETURN NULL; END $$")
    out = [(f"{tag}_fn", function)]
    for op, refs in (("INSERT", "NEW TABLE AS new_rows"), ("DELETE", "OLD TABLE AS old_rows"),
                     ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows")):
        out.append((f"{tag}_{op.lower()}", f"CREATE TRIGGER {tag}_{op.lower()} AFTER {op} ON {name} "
                                           f"REFERENCING {refs} FOR EACH STATEMENT "
                                           f"EXECUTE FUNCTION {tag}_{name}()"))
    out.append((f"{tag}_truncate", f"CREATE TRIGGER {tag}_truncate AFTER TRUNCATE ON {name} "
                                   "FOR EACH STATEMENT EXECUTE FUNCTION safetynet_change_all()"))
    return out


_PG_ALL = ("CREATE OR REPLACE FUNCTION safetynet_change_all() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
           "INSERT INTO int_change_log (xid, kind, key) VALUES (pg_current_xact_id()::text::bigint, 'all', "
           "TG_TABLE_NAME); RETURN NULL; END $$")


def _sqlite_statements(table: Table) -> list[tuple[str, str]]:
    name, tag = table.name, f"{table.name}_change_{VERSION}"
    out = []
    for op, versions in (("INSERT", ("NEW",)), ("DELETE", ("OLD",)), ("UPDATE", ("OLD", "NEW"))):
        if logs_anchors(table):
            union = " UNION ALL ".join(f"SELECT '{k}' AS kind, {v}.{c} AS key"
                                       for v in versions for c, k in anchors(table).items())
            body = (f"INSERT INTO int_change_log (kind, key) SELECT kind, key FROM ({union}) "
                    "WHERE key IS NOT NULL;")
        else:  # one 'all' row, not one per row written
            body = (f"INSERT INTO int_change_log (kind, key) SELECT 'all', '{name}' WHERE NOT EXISTS ("
                    "SELECT 1 FROM int_change_log WHERE seq = (SELECT MAX(seq) FROM int_change_log) "
                    f"AND kind = 'all' AND key = '{name}');")
        out.append((f"{tag}_{op.lower()}", f"CREATE TRIGGER {tag}_{op.lower()} AFTER {op} ON {name} "
                                           f"FOR EACH ROW BEGIN {body} END"))
    return out


def install_triggers(conn: Connection) -> list[str]:
    """Create the change triggers missing on the watched tables; return their names.

    Existing triggers are left alone: creating one locks its table against writers.
    """
    created = []
    if conn.dialect.name == "postgresql":
        have = {(t, n) for t, n in conn.execute(text(
            "SELECT c.relname, t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE NOT t.tgisinternal AND t.tgname LIKE 'safetynet_change_%'"))}
        wanted = {t.name: _pg_statements(t) for t in watched()}
        missing = {t: s for t, s in wanted.items() if any((t, n) not in have for n, _ in s if n[-3:] != "fn")}
        if missing:
            conn.execute(text(_PG_ALL))
        for name, statements in missing.items():
            for trigger, statement in statements:
                if trigger.endswith("_fn") or (name, trigger) not in have:
                    conn.execute(text(statement))
                    created.append(f"{name}.{trigger}")
    else:
        have = set(conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars())
        for table in watched():
            for trigger, statement in _sqlite_statements(table):
                if trigger not in have:
                    conn.execute(text(statement))
                    created.append(trigger)
    return created


def current_mark(conn: Connection) -> str:
    """How much of the change log this transaction sees (see the module docstring)."""
    if conn.dialect.name == "postgresql":
        return str(conn.execute(text("SELECT CAST(pg_current_snapshot() AS TEXT)")).scalar())
    return str(conn.execute(text("SELECT COALESCE(MAX(seq), 0) FROM int_change_log")).scalar())


def since(mark: str) -> tuple[str, dict[str, object]]:
    """SQL for the log rows new to ``mark`` (a WHERE clause over ``int_change_log``) and its parameters."""
    if ":" in mark:  # a PostgreSQL snapshot
        return ("xid >= CAST(CAST(pg_snapshot_xmin(CAST(:mark AS pg_snapshot)) AS TEXT) AS BIGINT) "
                "AND NOT pg_visible_in_snapshot(CAST(CAST(xid AS TEXT) AS xid8), CAST(:mark AS pg_snapshot))",
                {"mark": mark})
    return "seq > :mark", {"mark": int(mark)}


def usable(conn: Connection, mark: str) -> bool:
    """Whether ``mark`` can be read against this database's log: it is not ahead of it (a
    warehouse restored into a new PostgreSQL cluster starts transaction IDs afresh, a SQLite log
    can be replaced), and it is of this dialect."""
    if conn.dialect.name == "postgresql":
        return ":" in mark and bool(conn.execute(text(
            "SELECT CAST(CAST(pg_snapshot_xmax(CAST(:m AS pg_snapshot)) AS TEXT) AS BIGINT) <= "
            "CAST(CAST(pg_snapshot_xmax(pg_current_snapshot()) AS TEXT) AS BIGINT)"), {"m": mark}).scalar())
    return mark.isdigit() and int(mark) <= int(current_mark(conn))


def changed_tables(conn: Connection, mark: str) -> set[str]:
    """The tables written whole (``all``) since ``mark``."""
    where, params = since(mark)
    return set(conn.execute(text(f"SELECT DISTINCT key FROM int_change_log WHERE kind = 'all' AND {where}"),
                            params).scalars())


def log_months(conn: Connection, source: str, months: list[str]) -> None:
    """Name in the log the months of ``source``'s rows this transaction wrote (PostgreSQL, where a
    log row knows its transaction): what changed of a table whose triggers log only ``all``."""
    if conn.dialect.name == "postgresql" and months:
        conn.execute(text("INSERT INTO int_change_log (xid, kind, key) SELECT "
                          "CAST(CAST(pg_current_xact_id() AS TEXT) AS BIGINT), :kind, m "
                          "FROM unnest(CAST(:keys AS TEXT[])) m"),
                     {"kind": MONTHS, "keys": [f"{source} {m}" for m in sorted(set(months))]})
