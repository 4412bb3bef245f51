"""D's items under a plan (``rules/scope.py``): the rules run in full over everyone, the scoped
rules over the subjects in scope, and the scoped rules' other items carried from the predecessor."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
from sqlalchemy import Connection, delete, insert

from safetynet.rules import link_cache
from safetynet.rules.cases import CASE_COLUMNS, CATALOGS, run_rule
from safetynet.rules.coverage import BASE, build_coverage, private_schema
from safetynet.rules.registry import Rule
from safetynet.rules.scope import Plan, coverage_of, narrowed
from safetynet.warehouse.schema import meta_evaluation


def find(conn: Connection, create: str, chosen: Plan, rules: list[Rule], params: dict,
          townships: dict[str, str], snapshots: dict[str, str]) -> dict[str, list[pd.DataFrame]]:
    """Each catalog's items found on D: every item of the rules run in full, the items in scope
    of the scoped ones (run over coverage restricted to the scope where the warehouse allows)."""
    found: dict[str, list[pd.DataFrame]] = {c.table.name: [] for c in CATALOGS}
    built: tuple[str, ...] = ()
    if chosen.full:
        in_full = [r for r in rules if r.code in chosen.full]
        built = coverage_of(in_full)
        linked = chosen.scoped and "tmp_utility_link" in built and create.startswith("CREATE UNLOGGED")
        reuse = link_cache.reusable(conn, *chosen.previous, params) if linked else None
        build_coverage(conn, create, params, built,  # only what they read
                       instead={"tmp_utility_link": link_cache.select_sql(reuse)} if reuse else None)
        _run(conn, in_full, params, townships, snapshots, found)
    if chosen.scoped:
        scoped = [r for r in rules if r.code in chosen.scoped]
        wanted = coverage_of(scoped)
        if not chosen.full:
            build_coverage(conn, create, params, wanted, scoped=True)
        elif create.startswith("CREATE UNLOGGED"):  # a second private schema, first on the path:
            # the restricted base tables, and what the full rules did not build, from them
            build_coverage(conn, private_schema(conn), params,
                           tuple(n for n in wanted if n in BASE or n not in built), scoped=True)
        else:  # temporary tables have one namespace: what the full rules did not build, for everyone
            build_coverage(conn, create, params, tuple(n for n in wanted if n not in built))
        mine: dict[str, list[pd.DataFrame]] = {c.table.name: [] for c in CATALOGS}
        _run(conn, scoped, params, townships, snapshots, mine, narrow=True)
        by_code = {r.code: r for r in scoped}
        for name, frames in mine.items():
            found[name] += [f[_in_scope(chosen, by_code, f)] for f in frames]
    return found


def _run(conn: Connection, rules: list[Rule], params: dict, townships: dict[str, str],
         snapshots: dict[str, str], into: dict[str, list[pd.DataFrame]], narrow: bool = False) -> None:
    for catalog in CATALOGS:
        into[catalog.table.name] += [
            run_rule(conn, r, params, townships, snapshots[r.code], narrowed(r.query) if narrow else r.query)
            for r in rules if r in catalog.rules]


def carry(chosen: Plan, live: dict[str, pd.DataFrame],
          snapshots: dict[str, str]) -> dict[str, list[pd.DataFrame]]:
    """The scoped rules' items live on D's predecessor whose subjects are out of scope, as they were
    (with D's source snapshots)."""
    out: dict[str, list[pd.DataFrame]] = {c.table.name: [] for c in CATALOGS}
    if not chosen.scoped:
        return out
    for catalog in CATALOGS:
        by_code = {r.code: r for r in catalog.rules if r.code in chosen.scoped}
        prev = live[catalog.table.name]
        prev = prev[prev["rule_code"].isin(list(by_code))]
        prev = prev.astype(object).where(prev.notna(), None)
        kept = prev[~_in_scope(chosen, by_code, prev)]
        kept = kept[[c for c in CASE_COLUMNS if c not in ("status", "first_seen")]].copy()
        kept["source_snapshot"] = kept["rule_code"].map(snapshots)
        out[catalog.table.name].append(kept)
    return out


def _in_scope(chosen: Plan, rules: dict[str, Rule], items: pd.DataFrame) -> np.ndarray:
    """Which of ``items`` (of scoped rules) are evaluated afresh on D, vectorised: a person's item
    by its ID, a household's by its household, a record's by its household (or, without one, by
    its allowance: the key's middle part)."""
    subject = items["rule_code"].map({c: r.subject for c, r in rules.items()})
    part = items["case_key"].astype(str).str.split(":").str[1]
    household = items["household_id"]
    has = household.notna()
    ids, households, allowances = (list(chosen.scope.get(k, ())) for k in ("id", "household", "allowance"))
    return ((subject.eq("person") & part.isin(ids))
            | (subject.eq("household") & part.isin(households))
            | (subject.eq("record") & has & household.astype(str).isin(households))
            | (subject.eq("record") & ~has & part.isin(allowances))).to_numpy(dtype=bool)


def record(conn: Connection, d: date, mark: str, signed: dict[str, str]) -> None:
    """Keep what D's evaluation saw, for the evaluation of D's successor."""
    conn.execute(delete(meta_evaluation).where(meta_evaluation.c.report_date == d))
    conn.execute(insert(meta_evaluation).values(
        report_date=d, mark=mark, signatures=json.dumps(signed, sort_keys=True),
        evaluated_at=datetime.now(UTC).replace(tzinfo=None)))


def link_built(chosen: Plan, rules: list[Rule]) -> str | None:
    """How ``find`` built ``tmp_utility_link``: for everyone (``"full"``), for the scope (``"scoped"``)
    or not at all (``link_cache.keep``)."""
    for which, codes in (("full", chosen.full), ("scoped", chosen.scoped)):
        if "tmp_utility_link" in coverage_of([r for r in rules if r.code in codes]):
            return which
    return None
