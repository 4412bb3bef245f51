"""Evaluate the catalog as of D and keep each case's life in ``mart_case_day``.

Idempotent: evaluating D again deletes and rewrites D's rows in one
transaction. A case is NEW on the first date it appears, OPEN afterwards and
RESOLVED on the first report date after it stops holding (rules.md). Inspectors'
decisions are shown on each case; an EXPLAINED case is kept but marked suppressed,
so reports leave it out while the decision holds (see ``safetynet.rules.decisions``).

Which rules run over everyone and which only over what changed is decided in
``rules/scope.py``; the items are found in ``rules/incremental.py`` (each rule's
in ``rules/cases.py``).
"""

from __future__ import annotations

import os
from datetime import date, timedelta

import pandas as pd
from sqlalchemy import Connection, Table, bindparam, delete, text

from safetynet.config import Config
from safetynet.rules import link_cache
from safetynet.rules.cases import CASE_COLUMNS, CASES, CATALOGS, EVERY_RULE, WARNING_CATALOG, Catalog
from safetynet.rules.catalog import RULES
from safetynet.rules.catalog_warnings import WARNINGS
from safetynet.rules.chain import link
from safetynet.rules.coverage import drop_coverage, private_schema
from safetynet.rules.decisions import current_decisions, evidence_sha
from safetynet.rules.incremental import carry, find, link_built, record
from safetynet.rules.registry import Rule
from safetynet.rules.scope import Plan, plan, signatures
from safetynet.rules.snapshots import rule_snapshot, snapshot_ids
from safetynet.sources.declarations import SOURCES, of_cadence
from safetynet.warehouse.bulk import insert_frame
from safetynet.warehouse.changes import current_mark
from safetynet.warehouse.engine import get_engine, migrate
from safetynet.warehouse.regions import townships as township_of

WORK_MEM = "512MB"
def rule_params(cfg: Config, d: date) -> dict:
    """Bound parameters every rule query may use (thresholds from configuration)."""
    r = cfg.rules
    try:
        cutoff = d.replace(year=d.year - int(r["elderly_allowance_min_age"]))
    except ValueError:  # 29 February in a non-leap year
        cutoff = d.replace(year=d.year - int(r["elderly_allowance_min_age"]), day=28)
    window = int(r["medical_window_months"])
    first = d.year * 12 + d.month - 1 - (window - 1)  # the first month of the medical window
    return {"d": d.isoformat(), "month": d.strftime("%Y-%m"), "high_kwh": float(r["electricity_high_kwh"]),
            "max_units": int(r["max_residential_units"]),
            "non_residential": list(r["non_residential_uses"]),
            "elderly_cutoff": cutoff.isoformat(),
            "exempt_plate_kinds": list(r.get("vehicle_exempt_plate_kinds") or []),
            "medical_from": f"{first // 12:04d}-{first % 12 + 1:02d}-01",
            "burden_enrolled": float(r["medical_burden_enrolled"]),
            "burden_general": float(r["medical_burden_general"]),
            # H01's first cut, under both thresholds by a cent so that summing in another order
            # (all settlements rather than month totals) can never leave out anyone over one
            "burden_floor": min(float(r["medical_burden_enrolled"]),
                                float(r["medical_burden_general"])) - 0.01,
            "silent_min_age": int(r["silent_home_min_age"]),
            "breadwinner_from": (d - timedelta(days=int(r["breadwinner_window_days"]))).isoformat()}


def silent_months(windows: dict) -> dict:
    """H03's months: the latest loaded electricity month not after D's month, and the month before it."""
    months = windows.get("electricity_months") or []
    if not months:
        return {"silent_month": None, "silent_before": None, "silent_months": []}
    latest = str(months[-1])
    y, m = int(latest[:4]), int(latest[5:7])
    before = f"{y - (m == 1):04d}-{12 if m == 1 else m - 1:02d}"
    return {"silent_month": latest, "silent_before": before, "silent_months": [before, latest]}


# A loose index scan over (source, month): one index probe per loaded month instead of
# reading every reading (``SELECT DISTINCT`` scanned 19M rows, 5 s, at city scale).
WINDOW_SQL = """
    WITH RECURSIVE loaded(month, n) AS (
        SELECT (SELECT MAX({col}) FROM {table} WHERE {mine} {col} <= :m), 1
        UNION ALL
        SELECT (SELECT MAX({col}) FROM {table} WHERE {mine} {col} < loaded.month), n + 1
        FROM loaded WHERE loaded.month IS NOT NULL AND n < :k
    )
    SELECT month FROM loaded WHERE month IS NOT NULL AND n <= :k"""


