"""Which rules an evaluation must run over everyone, and which only over what changed.

A rule's result for one subject — a person (ID number), a household, or an
allowance record — depends on that subject's rows, on D, and on the parameters
the rule reads. Between D's predecessor P and D, a rule is evaluated in full when
its *signature* changed (its version, its query, a parameter other than D: a
utility window that moved, a snapshot now in force, a threshold) or a table it
reads was written whole (``warehouse/changes.py``). Otherwise it is *scoped*: its
items for the subjects in scope are evaluated afresh and its other items are
carried from P as they were.

The scope is every subject a change since P's evaluation touched, plus every
subject with a date that D's passing can flip: a date column, or a date shifted
by the breadwinner window, between P's eve and D's morrow, and a birthday (ages)
in that span. It is then closed over the links between subjects — a household's
members, an allowance's holder, a market entity's people, a cadre's declared
relatives — so that every subject in scope brings all its rows
(docs/over-time.md, "Incremental evaluation"). A full evaluation on demand
(``full=True``, or ``SAFETYNET_FULL_EVALUATION=1``) gives the same items; a test
checks that on every day of a timeline.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import Connection, text

from safetynet import __version__
from safetynet.rules.coverage import COVERAGE_SQL
from safetynet.rules.registry import Rule
from safetynet.rules.subjects import subjects_in_scope
from safetynet.warehouse.changes import changed_tables, usable
from safetynet.warehouse.schema import meta_evaluation

DAY_PARAMS = frozenset({"d", "elderly_cutoff", "breadwinner_from"})
"""Parameters that move with D every day: the date edges below stand for them in the scope."""
LARGEST_SHARE, SMALL = 0.3, 1000
"""A scope over more households than this share of the active ones (and more than ``SMALL``) is
evaluated in full: cheaper than restricting everything to almost everyone."""


NARROW = re.compile(r"/\* in scope: (id|household|allowance) ([\w.]+) \*/")
"""Where a rule's query may be narrowed to the subjects in scope (a comment, so no-op in full)."""


def narrowed(query: str) -> str:
    """``query`` for a scoped evaluation: each ``/* in scope: <kind> <column> */`` becomes a
    condition that ``<column>`` is a subject of that kind in scope (``tmp_scope``)."""
    return NARROW.sub(lambda m: f"AND {m[2]} IN (SELECT key FROM tmp_scope WHERE kind = '{m[1]}')", query)


def coverage_of(rules: list[Rule]) -> tuple[str, ...]:
    """The coverage tables the rules read, directly or through other coverage tables, in build order."""
    pending, seen = [r.query for r in rules], set()
    while pending:
        for name in re.findall(r"\btmp_\w+", pending.pop()):
            if name in COVERAGE_SQL and name not in seen:
                seen.add(name)
                pending.append(COVERAGE_SQL[name])
    return tuple(n for n in COVERAGE_SQL if n in seen)


def reads(rule: Rule) -> tuple[set[str], set[str], str]:
    """The tables, parameters and SQL a rule reads, through the coverage tables it uses."""
    sql = "\n".join([rule.query, *(COVERAGE_SQL[n] for n in coverage_of([rule]))])
    tables = set(re.findall(r"\b(?:core|ref|int)_\w+", sql)) | {"ref_region"}  # townships: every case
    return tables, set(re.findall(r"(?<![:\w]):(\w+)", sql)), sql


def day_columns(rules: list[Rule]) -> dict[str, set[str]]:
    """The columns the rules compare with D or a date D moves, each with those parameters: every
    name on a line of their SQL that holds a daily parameter. Such a comparison is written on one
    line (a test checks the catalog); a name caught by mistake only widens the scope."""
    day = re.compile(r"(?<![:\w]):(" + "|".join(sorted(DAY_PARAMS)) + r")\b")
    out: dict[str, set[str]] = {}
    for rule in rules:
        for line in reads(rule)[2].splitlines():
            if found := set(day.findall(line)):
                for name in re.findall(r"\w+", line):
                    out.setdefault(name, set()).update(found)
    return out


def _code() -> str:
    """A digest of the rules' code (evidence and summaries are Python): any change, any upgrade,
    evaluates every rule in full once."""
    digest = hashlib.sha256(__version__.encode())
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def signatures(rules: list[Rule], params: dict) -> dict[str, str]:
    """Each rule's signature on D: a digest of its version, SQL, code and non-daily parameters."""
    out, code = {}, _code()
    for rule in rules:
        _, used, sql = reads(rule)
        body = {"version": rule.version, "sql": sql, "code": code,
                "params": {p: params.get(p) for p in sorted(used - DAY_PARAMS)}}
        out[rule.code] = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
    return out


@dataclass
class Plan:
    """D's evaluation: the rules run in full, the rules run over the scope, and the scope."""

    full: set[str]
    scoped: set[str] = field(default_factory=set)
    scope: dict[str, set[str]] = field(default_factory=dict)  # subject kind -> keys
    previous: tuple[date | None, str | None] = (None, None)  # P and its evaluation's mark, when scoped


def plan(conn: Connection, create: str, d: date, previous: date | None, rules: list[Rule],
         signed: dict[str, str], window_days: int) -> Plan:
    """Decide D's evaluation against P's record (everything in full without one)."""
    everything = Plan({r.code for r in rules})
    if previous is None or not 0 < (d - previous).days < 366:
        return everything
    row = conn.execute(meta_evaluation.select().where(meta_evaluation.c.report_date == previous)).first()
    if row is None or not row.mark or not usable(conn, row.mark):
        return everything
    before, whole = json.loads(row.signatures or "{}"), changed_tables(conn, row.mark)
    full = {r.code for r in rules if before.get(r.code) != signed[r.code] or reads(r)[0] & whole}
    if full == everything.full:
        return everything
    scoped = [r for r in rules if r.code not in full]
    # and the full rules that link utility readings: their link is reused for households out of scope
    linking = [r for r in rules if r.code in full and "tmp_utility_link" in coverage_of([r])]
    read = set().union(*(reads(r)[0] for r in scoped + linking))
    scope = subjects_in_scope(conn, create, row.mark, (previous, d, window_days), read,
                              day_columns(scoped + linking))
    active = conn.execute(text("SELECT COUNT(*) FROM core_household WHERE status = 'ACTIVE'")).scalar() or 0
    if len(scope["household"]) > max(SMALL, LARGEST_SHARE * active):
        return everything
    return Plan(full, {r.code for r in rules} - full, scope, (previous, row.mark))
