"""Warehouse roles on PostgreSQL: who may write, who may read what.

The warehouse holds every full ID number and name, but only the pipeline and the
inspectors' extract need them. Three ``NOLOGIN`` group roles let an operator give
each account exactly its part (``GRANT safetynet_reporter TO alice``):

``safetynet_loader``
    The pipeline's account: reads and writes the ``stg_*``, ``int_*``, ``core_*``, ``mart_*``,
    ``ref_*`` and ``meta_*`` tables, but may only SELECT and INSERT ``meta_audit``
    (no UPDATE, DELETE or TRUNCATE: the trail stays append-only even without the
    triggers). It does no DDL: schema changes (``migrate``) run as the owner.
``safetynet_reporter``
    Analysts and dashboards: no base table except ``ref_region``. It reads one
    ``rpt_<name>`` view per ``core_<name>`` / ``mart_<name>`` table, generated from
    the schema so a new table or column is never exposed by accident: ID numbers
    are masked like :func:`safetynet.privacy.mask_id` (first 6 + last 4, as
    ``<prefix>_masked``), the case key's person or record part likewise; names,
    addresses, birth dates, row keys and free text (summary, evidence, notes) are
    left out. The extract with full IDs is written by the pipeline, not by this role.
``safetynet_auditor``
    Reads the ``meta_*`` tables (``meta_audit`` included) and nothing else.

:func:`apply_roles` is idempotent: it creates what is missing, revokes every
table privilege of the three roles and grants the set above afresh, so re-running
it after an upgrade (it migrates first) also covers new tables.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, Engine, Table, text

from safetynet.sources.declarations import personal_columns
from safetynet.warehouse.engine import migrate
from safetynet.warehouse.schema import metadata

LOADER, REPORTER, AUDITOR = "safetynet_loader", "safetynet_reporter", "safetynet_auditor"
ROLES = (LOADER, REPORTER, AUDITOR)
APPEND_ONLY = "meta_audit"
REPORTER_TABLES = ("ref_region",)  # no personal data in them
HIDDEN = frozenset({
    "row_key", "address_norm", "summary", "evidence", "note", "disposition_note", "address",
} | {c for c in personal_columns() if not c.endswith(("_raw", "_norm", "_birth"))})
"""Columns no ``rpt_*`` view shows (besides ``*_birth``, which would undo the mask): every name and
address the sources' declarations mark personal, keys, free text."""


class RolesUnsupported(RuntimeError):
    """The warehouse is not PostgreSQL (SQLite has no roles: access is the file's permissions)."""


def mask_sql(expr: str) -> str:
    """SQL for :func:`safetynet.privacy.mask_id`: first 6 + last 4 characters, ``*`` between."""
    return (f"CASE WHEN {expr} IS NULL THEN NULL WHEN length({expr}) <= 10 THEN repeat('*', length({expr})) "
            f"ELSE left({expr}, 6) || repeat('*', length({expr}) - 10) || right({expr}, 4) END")


def _case_key_sql(masked_rules: Iterable[str]) -> str:
    """The case key with its person or record part masked for ``masked_rules`` (household keys hold no ID)."""
    codes = ", ".join(f"'{code}'" for code in masked_rules) or "NULL"
    last = "substring(case_key from '[^:]*$')"
    return (f"CASE WHEN split_part(case_key, ':', 1) IN ({codes}) THEN "
            f"substring(case_key from '^(.*:)') || {mask_sql(last)} ELSE case_key END")


def view_columns(table: Table, masked_rules: Iterable[str]) -> list[str]:
    """The select list of ``table``'s reporter view (``masked_rules``: see :func:`reporter_views`)."""
    names = [c.name for c in table.columns]
    out = []
    for name in names:
        prefix = name.removesuffix("_norm")
        if name in HIDDEN or name.endswith(("_birth", "_raw")):
            continue
        if name.endswith("_norm") and f"{prefix}_raw" in names:
            out.append(f"{mask_sql(f'coalesce({name}, {prefix}_raw)')} AS {prefix}_masked")
        elif name == "id_number":
            out.append(f"{mask_sql(name)} AS id_number_masked")
        elif name == "case_key":
            out.append(f"{_case_key_sql(masked_rules)} AS case_key_masked")
        else:
            out.append(f'"{name}"')
    return out


