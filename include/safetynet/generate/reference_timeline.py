"""Independent reference, part 2: each report date's expected extract over a timeline.

Must not import anything from ``safetynet`` (only its sibling reference modules,
relatively): it checks the pipeline, so it may not share its code. A
:class:`TimelineReference` is driven in the order things happen — deliveries,
acceptances and inbox files as the timeline makes them, and one :meth:`run` per
pipeline run — and answers, for that run, the cases that hold (``reference.evaluate``
over the truth in force), the rows the extract must show with their status and
``first_seen``, and the stale sources.

Case life (docs/over-time.md): the predecessor of D is the latest report date
before D evaluated before D was first evaluated, kept for re-runs. A case is NEW
when it did not hold on the predecessor, OPEN when it did, RESOLVED (one row,
``first_seen`` carried) on the first date after it stopped. ``first_seen`` follows
the chain. ``EXPLAINED`` decisions apply from the first report date after every
report published before their file was read: the date of the first run after the
file reached the inbox when that run is past all evaluated dates, else the day
after the latest evaluated date (a back-fill never applies a later decision), to cases that appeared
before, until ``suppress_until`` inclusive (empty: until the evidence changes —
the reference assumes it does not, so scenarios must keep to cases whose evidence
cannot change); a suppressed case still holds (it is OPEN when shown again).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import pandas as pd

from .reference import evaluate
from .reference_ledger import FILE_SOURCES, Ledger

OUTCOMES = {"CONFIRMED": "CONFIRMED", "EXPLAINED": "EXPLAINED", "UNDER_REVIEW": "UNDER_REVIEW",
            "属实": "CONFIRMED", "合理解释": "EXPLAINED", "核查中": "UNDER_REVIEW"}
"""Outcome codes and the Chinese labels accepted for them (outputs.md)."""
CIVIL = ("households", "members", "allowances", "cremations", "filings")
BUSINESS = ("entities", "roles")
"""The market registry's truth tables (read as they stand, like civil affairs)."""
OPTIONAL_SOURCES = ("vehicles", "business")


@dataclass(frozen=True)
class Decision:
    """One usable disposition row: case, outcome code, ``suppress_until``, row number."""

    case_key: str
    outcome: str
    suppress_until: date | None
    row: int


@dataclass(frozen=True)
class Row:
    """One expected row of the extract."""

    case_key: str
    rule: str
    status: str
    first_seen: date


@dataclass
class DayExpectation:
    """What one pipeline run for ``report_date`` must publish."""

    report_date: date
    predecessor: date | None
    holding: dict[str, list[str]]
    rows: dict[str, Row]
    suppressed: set[str]
    stale: list[str]

    def keys_by_rule(self) -> dict[str, list[str]]:
        """Shown case keys per rule (NEW, OPEN and RESOLVED rows), sorted; every evaluated rule
        present (a rule of an optional source that is not configured is absent)."""
        out: dict[str, list[str]] = {r: [] for r in self.holding}
        for r in self.rows.values():
            out[r.rule].append(r.case_key)
        return {k: sorted(v) for k, v in out.items()}

    def statuses(self) -> dict[str, str]:
        """Shown case key → status."""
        return {k: r.status for k, r in self.rows.items()}


