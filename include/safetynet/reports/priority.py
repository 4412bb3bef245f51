"""A priority for each case of the day (优先级): which leads to verify first.

Like the recommended filters of established matching programmes (the UK's
National Fraud Initiative, the US Do Not Pay portal), the day's cases are ranked
1, 2, … by, in order:

1. **severity** (高 before 中 before 低);
2. **money at risk**, largest first: for R01 the payments made after the death
   (or, when payments of that kind are not in the source, the monthly amount ×
   the months since the death); for every other case the monthly amount × the
   months since the benefit began, as of the report date; unknown counts as 0;
3. **strength of the link**: a case found by ID number before one found by
   address only (utility accounts linked by address);
4. the case key, so the order is the same on every run.

RESOLVED cases come last (nothing left to verify). The rank is a guide for the
order of work, never a finding.
"""

from __future__ import annotations

import json
from datetime import date

import pandas as pd

from safetynet.rules.registry import SEVERITY_ORDER


def months_between(start: str | None, d: date) -> int:
    """Whole calendar months from ``start`` (ISO date) to D, at least 0; 0 when unknown."""
    if not start:
        return 0
    s = date.fromisoformat(str(start)[:10])
    return max(0, (d.year - s.year) * 12 + d.month - s.month)


def money_at_risk(rule_code: str, evidence: dict, d: date) -> float:
    """What may have been paid wrongly, in yuan, from the case's evidence (0 when unknown)."""
    monthly = float(evidence.get("monthly_amount") or 0)
    if rule_code == "R01":
        paid = (evidence.get("payments_after_death") or {}).get("sum") or 0
        if paid or evidence.get("allowance_payments_in_source") is not False:
            return float(paid)
        return monthly * months_between(evidence.get("death_date"), d)
    return monthly * months_between(evidence.get("benefit_from"), d)


def link_strength(evidence: dict) -> int:
    """0 when the case stands on an ID number, 1 when only on an address (or on nothing)."""
    if evidence.get("linked_by") == "id_number":
        return 0
    accounts = evidence.get("accounts") or []
    return 0 if any("id_number" in (a.get("linked_by") or []) for a in accounts) else 1


def priorities(cases: pd.DataFrame, d: date) -> pd.Series:
    """The rank of every case (1 = first to verify), aligned with ``cases``' index."""
    if cases.empty:
        return pd.Series([], dtype="int64", index=cases.index)
    evidence = [json.loads(e) if isinstance(e, str) and e else {} for e in cases["evidence"]]
    key = pd.DataFrame({
        "resolved": (cases["status"] == "RESOLVED").astype(int).to_numpy(),
        "severity": cases["severity"].map(SEVERITY_ORDER).fillna(9).to_numpy(),
        "money": [-money_at_risk(r, ev, d) for r, ev in zip(cases["rule_code"], evidence, strict=True)],
        "link": [link_strength(ev) for ev in evidence],
        "case_key": cases["case_key"].to_numpy(),
    }, index=cases.index)
    order = key.sort_values(["resolved", "severity", "money", "link", "case_key"], kind="stable").index
    return pd.Series(range(1, len(order) + 1), index=order, dtype="int64").reindex(cases.index)
