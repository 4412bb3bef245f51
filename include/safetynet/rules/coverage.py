"""Who is covered on D (rules.md), materialised once per evaluation.

Tables private to the evaluation, built with the report date as a bound
parameter, so every rule query joins the same definition of an active member,
an active allowance and a valid ID number instead of repeating it. On SQLite
they are temporary tables. On PostgreSQL they are unlogged tables in a schema
created inside the evaluation's transaction and put first on its search path:
no other session ever sees them (the schema is dropped before the commit, and a
failed evaluation rolls it back), and unlike temporary tables they can be read
by parallel workers, so the planner may split the big joins over the cores. An
account without the right to create schemas gets temporary tables there too.
"""

from __future__ import annotations

from sqlalchemy import Connection, String, TextClause, bindparam, text

LINK = """
        SELECT source, household_id, account_no, month, MAX(usage) AS usage,
               MAX(by_id) AS by_id, MAX(by_address) AS by_address, MAX(address) AS address
        FROM (
            SELECT r.source, m.household_id, r.account_no, r.month, r.usage,
                   1 AS by_id, 0 AS by_address, r.address
            FROM core_utility_reading r
            JOIN {members} m ON m.id_valid = 1 AND m.id_norm = r.holder_id_norm
            WHERE r.holder_id_problem IS NULL AND r.holder_id_birth <= :d
              AND r.usage IS NOT NULL
              AND {months}
            UNION ALL
            SELECT r.source, h.household_id, r.account_no, r.month, r.usage, 0, 1, r.address
            FROM core_utility_reading r
            JOIN {households} h ON h.address_norm = r.address_norm
            WHERE r.usage IS NOT NULL
              AND {months}
        ) links
        GROUP BY source, household_id, account_no, month"""
"""Utility accounts linked to active households in ``{months}`` (rules.md: by a member's valid ID
or the household's normalised address), one row per account and month with its reading;
``{members}`` and ``{households}`` are the active members and households (or some of them)."""
EVERYONE = {"members": "tmp_active_member", "households": "tmp_active_household"}

COVERAGE_SQL = {
    "tmp_active_member": """
        SELECT m.household_id, m.id_raw, m.id_norm, m.id_problem, m.id_birth, m.name, m.relation,
               h.program, h.region_code, h.address_norm, h.address, h.monthly_amount,
               CASE WHEN m.id_problem IS NULL AND m.id_birth <= :d THEN 1 ELSE 0 END AS id_valid,
               CASE WHEN m.joined_on > h.approved_on THEN m.joined_on ELSE h.approved_on END
                   AS benefit_from
        FROM core_member m
        JOIN core_household h ON h.household_id = m.household_id
        WHERE h.status = 'ACTIVE' AND h.approved_on <= :d
          AND (h.terminated_on IS NULL OR h.terminated_on > :d)
          AND m.joined_on <= :d AND (m.left_on IS NULL OR m.left_on > :d)""",
    "tmp_active_allowance": """
        SELECT a.allowance_id, a.id_raw, a.id_norm, a.id_birth, a.id_problem, a.name, a.kind,
               a.region_code, a.start_on, a.monthly_amount,
               CASE WHEN a.id_problem IS NULL AND a.id_birth <= :d THEN 1 ELSE 0 END AS id_valid
        FROM core_allowance a
        WHERE a.start_on <= :d AND (a.end_on IS NULL OR a.end_on > :d)""",
    "tmp_active_household": """
        SELECT h.household_id, h.program, h.region_code, h.address_norm, h.address,
               h.monthly_amount, f.benefit_from  -- the earliest benefit start of its active members
        FROM core_household h
        LEFT JOIN (SELECT household_id, MIN(benefit_from) AS benefit_from
                   FROM tmp_active_member GROUP BY household_id) f
            ON f.household_id = h.household_id
        WHERE h.status = 'ACTIVE' AND h.approved_on <= :d
          AND (h.terminated_on IS NULL OR h.terminated_on > :d)""",
    "tmp_household_head": """
        SELECT household_id, id_norm, name FROM (
            SELECT household_id, id_norm, name, ROW_NUMBER() OVER (
                PARTITION BY household_id
                ORDER BY CASE WHEN relation = '户主' THEN 0 ELSE 1 END,
                         CASE WHEN id_norm IS NULL THEN 1 ELSE 0 END, id_norm) AS rn
            FROM tmp_active_member) ranked
        WHERE rn = 1""",
    "tmp_utility_link": LINK.format(**EVERYONE, months="""(
                   (r.source = 'electricity' AND r.month IN :electricity_months)
                   OR (r.source = 'water' AND r.month IN :water_months))"""),
    "tmp_household_month": """
        SELECT source, household_id, month, SUM(usage) AS amount
        FROM tmp_utility_link GROUP BY source, household_id, month""",
    # H03: household electricity in the latest loaded month not after D's month and the month
    # before it, which the window need not hold (a window of one month).
    "tmp_silent_link": LINK.format(**EVERYONE,
                                   months="(r.source = 'electricity' AND r.month IN :silent_months)"),
    "tmp_silent_household_month": """
        SELECT household_id, month, SUM(usage) AS amount FROM tmp_silent_link GROUP BY household_id, month""",
    "tmp_water_linked": """
        SELECT DISTINCT m.household_id
        FROM int_water_key k
        JOIN tmp_active_member m ON m.id_valid = 1 AND m.id_norm = k.key
        WHERE k.kind = 'id' AND k.first_month <= :month AND k.birth <= :d
        UNION
        SELECT h.household_id
        FROM int_water_key k
        JOIN tmp_active_household h ON h.address_norm = k.key
        WHERE k.kind = 'address' AND k.first_month <= :month""",
}
IN_WINDOW = """
        SELECT household_id, month, amount FROM tmp_household_month
        WHERE source = 'electricity' AND month IN :silent_months"""
