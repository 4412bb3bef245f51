"""The rule declaration: adding a rule means adding one ``Rule`` to the catalog.

A rule's query returns *detail rows*, several per case where the evidence is a
list (households, units, months). Every query returns ``case_key``,
``id_number``, ``name``, ``household_id`` and ``region_code``; the engine groups
rows by ``case_key`` and the rule's ``evidence`` turns a case's rows into JSON.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}


@dataclass(frozen=True)
class Rule:
    """One match rule (rules.md): identity, severity, subject, query, evidence, wording."""

    code: str
    name: str
    name_zh: str
    severity: str
    subject: str  # person | household | record
    query: str
    evidence: Callable[[pd.DataFrame], dict]
    summary: Callable[[dict], str]
    version: str = "1"

    @property
    def label(self) -> str:
        """The rule name as shown in the extract (``DECEASED_BENEFICIARY 死亡仍享受待遇``)."""
        return f"{self.name} {self.name_zh}"


def values(rows: pd.DataFrame, column: str) -> list:
    """Distinct non-null values of a detail column, sorted, as plain Python values."""
    out = rows[column].dropna().unique().tolist()
    return sorted(_plain(v) for v in out)


def _plain(v: object) -> object:
    if hasattr(v, "isoformat"):
        return v.isoformat()[:10]  # type: ignore[attr-defined]
    if hasattr(v, "item"):
        return v.item()  # type: ignore[attr-defined]
    return v


def records(rows: pd.DataFrame, columns: list[str]) -> list[dict]:
    """Distinct detail records with the given columns, sorted, JSON-ready."""
    part = rows[columns].drop_duplicates()
    out = [{c: (None if pd.isna(v) else _plain(v)) for c, v in zip(columns, r, strict=True)}
           for r in part.itertuples(index=False, name=None)]
    return sorted(out, key=lambda r: [str(r[c]) for c in columns])


def units(rows: pd.DataFrame) -> list[dict]:
    """Property evidence: each distinct unit once with use, area and location."""
    return records(rows.drop_duplicates("unit_no"), ["unit_no", "use", "area", "location"])


def utility_evidence(rows: pd.DataFrame) -> dict:
    """Accounts (with how each was linked) and the household's monthly totals per source."""
    accounts = rows.groupby(["source", "account_no"], sort=True).agg(
        by_id=("by_id", "max"), by_address=("by_address", "max"))
    linked = [{"source": s, "account_no": a,
               "linked_by": [k for k, f in (("id_number", i), ("address", ad)) if f]}
              for (s, a), i, ad in zip(accounts.index, accounts["by_id"], accounts["by_address"],
                                       strict=True)]
    monthly: dict[str, dict[str, float]] = {}
    for (source, month), total in rows.groupby(["source", "month"], sort=True)["usage"].sum().items():
        monthly.setdefault(source, {})[month] = round(float(total), 2)
    mean = {s: round(sum(m.values()) / len(m), 2) for s, m in monthly.items()}
    return {"accounts": linked, "monthly": monthly, "mean": mean}


def problem_code(row: pd.Series) -> str:
    """Why an ID is invalid: its structural problem, else a birth date after D."""
    return str(row["id_problem"]) if not pd.isna(row["id_problem"]) else "future_birth"


def age_on(birth: str, on: str) -> int:
    """Age in whole years on a date (ISO strings)."""
    b, d = birth[:10], on[:10]
    return int(d[:4]) - int(b[:4]) - (1 if d[5:] < b[5:] else 0)