def utility_windows(conn: Connection, d: date, months: int) -> dict:
    """Each monthly source's window: its ``months`` latest loaded months not after D's month
    (``<source>_months``, and their number ``<source>_n``), read from its declared table."""
    out: dict[str, object] = {}
    for source in of_cadence("monthly"):
        declared = SOURCES[source]
        table = declared.tables[0].target
        shared = sum(s.kind == "files" and s.tables[0].target == table for s in SOURCES.values()) > 1
        sql = WINDOW_SQL.format(table=table, col=declared.month_column,
                                mine="source = :s AND" if shared else "")
        rows = conn.execute(text(sql), {"s": source, "m": d.strftime("%Y-%m"), "k": months}).scalars().all()
        window = sorted(rows)
        out[f"{source}_months"] = window
        out[f"{source}_n"] = len(window)
    return out


def snapshots_in_force(conn: Connection, d: date) -> dict[str, str | None]:
    """Each snapshot source's version in force on D (``<source>_snapshot``): the newest loaded
    snapshot dated on or before D, or None."""
    out: dict[str, str | None] = {}
    for source in of_cadence("snapshot"):
        table = SOURCES[source].tables[0].target
        value = conn.execute(text(f"SELECT MAX(snapshot_date) FROM {table} WHERE snapshot_date <= :d"),
                             {"d": d.isoformat()}).scalar()
        out[f"{source}_snapshot"] = None if value is None else str(value)[:10]
    return out


def evaluate_rules(cfg: Config, d: date, full: bool | None = None) -> dict:
    """Evaluate every rule for D; return case counts by rule and status.

    Rules whose inputs did not move since D's predecessor are evaluated only for the
    subjects the changes touched and carry their other items (``rules/scope.py``);
    ``full`` (default: the ``SAFETYNET_FULL_EVALUATION`` environment variable) evaluates
    every rule over everyone. Both give the same items.
    """
    if full is None:
        full = os.environ.get("SAFETYNET_FULL_EVALUATION", "") not in ("", "0")
    engine = get_engine(cfg.warehouse_url)
    migrate(engine)
    with engine.begin() as conn:
        mark = current_mark(conn)  # first: whatever commits after it is new to D's successor
        if conn.dialect.name == "postgresql":
            conn.execute(text(f"SET LOCAL work_mem = '{WORK_MEM}'"))  # hash joins in memory, not on disk
            conn.execute(text("SET LOCAL jit = off"))  # compiling cost ~0.6 s a query and saved nothing
        townships = township_of(conn)
        params = rule_params(cfg, d)
        params.update(utility_windows(conn, d, int(cfg.rules["utility_window_months"])))
        params.update(silent_months(params))
        params.update(snapshots_in_force(conn, d))
        ids = snapshot_ids(conn, d)
        snapshots = {r.code: rule_snapshot(ids, r.sources) for r in EVERY_RULE}
        rules = evaluable(cfg)
        signed = signatures(rules, params)
        previous = link(conn, d)
        create = private_schema(conn)
        chosen = Plan({r.code for r in rules}) if full else plan(
            conn, create, d, previous, rules, signed, int(cfg.rules["breadwinner_window_days"]))
        found = find(conn, create, chosen, rules, params, townships, snapshots)
        link_cache.keep(conn, create, d, mark, params, link_built(chosen, rules), chosen.previous)
        drop_coverage(conn)
        live = {c.table.name: _live_on(conn, c.table, previous) for c in CATALOGS}  # on the predecessor
        carried = carry(chosen, live, snapshots)
        record(conn, d, mark, signed)
        lives = {c.table.name: _case_life(conn, c, d, _frame(found[c.table.name] + carried[c.table.name]),
                                          snapshots, live[c.table.name], {r.code for r in rules})
                 for c in CATALOGS}
    cases, warnings = lives[CASES.table.name], lives[WARNING_CATALOG.table.name]
    return {"report_date": d.isoformat(), "cases": len(cases), "by_rule_status": _counts(cases),
            "warnings": len(warnings), "warnings_by_code_status": _counts(warnings),
            "not_evaluated": not_evaluated(cfg), "warnings_not_evaluated": not_evaluated(cfg, WARNINGS),
            "evaluated_in_full": sorted(chosen.full), "evaluated_for_changes": sorted(chosen.scoped),
            "subjects_in_scope": {k: len(v) for k, v in chosen.scope.items()}}


