"""The rule declaration: adding a rule means adding one ``Rule`` to the catalog.

A rule's query returns *detail rows*, several per case where the evidence is a
list (households, units, months). Every query returns ``case_key``,
``id_number``, ``name``, ``household_id`` and ``region_code``; the engine groups
rows by ``case_key`` and the rule's ``evidence`` turns a case's rows into JSON.

Evidence functions and the helpers below work on plain Python rows (see
``Row``), not on pandas: the engine converts a rule's whole result once, because
per-case pandas operations cost milliseconds each and a city has tens of
thousands of cases.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}

Row = dict[str, Any]
"""One detail row: column name to a plain value.

Values are ``str``, ``int``, ``float`` or ``None`` (null); dates read as date
objects (PostgreSQL) arrive as ``'YYYY-MM-DD'`` strings, dates stored as text
(SQLite) exactly as stored. A case's rows come sorted by household ID, nulls
last, and otherwise in the order the query returned them.
"""


@dataclass(frozen=True)
class Rule:
    """One match rule (rules.md): identity, severity, subject, query, evidence, wording."""

    code: str
    name: str
    name_zh: str
    severity: str
    subject: str  # person | household | record
    query: str
    evidence: Callable[[list[Row]], dict]
    summary: Callable[[dict], str]
    sources: tuple[str, ...]  # the sources its query reads: their snapshot ids go on every case
    version: str = "1"

    @property
    def label(self) -> str:
        """The rule name as shown in the extract (``DECEASED_BENEFICIARY 死亡仍享受待遇``)."""
        return f"{self.name} {self.name_zh}"


def values(rows: Iterable[Row], column: str) -> list:
    """Distinct non-null values of a detail column, sorted."""
    return sorted({r[column] for r in rows if r[column] is not None})


def first_rows(rows: Iterable[Row], column: str) -> list[Row]:
    """The first row for each distinct value of ``column`` (all nulls count as one value).

    The evidence keeps one row per household or unit where the query repeats them;
    which row is kept (the first) matters when the repeats differ in other columns.
    """
    seen: set = set()
    out = []
    for r in rows:
        key = r[column]
        if key not in seen:
            seen.add(key)
            out.append(r)
    return out


def records(rows: Iterable[Row], columns: list[str]) -> list[dict]:
    """Distinct detail records with the given columns, JSON-ready.

    Sorted by the text of each value (``None`` as ``'None'``), ties in first-seen
    order, so a record list does not depend on how the warehouse ordered rows.
    """
    seen: set[tuple] = set()
    distinct: list[tuple] = []
    for r in rows:
        record = tuple(r[c] for c in columns)
        if record not in seen:
            seen.add(record)
            distinct.append(record)
    distinct.sort(key=lambda record: [str(v) for v in record])
    return [dict(zip(columns, record, strict=True)) for record in distinct]


def units(rows: Iterable[Row]) -> list[dict]:
    """Property evidence: each distinct unit once with use, area and location.

    A unit registered twice with different spellings shows its smallest record
    (by text), so the evidence does not depend on the order the warehouse returns rows.
    """
    columns = ["unit_no", "use", "area", "location"]
    ordered = sorted(rows, key=lambda r: [str(r[c]) for c in columns])
    return records(first_rows(ordered, "unit_no"), columns)


def total(rows: Iterable[Row], column: str) -> float:
    """The sum of a numeric column's non-null values, exactly rounded.

    ``math.fsum`` does not depend on the order rows arrive in; amounts and
    readings carry at most two decimals, so the rounded sums published are the
    ones any summation order gives.
    """
    return math.fsum(r[column] for r in rows if r[column] is not None)


def utility_evidence(rows: Sequence[Row]) -> dict:
    """Accounts (with how each was linked) and the household's monthly totals per source.

    ``accounts`` is sorted by (source, account number); ``monthly`` maps each
    source to {month: total over its accounts}; ``mean`` is the mean of those
    rounded monthly totals. Rows with a null source, account or month are left
    out of the part they cannot be placed in.
    """
    links: dict[tuple[str, str], tuple[bool, bool]] = {}
    readings: dict[tuple[str, str], list[Row]] = {}
    for r in rows:
        source = r["source"]
        if source is None:
            continue
        if r["account_no"] is not None:
            by_id, by_address = links.get((source, r["account_no"]), (False, False))
            links[(source, r["account_no"])] = (by_id or bool(r["by_id"]),
                                                by_address or bool(r["by_address"]))
        if r["month"] is not None:
            readings.setdefault((source, r["month"]), []).append(r)
    accounts = [{"source": s, "account_no": a,
                 "linked_by": [k for k, f in (("id_number", i), ("address", ad)) if f]}
                for (s, a), (i, ad) in sorted(links.items())]
    monthly: dict[str, dict[str, float]] = {}
    for (source, month), month_rows in sorted(readings.items()):
        monthly.setdefault(source, {})[month] = round(total(month_rows, "usage"), 2)
    mean = {s: round(sum(m.values()) / len(m), 2) for s, m in monthly.items()}
    return {"accounts": accounts, "monthly": monthly, "mean": mean}


def problem_code(row: Row) -> str:
    """Why an ID is invalid: its structural problem, else a birth date after D."""
    return str(row["id_problem"]) if row["id_problem"] is not None else "future_birth"


def age_on(birth: str, on: str) -> int:
    """Age in whole years on a date (ISO strings)."""
    b, d = birth[:10], on[:10]
    return int(d[:4]) - int(b[:4]) - (1 if d[5:] < b[5:] else 0)
