"""Hardship warnings H01–H04 in expected_cases.json: planted at their boundaries, independent,
recomputed from the delivered files (H03, H04), and the twelve rules' cases left as they were."""

from __future__ import annotations

import ast
import csv
import dataclasses
import hashlib
import io
import json
import sqlite3
from collections import Counter, defaultdict
from datetime import date, timedelta
from pathlib import Path

import pytest
from gen_normalise import SEED, D, N, norm_addr, norm_id, parse_date

from safetynet.generate import reference_coverage, reference_warnings
from safetynet.generate.build import check_planted
from safetynet.generate.world import World

WARNINGS = ["H01", "H02", "H03", "H04"]
CASES_SHA256 = {(11, 500, "2026-11-20"): "9667a7f73f5001f753a834360f58edfb78df218d0c9dc6986872c9cf5c223a6b"}
"""(seed, households, D) → sha256 of the expected cases (``json.dumps(cases, sort_keys=True,
ensure_ascii=False)``) as generated before the medical source and the warnings existed: adding
them must not change a single expected case."""


@pytest.fixture(scope="module")
def expected(deployment: Path) -> dict:
    return json.loads((deployment / "expected_cases.json").read_text("utf-8"))


def test_layout(expected: dict) -> None:
    assert list(expected)[:5] == ["report_date", "seed", "households", "cases", "warnings"]
    assert list(expected["warnings"]) == WARNINGS
    for keys in expected["warnings"].values():
        assert keys == sorted(set(keys)) and keys
    for w in ("H01", "H02"):
        assert all(norm_id(k[4:], D) == k[4:] for k in expected["warnings"][w])
    for w in ("H03", "H04"):
        assert all(k[4:].startswith(("DB", "TK")) for k in expected["warnings"][w])


def test_cases_unchanged(expected: dict) -> None:
    text = json.dumps(expected["cases"], sort_keys=True, ensure_ascii=False)
    assert hashlib.sha256(text.encode("utf-8")).hexdigest() == CASES_SHA256[(SEED, N, D.isoformat())]


def test_planted_warnings_and_near_misses(expected: dict) -> None:
    c = Counter((p["rule"], p["kind"]) for p in expected["planted"] if p["rule"] in WARNINGS)
    assert all(c[(w, "warning")] >= 5 and c[(w, "near_miss")] >= 5 for w in WARNINGS), c
    found = {k for keys in (*expected["cases"].values(), *expected["warnings"].values()) for k in keys}
    for p in expected["planted"]:
        if p["rule"] in WARNINGS:
            assert p["key"].startswith(p["rule"] + ":")
            assert (p["key"] in expected["warnings"][p["rule"]]) == (p["kind"] == "warning"), p
            assert p["kind"] == "warning" or p["key"] not in found, p


def test_planted_warnings_raise_no_case(expected: dict) -> None:
    """No planted warning's subject (person or household) is the subject of any case."""
    subjects = {k.split(":")[1] for keys in expected["cases"].values() for k in keys}
    for p in expected["planted"]:
        if p["rule"] in WARNINGS:
            assert p["key"].split(":")[1] not in subjects, p


@pytest.mark.parametrize(("code", "kind", "words"), [
    ("H01", "warning", ["exactly 10,000.00", "exactly 26,000.00", "window's first day",
                        "thousands separator", "full-width", "allowance holder"]),
    ("H01", "near_miss", ["9,999.99", "25,999.99", "between the thresholds", "month before the window",
                          "unfinished month", "wrong check character", "delivered twice",
                          "next month's file", "impossible birth date", "SUSPENDED", "left"]),
    ("H02", "warning", ["holding nothing", "exempt", "one standing 住宅", "cancelled on D", "ended 30 days",
                        "DIRECTOR", "payroll ended the day before D", "left their household",
                        "SUSPENDED"]),
    ("H02", "near_miss", ["active member", "小型轿车", "two standing 住宅", "standing 商业",
                          "open public payroll", "payroll ends on D", "standing LEGAL_REP",
                          "allowance ended on D", "ended 10 days", "DISABILITY_LIVING", "day after D"]),
    ("H03", "warning", ["aged 80", "exactly 75", "dirty address", "member's ID", "unfinished",
                        "0.5 kWh in the month before", "left the household"]),
    ("H03", "near_miss", ["aged 74", "two active members", "latest two months",
                          "no reading in the month before", "no reading in the latest",
                          "0.5 kWh in the latest", "SUSPENDED"]),
    ("H04", "warning", ["30 days before D", "exactly 90 days", "day before D", "aged 59", "aged 18",
                        "exactly 60 on D", "aged 17 (18th birthday the day after D)", "legacy 15",
                        "left the household on the death date"]),
    ("H04", "near_miss", ["91 days", "death on D", "aged 60 at death", "aged 17 at death",
                          "aged 65", "all aged 18–59", "TERMINATED", "day before the death",
                          "wrong check character", "child left"]),
])
def test_boundaries_planted(expected: dict, code: str, kind: str, words: list[str]) -> None:
    said = " | ".join(p["what"] for p in expected["planted"] if p["rule"] == code and p["kind"] == kind)
    for word in words:
        assert word in said, word