def reporter_views(masked_rules: Iterable[str]) -> dict[str, str]:
    """``rpt_<name>`` → its SELECT, for every ``core_*`` and ``mart_*`` table.

    ``masked_rules`` are the codes of the rules whose case key ends in a person's ID
    or a record number (:func:`safetynet.rules.catalog.keyed_by_person`); the caller
    passes them, so the warehouse does not depend on the rules.
    """
    masked_rules = tuple(masked_rules)
    views = {}
    for table in metadata.sorted_tables:
        if table.name.startswith(("core_", "mart_")):
            name = "rpt_" + table.name.split("_", 1)[1]
            views[name] = f"SELECT {', '.join(view_columns(table, masked_rules))} FROM {table.name}"
    return views


def _create_role(conn: Connection, role: str) -> None:
    """CREATE ROLE … NOLOGIN unless it exists (roles are cluster-wide; another database may race)."""
    conn.execute(text(
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN "
        f"CREATE ROLE {role} NOLOGIN; END IF; "
        "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"))


def apply_roles(engine: Engine, masked_rules: Iterable[str]) -> list[str]:
    """Create the roles and views and (re)grant their privileges; return what was done.

    ``masked_rules``: the rule codes whose case keys are masked (:func:`reporter_views`).
    """
    if engine.dialect.name != "postgresql":
        raise RolesUnsupported(
            f"warehouse roles are a PostgreSQL feature; this warehouse is {engine.dialect.name} "
            "(protect an SQLite file with file-system permissions instead)")
    migrate(engine)
    done = []
    with engine.begin() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar()
        for role in ROLES:
            _create_role(conn, role)
            conn.execute(text(f'REVOKE ALL ON ALL TABLES IN SCHEMA "{schema}" FROM {role}'))
            conn.execute(text(f'REVOKE ALL ON ALL SEQUENCES IN SCHEMA "{schema}" FROM {role}'))
            conn.execute(text(f'GRANT USAGE ON SCHEMA "{schema}" TO {role}'))
        # Only the owner creates objects (PostgreSQL 15's default; older servers let PUBLIC).
        conn.execute(text(f'REVOKE CREATE ON SCHEMA "{schema}" FROM PUBLIC'))
        done.append(f"roles {', '.join(ROLES)} (NOLOGIN) in schema {schema}")
        views = reporter_views(masked_rules)
        for view, select in views.items():
            conn.execute(text(f"DROP VIEW IF EXISTS {view}"))  # columns may have changed
            conn.execute(text(f"CREATE VIEW {view} AS {select}"))
            conn.execute(text(f"GRANT SELECT ON {view} TO {REPORTER}"))
        for table in REPORTER_TABLES:
            conn.execute(text(f"GRANT SELECT ON {table} TO {REPORTER}"))
        done.append(f"{REPORTER}: SELECT on {len(views)} rpt_* views and {', '.join(REPORTER_TABLES)}")
        tables = [t.name for t in metadata.sorted_tables]
        for table in tables:
            if table == APPEND_ONLY:
                conn.execute(text(f"GRANT SELECT, INSERT ON {table} TO {LOADER}"))
            else:
                conn.execute(text(f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {LOADER}"))
            if table.startswith("meta_"):
                conn.execute(text(f"GRANT SELECT ON {table} TO {AUDITOR}"))
        conn.execute(text(f'GRANT USAGE ON ALL SEQUENCES IN SCHEMA "{schema}" TO {LOADER}'))
        done.append(f"{LOADER}: read/write on {len(tables)} tables, {APPEND_ONLY} SELECT and INSERT only")
        done.append(f"{AUDITOR}: SELECT on the meta_* tables")
    return done