def _frame(found: list[pd.DataFrame]) -> pd.DataFrame:
    return pd.concat(found, ignore_index=True) if found else pd.DataFrame(columns=CASE_COLUMNS)


def _counts(statuses: pd.DataFrame) -> dict[str, int]:
    counts = statuses.groupby(["rule_code", "status"]).size()
    return {f"{r}/{s}": int(n) for (r, s), n in counts.items()}


def _lacking(cfg: Config, rule: Rule) -> list[str]:
    """The optional sources ``rule`` needs that this deployment does not configure."""
    return [s for s in rule.sources if SOURCES[s].optional and s not in cfg.sources]


def evaluable(cfg: Config) -> list[Rule]:
    """The rules this deployment can evaluate: every optional source they need is configured.

    (The required sources are always configured: ``load_config`` refuses a file without one.)
    """
    return [r for r in EVERY_RULE if not _lacking(cfg, r)]


def not_evaluated(cfg: Config, rules: tuple[Rule, ...] = RULES) -> dict[str, list[str]]:
    """Rules (by default the inspectors' R01–R12; warnings: ``WARNINGS``) this deployment cannot
    evaluate, with the sources it lacks (reported, never 'no cases')."""
    return {r.code: lacking for r in rules if (lacking := _lacking(cfg, r))}


def _case_life(conn: Connection, catalog: Catalog, d: date, today: pd.DataFrame, snapshots: dict[str, str],
               live: pd.DataFrame, evaluated: set[str]) -> pd.DataFrame:
    """Write D's cases as NEW/OPEN against D's predecessor, plus RESOLVED for those that stopped.

    A case live on the predecessor keeps its ``first_seen`` and is OPEN; any other
    is NEW from D. A RESOLVED case carries the rule version and snapshots in which
    it no longer held; a rule not evaluated on D (a source not configured) resolves
    nothing.
    """
    table = catalog.table
    conn.execute(delete(table).where(table.c.report_date == d))
    prev = live
    first = dict(zip(prev["case_key"], prev["first_seen"], strict=True))
    today = today.copy()
    today["first_seen"] = [first.get(k, d.isoformat()) for k in today["case_key"]]
    today["status"] = ["OPEN" if k in first else "NEW" for k in today["case_key"]]
    _apply_decisions(conn, catalog, d, today)
    gone = prev[~prev["case_key"].isin(today["case_key"]) & prev["rule_code"].isin(evaluated)].copy()
    gone["status"] = "RESOLVED"
    gone["rule_version"] = gone["rule_code"].map({r.code: r.version for r in catalog.rules})
    gone["source_snapshot"] = gone["rule_code"].map(snapshots)
    out = pd.concat([today, gone[today.columns.intersection(gone.columns)]], ignore_index=True)
    out["report_date"] = d.isoformat()
    out["suppressed"] = out["suppressed"].fillna(0).astype("int64")
    insert_frame(conn, table, out)
    return out


def _apply_decisions(conn: Connection, catalog: Catalog, d: date, today: pd.DataFrame) -> None:
    """Show the decisions returned on each item; suppress EXPLAINED cases (NOT_NEEDED warnings)
    while they hold."""
    decisions = current_decisions(conn, d, catalog.decisions).to_dict("index")  # a lookup, not .loc
    found = [decisions.get(k) for k in today["case_key"]]
    today["disposition"] = [None if f is None else f["outcome"] for f in found]
    today["disposition_note"] = [None if f is None else f["note"] for f in found]
    today["suppressed"] = [
        int(f is not None and f["outcome"] == catalog.suppressing
            and (pd.isna(f["suppress_until"]) or d.isoformat() <= str(f["suppress_until"])[:10])
            and f["evidence_sha256"] == evidence_sha(ev))
        for f, ev in zip(found, today["evidence"], strict=True)]


def _live_on(conn: Connection, table: Table, day: date | None) -> pd.DataFrame:
    """Items NEW or OPEN on ``day`` (none without a predecessor)."""
    sql = text(f"SELECT * FROM {table.name} WHERE report_date = :p AND status IN :live").bindparams(
        bindparam("live", expanding=True))
    prev = pd.read_sql(sql, conn, params={"p": day.isoformat() if day else None, "live": ["NEW", "OPEN"]})
    prev["first_seen"] = prev["first_seen"].astype(str).str[:10]
    return prev.drop(columns=["report_date", "status"], errors="ignore")
