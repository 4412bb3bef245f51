"""Planted cases and near misses are present, at the boundaries, and agree with `cases`."""

from __future__ import annotations

import ast
import csv
import dataclasses
import io
import json
import sqlite3
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from gen_normalise import SEED, D, N, norm_id, parse_date

from safetynet.generate import reference
from safetynet.generate.build import check_planted, run_reference
from safetynet.generate.world import World

RULES = [f"R{i:02d}" for i in range(1, 13)]
GONE = {"转出", "注销", "报废", "被盗抢"}
EXEMPT_KINDS = {"普通摩托车", "轻便摩托车", "低速车"}


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
    for p in (p for p in expected["planted"] if p["rule"] in RULES):  # warnings: test_gen_warnings
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
    for r in ("R01", "R02", "R03", "R05", "R08", "R10", "R11", "R12"):
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


def _r11_from_file(deployment: Path, members: set) -> set:
    """R11 from the newest snapshot dated on or before D, read with our own parser."""
    snaps = sorted(p for p in (deployment / "drop" / "vehicles").glob("JDC_*.csv")
                   if p.stem[4:] <= f"{D:%Y%m%d}" and p.with_name(p.name + ".ok").exists())
    text = snaps[-1].read_bytes().decode("utf-8-sig")
    out = set()
    for r in csv.DictReader(io.StringIO(text)):
        n = norm_id(r["身份证明号码"], D)
        if (r["身份证明名称"] == "居民身份证" and n in members and parse_date(r["初次登记日期"]) <= D
                and r["机动车状态"] not in GONE and "残疾人专用" not in r["车辆类型"]
                and r["号牌种类"] not in EXEMPT_KINDS):
            out.add(f"R11:{n}")
    return out


def _r12_from_db(deployment: Path, members: set) -> set:
    """R12 from business.db, read with our own parser."""
    con = sqlite3.connect(deployment / "sources" / "business.db")
    operating = {c for c, s, e, x in con.execute(
        "SELECT credit_code, status, established_on, closed_on FROM mr_entity")
        if s == "OPERATING" and parse_date(e) <= D and (x is None or parse_date(x) > D)}
    out = set()
    for c, i, role, f, t in con.execute("SELECT credit_code, id_number, role, from_on, to_on "
                                        "FROM mr_role"):
        n = norm_id(i, D)
        if (c in operating and n in members and role in ("LEGAL_REP", "OPERATOR", "SHAREHOLDER")
                and parse_date(f) <= D and (t is None or parse_date(t) > D)):
            out.add(f"R12:{n}")
    return out


def test_files_agree_with_reference_for_vehicles_and_business(deployment: Path,
                                                              expected: dict) -> None:
    """R11 and R12 recomputed from the delivered snapshot and database."""
    mem, _, _, _ = _active(deployment)
    members = {norm_id(i, D) for _, i in mem} - {None}
    assert _r11_from_file(deployment, members) == set(expected["cases"]["R11"])
    assert _r12_from_db(deployment, members) == set(expected["cases"]["R12"])


def test_optional_sources_absent_means_rules_absent(world: World) -> None:
    e_lab = [*world.months, world.d_month]
    elec = (world.tables["elec"], world.elec_read, e_lab, world.months)
    water = (world.tables["water"], world.water_read, world.months, world.months)
    full = reference.evaluate(world.tables, elec, water, D)
    assert list(full) == RULES and full == world.cases
    for drop, gone in ((("vehicles",), ["R11"]), (("entities", "roles"), ["R12"]),
                       (("roles",), ["R12"]), (("vehicles", "entities", "roles"), ["R11", "R12"])):
        t = {k: v for k, v in world.tables.items() if k not in drop}
        got = reference.evaluate(t, elec, water, D)
        assert list(got) == [r for r in RULES if r not in gone], drop
        assert got == {r: full[r] for r in got}
        assert reference.evaluated(t) == list(got)


def test_r11_and_r12_inventory(world: World) -> None:
    """Every boundary of "held"/"exempt" and "operates"/"stands" is planted."""
    what = {(p["rule"], p["kind"], p["what"]) for p in world.planted}
    near = " | ".join(w for r, k, w in what if k == "near_miss" and r == "R11")
    for word in ("残疾人专用", "普通摩托车", "轻便摩托车", "低速车", "注销", "报废", "转出", "被盗抢",
                 "the day after D", "统一社会信用代码", "left the household", "older snapshot",
                 "wrong check"):
        assert word in near, word
    cases = " | ".join(w for r, k, w in what if k == "case" and r == "R11")
    for word in ("查封", "达到报废标准", "legacy 15", "full-width", "on D"):
        assert word in cases, word
    near = " | ".join(w for r, k, w in what if k == "near_miss" and r == "R12")
    for word in ("DIRECTOR", "SUPERVISOR", "REVOKED", "CANCELLED", "closed_on is D", "ended on D",
                 "starts the day after D", "established the day after D", "SUSPENDED",
                 "wrong check"):
        assert word in near, word
    cases = " | ".join(w for r, k, w in what if k == "case" and r == "R12")
    for word in ("LEGAL_REP", "OPERATOR", "SHAREHOLDER", "no capital"):
        assert word in cases, word


def test_check_planted_catches_a_missing_rule_and_a_raised_near_miss(world: World) -> None:
    check_planted(world)
    without = dataclasses.replace(world, cases={r: v for r, v in world.cases.items() if r != "R11"})
    with pytest.raises(AssertionError, match="missing"):
        check_planted(without)
    near = next(p for p in world.planted if p["rule"] == "R12" and p["kind"] == "near_miss")
    raised = dataclasses.replace(world, cases={**world.cases, "R12": [*world.cases["R12"], near["key"]]})
    with pytest.raises(AssertionError, match="raised"):
        check_planted(raised)
