"""One rule's items for D: its detail rows read once, turned into plain rows once, grouped by case.

A rule's detail rows are read with pandas once and turned into plain Python
rows once; per case only plain Python runs (``rule.evidence`` over a list of
dicts), since per-case pandas operations dominated the stage at city scale.
The catalogs say where each set of items lives (cases for the inspectors,
hardship warnings for the bureau).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from itertools import groupby
from operator import itemgetter
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Table

from safetynet.dispositions_kinds import CASE_DECISIONS, WARNING_DECISIONS
from safetynet.progress import stage
from safetynet.rules.catalog import RULES
from safetynet.rules.catalog_warnings import WARNINGS
from safetynet.rules.coverage import sql
from safetynet.rules.registry import Row, Rule
from safetynet.warehouse.schema import (
    core_disposition,
    core_warning_disposition,
    mart_case_day,
    mart_warning_day,
)

CASE_COLUMNS = ["case_key", "rule_code", "status", "first_seen", "township_code",
                "household_id", "id_number", "name", "address", "summary", "evidence", "rule_version",
                "source_snapshot"]


@dataclass(frozen=True)
class Catalog:
    """A set of declarations evaluated together, and where their life and decisions are kept."""

    rules: tuple[Rule, ...]
    table: Table  # one row per report date and key, with its life
    decisions: Table  # the decisions returned on them
    suppressing: str  # the outcome that keeps an item out of the reports while its evidence holds


CASES = Catalog(RULES, mart_case_day, core_disposition, CASE_DECISIONS.suppressing)
WARNING_CATALOG = Catalog(WARNINGS, mart_warning_day, core_warning_disposition, WARNING_DECISIONS.suppressing)
CATALOGS = (CASES, WARNING_CATALOG)
EVERY_RULE: tuple[Rule, ...] = RULES + WARNINGS


def run_rule(conn: Connection, rule: Rule, params: dict, townships: dict[str, str],
              snapshot: str, query: str) -> pd.DataFrame:
    """One rule's cases for D: one row per case key, with its evidence JSON and summary.

    The case's household, ID, name and address are those of its first row: the
    case's household (rows come sorted by household, nulls last), so a person in
    several households shows the address of the household the case names, and a
    case without a household (allowances only) has no address.
    """
    with stage(f"rule {rule.code}", unit="detail rows") as st:
        frame = pd.read_sql(sql(query), conn, params=params)
        st.advance(len(frame))
        # pandas' sort is stable: rows of a case and household keep the query's order
        frame = frame.sort_values(["case_key", "household_id"], na_position="last")
        cases = []
        for key, group in groupby(plain_rows(frame), key=itemgetter("case_key")):
            if key is None:  # a row without a case key belongs to no case
                continue
            rows = list(group)
            head = rows[0]
            evidence = rule.evidence(rows)
            cases.append({
                "case_key": key, "rule_code": rule.code,
                "township_code": townships.get(str(head["region_code"])),
                "household_id": head["household_id"],
                "id_number": head["id_number"], "name": head["name"],
                "address": head.get("address"),
                "summary": rule.summary(evidence),
                "evidence": json.dumps(evidence, ensure_ascii=False, sort_keys=True, default=str),
                "rule_version": rule.version, "source_snapshot": snapshot,
            })
        st.result = f"{len(cases):,} cases from {len(frame):,} detail rows"
    return pd.DataFrame(cases, columns=[c for c in CASE_COLUMNS if c not in ("status", "first_seen")])


def plain_rows(frame: pd.DataFrame) -> list[Row]:
    """A query result as plain rows (``registry.Row``), converted column by column.

    Nulls (None, NaN, NaT) become None; numbers become Python ``int``/``float``;
    datetimes and date objects become ``'YYYY-MM-DD'``; text stays as read.
    """
    names = [str(c) for c in frame.columns]
    columns = [_plain_column(frame[c]) for c in frame.columns]
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]


def _plain_column(series: pd.Series) -> list[Any]:
    if series.dtype.kind == "M":
        series = series.dt.strftime("%Y-%m-%d")
    out = series.to_numpy(dtype=object, na_value=None).tolist()
    if series.dtype == object:  # what the driver returned as is: date objects on PostgreSQL
        out = [_plain(v) for v in out]
    return out


def _plain(v: Any) -> Any:
    if v is None or isinstance(v, str):
        return v
    if hasattr(v, "isoformat"):
        return v.isoformat()[:10]
    if hasattr(v, "item"):  # a numpy scalar
        return v.item()
    return v