@dataclass
class TimelineReference:
    """The reference's state along a timeline (see the module docstring)."""

    accounts: dict[str, pd.DataFrame]
    rules: dict | None = None
    volume_floor: float = 0.5
    optional: tuple[str, ...] = OPTIONAL_SOURCES
    ledger: Ledger = field(init=False)
    inbox: dict[str, list[Decision]] = field(default_factory=dict)
    decisions: list[tuple[date, str, Decision]] = field(default_factory=list)
    predecessor: dict[date, date | None] = field(default_factory=dict)
    holding: dict[date, set[str]] = field(default_factory=dict)
    first_seen: dict[date, dict[str, date]] = field(default_factory=dict)
    history: list[DayExpectation] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.ledger = Ledger(self.volume_floor)

    def place_dispositions(self, name: str, decisions: list[Decision]) -> None:
        """A dispositions file reaches the inbox (its usable rows); loaded by the next run."""
        self.inbox[name] = list(decisions)

    def ever(self) -> set[str]:
        """Every case key that held on some evaluation so far."""
        return set().union(*self.holding.values()) if self.holding else set()

    def _suppressed(self, d: date, hold: set[str]) -> set[str]:
        latest: dict[str, tuple[tuple[str, int], Decision]] = {}
        for loaded_for, name, dec in self.decisions:
            if loaded_for <= d and (dec.case_key not in latest
                                    or (name, dec.row) > latest[dec.case_key][0]):
                latest[dec.case_key] = ((name, dec.row), dec)
        return {k for k, (_, dec) in latest.items() if k in hold and dec.outcome == "EXPLAINED"
                and (dec.suppress_until is None or d <= dec.suppress_until)}

    def run(self, d: date, db: dict[str, pd.DataFrame], personnel_rows: dict[str, int]
            ) -> DayExpectation:
        """One pipeline run for report date ``d`` with the sources as they stand now.

        ``db`` holds the truth tables of the databases as they stand (civil
        affairs: households, members, allowances, cremations, filings; personnel:
        staff, cadres, relatives; business, when in ``optional``: entities, roles);
        ``personnel_rows`` the distinct rows of each personnel table (``hr_staff``,
        ``hr_village_cadre``, ``hr_relative``). The vehicle snapshot in force counts
        when ``vehicles`` is in ``optional`` (the configured optional sources).
        """
        stale = [] if self.ledger.run_personnel(db, personnel_rows) else ["personnel"]
        files = [s for s in FILE_SOURCES if s not in OPTIONAL_SOURCES or s in self.optional]
        stale += [s for s in files if not self.ledger.run_files(s, d)]
        t = {k: db[k] for k in CIVIL}
        t.update(self.ledger.personnel)
        t["property"] = self.ledger.property_in_force(d)
        if "vehicles" in self.optional:
            t["vehicles"] = self.ledger.vehicles_in_force(d)
        if "business" in self.optional:
            t.update({k: db[k] for k in BUSINESS})
        elec = self.ledger.utility_in_force("electricity", self.accounts["electricity"])
        water = self.ledger.utility_in_force("water", self.accounts["water"])
        cases = evaluate(t, elec, water, d, self.rules)
        ever = self.ever()
        head = max(self.holding, default=None)
        applies = d if head is None or d > head else head + timedelta(days=1)
        for name in sorted(self.inbox):  # a file loaded again replaces its earlier decisions
            self.decisions = [x for x in self.decisions if x[1] != name]
            self.decisions += [(applies, name, x) for x in self.inbox[name] if x.case_key in ever]
        self.inbox.clear()
        if d not in self.predecessor:
            self.predecessor[d] = max((x for x in self.holding if x < d), default=None)
        p = self.predecessor[d]
        prev = self.holding.get(p, set()) if p else set()
        prev_fs = self.first_seen.get(p, {}) if p else {}
        rule_of = {k: r for r, keys in cases.items() for k in keys}
        hold = set(rule_of)
        fs = {k: prev_fs[k] if k in prev else d for k in hold}
        self.holding[d], self.first_seen[d] = hold, fs
        hidden = self._suppressed(d, hold | prev)
        rows = {k: Row(k, rule_of[k], "OPEN" if k in prev else "NEW", fs[k])
                for k in hold - hidden}
        rows.update({k: Row(k, k.split(":", 1)[0], "RESOLVED", prev_fs[k])
                     for k in prev - hold - hidden})
        exp = DayExpectation(d, p, cases, rows, hidden & hold, sorted(stale))
        self.history.append(exp)
        return exp
