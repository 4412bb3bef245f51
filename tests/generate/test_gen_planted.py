"""Planted cases and near misses are present, at the boundaries, and agree with `cases`."""

from __future__ import annotations

import ast
import json
import sqlite3
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from gen_normalise import SEED, D, N, norm_id, parse_date

from safetynet.generate import reference
from safetynet.generate.build import run_reference
from safetynet.generate.world import World

RULES = [f"R{i:02d}" for i in range(1, 11)]


@pytest.fixture(scope="module")
def expected(deployment: Path) -> dict:
    return json.loads((deployment / "expected_cases.json").read_text("utf-8"))


def test_header(expected: dict) -> None:
    assert list(expected)[:4] == ["report_date", "seed", "households", "cases"]
    assert (expected["report_date"], expected["seed"], expected["households"]) == (
        D.isoformat(), SEED, N)
    assert list(expected["cases"]) == RULES
    for keys in expected["cases"].values():
        assert keys == sorted(set(keys))


def test_every_rule_has_three_cases_and_near_misses(expected: dict) -> None:
    c = Counter((p["rule"], p["kind"]) for p in expected["planted"])
    for r in RULES:
        assert c[(r, "case")] >= 3, r
        assert c[(r, "near_miss")] >= 3, r


def test_planted_consistent_with_cases(expected: dict) -> None:
    allc = {k for keys in expected["cases"].values() for k in keys}
    for p in expected["planted"]:
        assert p["key"].startswith(p["rule"] + ":")
        if p["kind"] == "case":
            assert p["key"] in expected["cases"][p["rule"]], p
        else:
            assert p["key"] not in allc, p


def test_incidental_cases_exist(expected: dict) -> None:
    planted = {p["key"] for p in expected["planted"]}
    incidental = [k for keys in expected["cases"].values() for k in keys if k not in planted]
    assert len(incidental) > 20
    assert len({k[:3] for k in incidental}) >= 6  # several rules, not one


def test_key_shapes(expected: dict) -> None:
    for r in ("R01", "R02", "R03", "R05", "R08", "R10"):
        for k in expected["cases"][r]:
            assert norm_id(k[4:], D) == k[4:]
    for r in ("R04", "R06", "R07"):
        for k in expected["cases"][r]:
            assert k[4:].startswith(("DB", "TK"))
    for k in expected["cases"]["R09"]:
        _, _subject, delivered = k.split(":", 2)
        assert delivered == delivered.strip() and norm_id(delivered, D) is None


def test_unfinished_month_would_change_cases(world: World) -> None:
    wrong = run_reference(world, extra_elec_months=(world.d_month,))
    assert wrong["R06"] != world.cases["R06"]
    assert wrong["R07"] != world.cases["R07"]
    shifted = {p["key"] for p in world.planted if p["rule"] in ("R06", "R07")}
    right = set(world.cases["R06"]) | set(world.cases["R07"])
    assert (set(wrong["R06"]) | set(wrong["R07"])) & shifted != right & shifted


def test_reference_is_independent() -> None:
    tree = ast.parse(Path(reference.__file__).read_text("utf-8"))
    mods = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    mods += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert not [m for m in mods if m and m.startswith("safetynet")]


def _active(deployment: Path) -> tuple[list, list, set, dict]:
    """Active members and allowances read straight from the database with our own parser."""
    con = sqlite3.connect(deployment / "sources" / "civil_affairs.db")
    act_hh = {h for h, s, a, t in con.execute(
        "SELECT household_id, status, approved_on, terminated_on FROM sa_household")
        if s == "ACTIVE" and parse_date(a) <= D and (t is None or parse_date(t) > D)}
    mem = [(h, i) for h, i, j, lft in con.execute(
        "SELECT household_id, id_number, joined_on, left_on FROM sa_member")
        if h in act_hh and parse_date(j) <= D and (lft is None or parse_date(lft) > D)]
    al = [(a, i, k) for a, i, k, s, e in con.execute(
        "SELECT allowance_id, id_number, kind, start_on, end_on FROM sa_allowance")
        if parse_date(s) <= D and (e is None or parse_date(e) > D)]
    deaths = {}
    for i, d in con.execute("SELECT id_number, death_date FROM sa_cremation"):
        n = norm_id(i, D)
        if n:
            deaths[n] = parse_date(d)
    return mem, al, act_hh, deaths


def test_files_agree_with_reference_for_person_rules(deployment: Path, expected: dict) -> None:
    """R01, R08, R09, R10 recomputed from the delivered database with our own normaliser."""
    mem, al, _, deaths = _active(deployment)
    benef = {norm_id(i, D) for _, i in mem} | {norm_id(i, D) for _, i, _ in al}
    benef.discard(None)
    r01 = {f"R01:{n}" for n, d in deaths.items() if n in benef and d < D}
    hh_of: dict[str, set] = {}
    for h, i in mem:
        n = norm_id(i, D)
        if n:
            hh_of.setdefault(n, set()).add(h)
    r08 = {f"R08:{n}" for n, hs in hh_of.items() if len(hs) >= 2}
    r09 = {f"R09:{h}:{(i or '').strip()}" for h, i in mem if norm_id(i, D) is None}
    r09 |= {f"R09:{a}:{(i or '').strip()}" for a, i, _ in al if norm_id(i, D) is None}
    r10 = set()
    for _, i, k in al:
        n = norm_id(i, D)
        if k == "ELDERLY" and n:
            b = date(int(n[6:10]), int(n[10:12]), int(n[12:14]))
            if D.year - b.year - ((D.month, D.day) < (b.month, b.day)) < 80:
                r10.add(f"R10:{n}")
    assert r01 == set(expected["cases"]["R01"])
    assert r08 == set(expected["cases"]["R08"])
    assert r09 == set(expected["cases"]["R09"])
    assert r10 == set(expected["cases"]["R10"])