"""``tmp_silent_household_month`` when both of H03's months are in the electricity window (the usual
case): summed already, so ``tmp_silent_link`` is not built at all."""
EXPANDING = ("electricity_months", "water_months", "silent_months", "non_residential", "exempt_plate_kinds",
             "kept_electricity", "kept_water", "fresh_electricity", "fresh_water")  # rules/link_cache.py


INDEXES = {  # the columns rule queries join coverage tables on
    "tmp_active_member": ("id_norm", "household_id"),
    "tmp_active_allowance": ("id_norm",),
    "tmp_active_household": ("household_id", "address_norm"),
    "tmp_household_head": ("household_id",),
}


SCOPED = {"tmp_active_member": ("household_id", "household"),
          "tmp_active_allowance": ("allowance_id", "allowance"),
          "tmp_active_household": ("household_id", "household")}
"""The coverage tables a scoped evaluation restricts to the subjects in ``tmp_scope``
(``rules/scope.py``); every other coverage table is built from them."""
BASE = ("tmp_active_member", "tmp_active_allowance", "tmp_active_household", "tmp_household_head")
"""The coverage tables the scoped rules read when the full ones are built too."""
SCOPE_TABLES = ("tmp_scope_seed", "tmp_scope")


def private_schema(conn: Connection) -> str:
    """Open a new schema for coverage tables; return the ``CREATE … {name}`` that makes one there.

    On PostgreSQL a schema created in the evaluation's transaction and put first on
    its search path; temporary tables on SQLite, or when the account may not create
    schemas (``safetynet_loader`` does no DDL, ``warehouse/roles.py``).
    """
    if conn.dialect.name == "sqlite":
        conn.execute(text("ANALYZE"))  # refreshes this connection's view of sqlite_stat1
        return "CREATE TEMPORARY TABLE {name}"
    if not conn.execute(text("SELECT has_database_privilege(current_database(), 'CREATE')")).scalar():
        return "CREATE TEMPORARY TABLE {name}"
    opened = str(conn.execute(text("SHOW search_path")).scalar() or "").count("coverage_")
    schema = f"coverage_{conn.execute(text('SELECT txid_current()')).scalar()}_{opened}"
    conn.execute(text(f"CREATE SCHEMA {schema}"))
    conn.execute(text("SELECT set_config('search_path', :p || ', ' || current_setting('search_path'), true)"),
                 {"p": schema})
    return f"CREATE UNLOGGED TABLE {schema}.{{name}}"


def build_coverage(conn: Connection, create: str, params: dict, names: tuple[str, ...] = tuple(COVERAGE_SQL),
                   scoped: bool = False, instead: dict[str, tuple[str, dict]] | None = None) -> None:
    """(Re)create the coverage tables ``names`` for the report date in ``params['d']`` with ``create``
    (from :func:`private_schema`); ``scoped``: only for the subjects in ``tmp_scope``.

    Each table is indexed on its join columns and analysed: without statistics
    the planners nest loops over the readings (PostgreSQL 100× slower, SQLite
    stuck for minutes), and SQLite only sees statistics its connection loaded.
    On PostgreSQL call it inside a transaction and ``drop_coverage`` before the commit.
    ``instead`` gives a table another query of the same rows, with its own expanding list
    parameters (the link from the kept one, ``rules/link_cache.py``).
    """
    in_window = "tmp_household_month" in names and \
        set(params.get("silent_months") or ()) <= set(params.get("electricity_months") or ())
    for name in names:
        select_sql = COVERAGE_SQL[name]
        if in_window and name == "tmp_silent_link":
            continue  # no second pass over the readings
        if in_window and name == "tmp_silent_household_month":
            select_sql = IN_WINDOW
        if scoped and name in SCOPED:
            column, kind = SCOPED[name]
            select_sql = (f"SELECT * FROM ({select_sql}) c WHERE c.{column} IN "
                          f"(SELECT key FROM tmp_scope WHERE kind = '{kind}')")
        if create.startswith("CREATE TEMPORARY"):
            conn.execute(text(f"DROP TABLE IF EXISTS {name}"))  # left by a pooled connection's failure
        extra: dict = {}
        if instead and name in instead:
            select_sql, extra = instead[name]
        conn.execute(sql(f"{create.format(name=name)} AS {select_sql}"), {**params, **extra})
        for column in INDEXES.get(name, ()):
            conn.execute(text(f"CREATE INDEX ix_{name}_{column} ON {name} ({column})"))
        conn.execute(text(f"ANALYZE {name}"))


def sql(statement: str) -> TextClause:
    """A text statement whose list parameters (months, uses) expand to ``IN (...)``."""
    stmt = text(statement)
    wanted = [p for p in EXPANDING if f":{p}" in statement]
    return stmt.bindparams(*(bindparam(p, expanding=True, type_=String) for p in wanted)) if wanted else stmt


def drop_coverage(conn: Connection) -> None:
    """Drop the coverage tables (pooled connections outlive an evaluation); on PostgreSQL the
    private schemas too, and the search path is what it was."""
    if conn.dialect.name == "postgresql":
        path = conn.execute(text("SHOW search_path")).scalar() or ""
        parts = path.split(", ")
        mine = [p for p in parts if p.startswith("coverage_")]
        if mine:
            for schema in mine:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            conn.execute(text("SELECT set_config('search_path', :p, true)"),
                         {"p": ", ".join(p for p in parts if p not in mine)})
            return
    for name in (*COVERAGE_SQL, *SCOPE_TABLES):
        conn.execute(text(f"DROP TABLE IF EXISTS {name}"))
