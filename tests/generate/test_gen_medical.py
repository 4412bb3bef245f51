"""The medical-insurance deliveries (sources.md §8): files, header, encoding, dirt and sums.

Read with the tests' own parser (``gen_normalise``), never the generator's: every
marked month file parses with the contract header, each settlement's total is
its fund payment plus its out-of-pocket part, every row sits in its file's month
except the planted misfiled one, and H01 recomputed from the files and the
civil-affairs database equals the reference's warnings.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from gen_normalise import DATE_RES, D, norm_id, parse_date

from safetynet.generate.world import World

HEADER = ["结算流水号", "证件号码", "姓名", "就诊类型", "结算日期", "医疗总费用", "基金支付", "个人自付"]
KINDS = {"住院", "门诊", "门诊慢特病", "药店购药"}
MONTHS = ["202511", "202512"] + [f"2026{m:02d}" for m in range(1, 11)]
FOLDER = Path("drop") / "medical"


def money(text: str) -> Decimal:
    """An amount as delivered (thousands separators, surrounding spaces) → Decimal."""
    s = text.strip().replace(",", "")
    assert re.fullmatch(r"\d+\.\d{2}", s), text
    return Decimal(s)


@pytest.fixture(scope="module")
def months(deployment: Path) -> dict[str, list[list[str]]]:
    """Rows (header first) of every medical file, by YYYYMM, read as UTF-8 CSV."""
    out = {}
    for path in sorted((deployment / FOLDER).glob("YB_*.csv")):
        raw = path.read_bytes()
        assert not raw.startswith(b"\xef\xbb\xbf") and b"\r" not in raw and raw.endswith(b"\n")
        out[path.stem[3:]] = list(csv.reader(io.StringIO(raw.decode("utf-8"))))
    return out


def test_one_file_per_delivered_month_and_the_unfinished_one(deployment: Path,
                                                             months: dict) -> None:
    assert sorted(months) == [*MONTHS, f"{D:%Y%m}"]
    folder = deployment / FOLDER
    for m in MONTHS:
        ok = folder / f"YB_{m}.csv.ok"
        assert ok.is_file() and ok.stat().st_size == 0
    assert not (folder / f"YB_{D:%Y%m}.csv.ok").exists()
    assert len(months[f"{D:%Y%m}"]) > 1  # written, unfinished: settlements up to D


def test_header_fields_and_values(months: dict) -> None:
    for m, rows in months.items():
        assert rows[0] == HEADER, m
        body = rows[1:]
        assert len(body) > 20 and all(len(r) == len(HEADER) for r in body), m
        assert {r[3] for r in body} <= KINDS
        for r in body:
            assert r[0].startswith("YB361103") and len(r[0]) == 24
            assert money(r[5]) == money(r[6]) + money(r[7]), r
            assert money(r[7]) >= 0 and money(r[6]) >= 0
    assert {r[3] for rows in months.values() for r in rows[1:]} == KINDS


def test_rows_sit_in_their_files_month_but_one_planted(months: dict, world: World) -> None:
    wrong = [(m, r[0]) for m, rows in months.items() for r in rows[1:]
             if f"{parse_date(r[4]):%Y%m}" != m]
    med = world.tables["medical"]
    misfiled = med[med["file_month"] != med["settled_on"].dt.year * 100 + med["settled_on"].dt.month]
    assert len(wrong) == len(misfiled) >= 1
    assert {n for _, n in wrong} == set(misfiled["settlement_no"])
    assert all(parse_date(r[4]) <= D for rows in months.values() for r in rows[1:])


def test_every_dirt_kind(months: dict) -> None:
    body = [r for m in MONTHS for r in months[m][1:]]
    ids = Counter()
    for v in (r[1] for r in body):
        compact = re.sub(r"\s", "", v)
        ids["empty"] += v == ""
        ids["spaces"] += bool(v) and (v != v.strip() or bool(re.search(r"\s", v.strip())))
        ids["fullwidth"] += bool(re.search(r"[０-９Ｘ]", v))
        ids["lower_x"] += v.strip().endswith("x")
        ids["legacy15"] += len(compact) == 15
        ids["invalid"] += bool(v) and norm_id(v, D) is None
    assert all(ids[k] > 0 for k in ("empty", "spaces", "fullwidth", "lower_x", "legacy15", "invalid"))
    assert sum(ids.values()) < 0.15 * len(body)
    names = [r[2] for r in body]
    assert any(" " in n.strip() for n in names) and any("\u3000" in n for n in names)
    styles = Counter(k for r in body for k, rx in DATE_RES.items() if rx.match(r[4]))
    assert all(styles[k] > 0 for k in DATE_RES) and sum(styles.values()) == len(body)
    amounts = [a for r in body for a in r[5:]]
    assert any(re.fullmatch(r"\d{1,3}(,\d{3})+\.\d{2}", a) for a in amounts)
    assert any(a != a.strip() for a in amounts)


def test_whole_row_duplicates_only(months: dict) -> None:
    dups = 0
    for rows in months.values():
        body = [tuple(r) for r in rows[1:]]
        dups += len(body) - len(set(body))
        numbers = [r[0] for r in set(body)]
        assert len(numbers) == len(set(numbers))  # a repeated number is a repeated row
    assert dups > 0
    every = [r[0] for rows in months.values() for r in {tuple(x) for x in rows[1:]}]
    assert len(every) == len(set(every))  # settlement numbers are unique across months


def _beneficiaries(deployment: Path) -> set[str]:
    """Active members' and active allowances' valid IDs, from the delivered database."""
    con = sqlite3.connect(deployment / "sources" / "civil_affairs.db")
    act = {h for h, s, a, t in con.execute(
        "SELECT household_id, status, approved_on, terminated_on FROM sa_household")
        if s == "ACTIVE" and parse_date(a) <= D and (t is None or parse_date(t) > D)}
    out = {norm_id(i, D) for h, i, j, lft in con.execute(
        "SELECT household_id, id_number, joined_on, left_on FROM sa_member")
        if h in act and parse_date(j) <= D and (lft is None or parse_date(lft) > D)}
    out |= {norm_id(i, D) for i, s, e in con.execute(
        "SELECT id_number, start_on, end_on FROM sa_allowance")
        if parse_date(s) <= D and (e is None or parse_date(e) > D)}
    return out - {None}


def test_h01_from_the_files_equals_the_reference(deployment: Path, months: dict) -> None:
    """Marked months only, whole-row duplicates once, rows outside their file's month dropped
    (quarantined), dated from 2025-12-01 to D, thresholds 10,000 / 26,000 inclusive."""
    spent: Counter = Counter()
    for m in MONTHS:
        for r in {tuple(x) for x in months[m][1:]}:
            on, who = parse_date(r[4]), norm_id(r[1], D)
            if who and f"{on:%Y%m}" == m and date(2025, 12, 1) <= on <= D:
                spent[who] += money(r[7])
    benef = _beneficiaries(deployment)
    h01 = {f"H01:{p}" for p, s in spent.items() if s >= (10000 if p in benef else 26000)}
    expected = json.loads((deployment / "expected_cases.json").read_text("utf-8"))
    assert h01 == set(expected["warnings"]["H01"])
    assert len(h01) > len([p for p in expected["planted"] if p["rule"] == "H01"
                           and p["kind"] == "warning"])  # incidental ones too
