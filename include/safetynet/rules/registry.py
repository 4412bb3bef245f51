"""The rule declaration: adding a rule means adding one ``Rule`` to the catalog.

A rule's query returns *detail rows*, several per case where the evidence is a
list (households, units, months). Every query returns ``case_key``,
``id_number``, ``name``, ``household_id``, ``region_code`` and ``address`` (the
household's address as delivered, null without a household); the engine groups
rows by ``case_key`` and the rule's ``evidence`` turns a case's rows into JSON.

Evidence keys named in ``DESCRIPTIVE_KEYS`` describe a case without deciding it
(addresses, owners, amounts): they are left out of the fingerprint that
inspectors' EXPLAINED decisions are compared against.

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

DESCRIPTIVE_KEYS: frozenset[str] = frozenset({
    "supply_addresses",              # R06/R07: "<source>:<account_no>" -> supply address as delivered
    "allowances",                    # R01 (by allowance), R09 (allowance record): [{allowance_id, kind}]
    "allowance_kinds",               # R10: {allowance_id: kind}
    "allowance_payments_in_source",  # R01 covered by allowances only: false
    "owners",                        # R04: {unit_no: [member names]}
    "declarers",                     # R03: [{declarer_name, employer, post, relation, region}]
    "monthly_amount",                # every rule: the household's or the allowances' monthly amount
    "benefit_from",                  # every rule: the member's, household's or allowance's benefit start
})
"""Evidence keys added for reading (issue 17): never part of the evidence fingerprint."""

EARLIER_KEYS: dict[str, str] = {"allowances": "age_on_report_date", "benefit_from": "payroll"}
"""Descriptive key names an evidence already carried before issue 17, by a key marking that
evidence: R10's ``allowances`` (a list of IDs) and R02's ``benefit_from`` stay fingerprinted
where they were, so decisions taken on those cases hold."""

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


def descriptive_keys(evidence: dict) -> set[str]:
    """The keys of one evidence that are descriptive (left out of its fingerprint).

    A name in ``DESCRIPTIVE_KEYS`` is descriptive unless the evidence carries the
    marker of a rule that used that name before (``EARLIER_KEYS``).
    """
    return {k for k in evidence
            if k in DESCRIPTIVE_KEYS and not (k in EARLIER_KEYS and EARLIER_KEYS[k] in evidence)}


def coverage_facts(rows: Sequence[Row]) -> dict:
    """``monthly_amount`` and ``benefit_from`` of the case's subject (null when unknown).

    With a household (the case's, ``rows[0]``): the household's monthly amount and
    the earliest benefit start on its rows (a member's, or the household's for a
    household case). Without one: the sum of the monthly amounts of the case's
    allowances (each once) and their earliest start. Every rule query returns
    ``monthly_amount`` and ``benefit_from`` (and ``allowance_id`` where a case can
    have no household); rows built without them (by hand) give no facts.
    """
    head = rows[0]
    if "monthly_amount" not in head or "benefit_from" not in head:
        return {}
    if head.get("household_id") is not None:
        own = [r for r in rows if r.get("household_id") == head["household_id"]]
        starts = values(own, "benefit_from")
        return {"monthly_amount": head["monthly_amount"], "benefit_from": starts[0] if starts else None}
    held = [r for r in rows if r.get("allowance_id") is not None]
    held = first_rows(held, "allowance_id")
    amounts = [r["monthly_amount"] for r in held if r["monthly_amount"] is not None]
    starts = values(held, "benefit_from")
    return {"monthly_amount": round(math.fsum(amounts), 2) if amounts else None,
            "benefit_from": starts[0] if starts else None}


def allowance_records(rows: Iterable[Row]) -> list[dict]:
    """The case's allowances: ``[{allowance_id, kind}]``, sorted, rows without an allowance skipped."""
    return records((r for r in rows if r.get("allowance_id") is not None), ["allowance_id", "kind"])


def supply_addresses(rows: Iterable[Row]) -> dict[str, str]:
    """Each linked utility account's supply address as delivered: ``{"<source>:<account_no>": address}``.

    The address of the account's latest month in the window that has one (the
    smallest spelling where a month has several).
    """
    found: dict[str, tuple[str, str]] = {}
    for r in rows:
        if r["source"] is None or r["account_no"] is None or r["supply_address"] is None:
            continue
        key = f"{r['source']}:{r['account_no']}"
        candidate = (str(r["month"] or ""), str(r["supply_address"]))
        held = found.get(key)
        if held is None or candidate[0] > held[0] or (candidate[0] == held[0] and candidate[1] < held[1]):
            found[key] = candidate
    return {k: found[k][1] for k in sorted(found)}


def owners(rows: Iterable[Row]) -> dict[str, list[str]]:
    """Property owners among the active members: ``{unit_no: [member names, sorted]}``."""
    out: dict[str, set[str]] = {}
    for r in rows:
        if r["unit_no"] is not None:
            names = out.setdefault(str(r["unit_no"]), set())
            if r["owner_name"] is not None:
                names.add(r["owner_name"])
    return {unit: sorted(names) for unit, names in sorted(out.items())}