@pytest.mark.parametrize("module", [reference_warnings, reference_coverage])
def test_reference_is_independent(module: object) -> None:
    tree = ast.parse(Path(module.__file__).read_text("utf-8"))  # type: ignore[attr-defined]
    mods = [n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    mods += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert not [m for m in mods if m and m.startswith("safetynet")]


def _elec(world: World) -> tuple:
    return (world.tables["elec"], world.elec_read, [*world.months, world.d_month], world.months)


def test_unfinished_month_and_optional_sources(world: World) -> None:
    full = reference_warnings.evaluate(world.tables, _elec(world), world.months, D)
    assert full == world.warnings
    wrong = reference_warnings.evaluate(world.tables, _elec(world), [*world.months, world.d_month], D)
    unfinished = [p["key"] for p in world.planted if p["rule"] == "H01" and "unfinished" in p["what"]]
    assert unfinished and set(unfinished) <= set(wrong["H01"]) - set(full["H01"])
    for drop, gone in ((("medical",), ["H01"]), (("vehicles",), ["H02"]), (("roles",), ["H02"])):
        t = {k: v for k, v in world.tables.items() if k not in drop}
        got = reference_warnings.evaluate(t, _elec(world), world.months, D)
        assert list(got) == [w for w in WARNINGS if w not in gone]
        assert got == {w: full[w] for w in got}


def test_truth_sums_exactly(world: World) -> None:
    med = world.tables["medical"]
    assert (med["total"] == med["fund"] + med["self"]).all() and (med[["fund", "self"]] >= 0).all().all()
    assert med["settlement_no"].is_unique and str(med["self"].dtype) == "int64"


def _civil(deployment: Path) -> tuple[set, dict, list]:
    """Active households (with normalised addresses), their active members, all member rows."""
    con = sqlite3.connect(deployment / "sources" / "civil_affairs.db")
    act = {h: norm_addr(a) for h, s, ap, t, a in con.execute(
        "SELECT household_id, status, approved_on, terminated_on, address FROM sa_household")
        if s == "ACTIVE" and parse_date(ap) <= D and (t is None or parse_date(t) > D)}
    rows = list(set(con.execute("SELECT household_id, id_number, name, relation, joined_on, left_on, "
                                "updated_at FROM sa_member")))  # whole-row duplicates once
    members = defaultdict(list)
    for h, i, _, _, j, lft, _ in rows:
        if h in act and parse_date(j) <= D and (lft is None or parse_date(lft) > D):
            members[h].append(norm_id(i, D))
    return set(act), {"addr": act, "members": members}, rows


def _age(pid: str, on: date) -> int:
    b = date(int(pid[6:10]), int(pid[10:12]), int(pid[12:14]))
    return on.year - b.year - ((on.month, on.day) < (b.month, b.day))


def test_h03_from_the_files(deployment: Path, expected: dict) -> None:
    act, civ, _ = _civil(deployment)
    by_id: dict[str, set[str]] = defaultdict(set)
    for h, ps in civ["members"].items():
        for p in ps:
            if p:
                by_id[p].add(h)
    by_addr = {a: h for h, a in civ["addr"].items()}
    use: dict[str, dict[str, float]] = defaultdict(dict)
    for month in ("202609", "202610"):
        text = (deployment / "drop" / "power" / f"DL_{month}.csv").read_bytes().decode("gb18030")
        for r in {tuple(x) for x in list(csv.reader(io.StringIO(text)))[1:]}:
            homes = by_id.get(norm_id(r[2], D) or "", set()) | {by_addr.get(norm_addr(r[3]))} - {None}
            for h in homes:
                kwh = float(r[5].strip().replace(",", ""))
                use[h][month] = use[h].get(month, 0.0) + kwh
    h03 = {f"H03:{h}" for h in act if len(civ["members"][h]) == 1 and civ["members"][h][0]
           and _age(civ["members"][h][0], D) >= 75 and use[h].get("202610") == 0
           and use[h].get("202609", 0) > 0}
    assert h03 == set(expected["warnings"]["H03"])


def test_h04_from_the_database(deployment: Path, expected: dict) -> None:
    act, civ, rows = _civil(deployment)
    con = sqlite3.connect(deployment / "sources" / "civil_affairs.db")
    h04 = set()
    for i, d in con.execute("SELECT id_number, death_date FROM sa_cremation"):
        who, died = norm_id(i, D), parse_date(d)
        if not who or not (D - timedelta(days=90) <= died < D) or not 18 <= _age(who, died) <= 59:
            continue
        for h, m, _, _, j, lft, _ in rows:
            if (norm_id(m, D) == who and h in act and parse_date(j) <= died
                    and (lft is None or parse_date(lft) >= died)
                    and any(o and o != who and (_age(o, D) < 18 or _age(o, D) >= 60)
                            for o in civ["members"][h])):
                h04.add(f"H04:{h}")
    assert h04 == set(expected["warnings"]["H04"])


def test_check_planted_catches_a_missing_and_a_raised_warning(world: World) -> None:
    check_planted(world)
    without = dataclasses.replace(world, warnings={w: v for w, v in world.warnings.items() if w != "H03"})
    with pytest.raises(AssertionError, match="missing"):
        check_planted(without)
    near = next(p for p in world.planted if p["rule"] == "H02" and p["kind"] == "near_miss")
    raised = dataclasses.replace(world, warnings={**world.warnings,
                                                  "H02": [*world.warnings["H02"], near["key"]]})
    with pytest.raises(AssertionError, match="raised"):
        check_planted(raised)
