"""Every dirt kind of sources.md occurs in the written files (counted from the files)."""

from __future__ import annotations

import csv
import io
import re
import sqlite3
from collections import Counter
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from gen_normalise import DATE_RES, D, norm_addr, norm_id

from safetynet.generate.world import World

FW = re.compile(r"[０-９Ｘ]")
CN_NUM = re.compile(r"[零一二两三四五六七八九十百]+(?:组|号|栋|单元|室|楼|层)")


def id_kinds(v: object) -> list[str]:
    """Dirt kinds visible in one delivered ID value."""
    if v is None or v == "":
        return ["empty"]
    s = str(v)
    out = []
    if s != s.strip() or re.search(r"\s", s.strip()):
        out.append("spaces")
    if FW.search(s):
        out.append("fullwidth")
    if s.strip().endswith("x"):
        out.append("lower_x")
    compact = re.sub(r"\s", "", s)
    if len(compact) == 15:
        out.append("legacy15")
    n = norm_id(s, D)
    if n is None and len(compact) == 18:
        import unicodedata
        c = unicodedata.normalize("NFKC", compact).upper()
        try:
            from datetime import date
            date(int(c[6:10]), int(c[10:12]), int(c[12:14]))
            out.append("wrong_check")
        except ValueError:
            out.append("bad_date")
    return out


@pytest.fixture(scope="module")
def files(deployment: Path) -> dict[str, list[list]]:
    """Rows of every delivery, as lists of values (header first)."""
    out: dict[str, list[list]] = {}
    for db in ("civil_affairs", "personnel", "business"):
        con = sqlite3.connect(deployment / "sources" / f"{db}.db")
        for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'"):
            cur = con.execute(f"SELECT * FROM {t}")
            out[t] = [[d[0] for d in cur.description], *map(list, cur.fetchall())]
    out["power"] = list(csv.reader(io.StringIO(
        (deployment / "drop/power/DL_202610.csv").read_bytes().decode("gb18030"))))
    out["water"] = [r.split("|") for r in (deployment / "drop/water/SS_202610.txt")
                    .read_text("utf-8").splitlines()]
    wb = openpyxl.load_workbook(deployment / "drop/property/BDC_QLR_20261120.xlsx", read_only=True)
    out["property"] = [list(r) for r in wb["权利人信息"].iter_rows(values_only=True)]
    out["vehicles"] = list(csv.reader(io.StringIO(
        (deployment / "drop/vehicles/JDC_20261120.csv").read_bytes().decode("utf-8-sig"))))
    return out


def col(rows: list[list], name: str) -> list:
    i = rows[0].index(name)
    return [r[i] for r in rows[1:]]


def test_id_dirt_in_every_kind(files: dict) -> None:
    total: Counter = Counter()
    member: Counter = Counter()
    for t, name in [("sa_member", "id_number"), ("sa_allowance", "id_number"),
                    ("sa_cremation", "id_number"), ("hr_staff", "id_number"),
                    ("hr_relative", "relative_id_number"), ("property", "证件号码"),
                    ("power", "证件号码"), ("water", "HOLDER_ID"), ("vehicles", "身份证明号码"),
                    ("mr_role", "id_number")]:
        for v in col(files[t], name):
            ks = id_kinds(v)
            total.update(ks)
            if t == "sa_member":
                member.update(ks)
    for k in ("spaces", "fullwidth", "lower_x", "legacy15", "wrong_check", "bad_date", "empty"):
        assert total[k] > 0, k
    for k in ("spaces", "fullwidth", "legacy15", "wrong_check", "empty"):
        assert member[k] > 0, k
    n_member = len(files["sa_member"]) - 1
    assert sum(member.values()) < 0.15 * n_member  # a small share, not a flood


def test_id_dirt_in_the_new_sources(files: dict) -> None:
    """Every ID dirt kind in the vehicle snapshot and in mr_role, each on its own."""
    kinds = ("spaces", "fullwidth", "lower_x", "legacy15", "wrong_check", "bad_date", "empty")
    rows = files["vehicles"]
    people = [r[5] or None for r in rows[1:] if r[4] == "居民身份证"]
    for values in (people, col(files["mr_role"], "id_number")):
        seen = Counter(k for v in values for k in id_kinds(v))
        assert all(seen[k] > 0 for k in kinds), seen
        assert sum(seen.values()) < 0.15 * len(values)
    orgs = [r[5] for r in rows[1:] if r[4] == "统一社会信用代码"]
    assert all(v == v.strip() and len(v) == 18 for v in orgs)  # organisations' codes stay clean


def test_name_dirt_in_the_new_sources(files: dict) -> None:
    for names in (col(files["vehicles"], "所有人"), col(files["mr_role"], "name")):
        assert any(" " in n.strip() for n in names)
        assert any("\u3000" in n for n in names)


def test_date_styles_in_the_new_sources(files: dict) -> None:
    for values in (col(files["vehicles"], "初次登记日期"),
                   col(files["mr_role"], "from_on") + col(files["mr_role"], "to_on")
                   + col(files["mr_entity"], "established_on") + col(files["mr_entity"], "closed_on")):
        seen = Counter(k for v in values for k, rx in DATE_RES.items() if isinstance(v, str)
                       and rx.match(v))
        assert all(seen[k] > 0 for k in DATE_RES), seen
        assert seen["iso"] > 0.9 * sum(seen.values())
    assert "年" in "".join(v for v in col(files["vehicles"], "初次登记日期") if v)


def test_name_dirt(files: dict) -> None:
    names = col(files["sa_member"], "name") + col(files["power"], "户名")
    assert any(" " in n.strip() for n in names)
    assert any("\u3000" in n for n in names)


def test_date_styles_in_sqlite(files: dict) -> None:
    seen: Counter = Counter()
    for t, c in [("sa_household", "approved_on"), ("sa_member", "joined_on"),
                 ("sa_allowance", "start_on"), ("hr_staff", "payroll_from")]:
        for v in col(files[t], c):
            for k, rx in DATE_RES.items():
                if isinstance(v, str) and rx.match(v):
                    seen[k] += 1
    assert all(seen[k] > 0 for k in DATE_RES), seen
    assert seen["iso"] > 10 * (seen["slash"] + seen["compact"] + seen["chinese"]) / 3


def test_number_dirt(files: dict) -> None:
    vals = col(files["power"], "本月电量") + col(files["water"], "USAGE_M3")
    assert any(re.fullmatch(r"\d{1,3}(,\d{3})+(\.\d+)?", v.strip()) for v in vals)
    assert any(v != v.strip() for v in vals)
    areas = col(files["property"], "建筑面积")
    assert any(isinstance(a, str) and "," in a for a in areas)
    assert any(isinstance(a, float) for a in areas)
    amounts = col(files["sa_household"], "monthly_amount") + col(files["sa_payment"], "amount")
    assert any(isinstance(a, str) and "," in a for a in amounts)
    capital = col(files["mr_entity"], "registered_capital")
    typed = [a for a in capital if isinstance(a, str)]
    assert typed and all(re.fullmatch(r"\d{1,3}(,\d{3})+\.\d{2}", a) for a in typed)
    assert any(isinstance(a, (int, float)) and a >= 1000 for a in capital)  # not every one typed
    assert any(a is None for a in capital)  # 个体工商户


def test_address_dirt(files: dict) -> None:
    addrs = (col(files["sa_household"], "address") + col(files["power"], "用电地址")
             + col(files["water"], "ADDRESS") + col(files["property"], "坐落"))
    assert any(re.search(r"[０-９]", a) for a in addrs)
    assert any(re.search(r"\s", a) for a in addrs)
    assert any(CN_NUM.search(a) for a in addrs)
    assert any("#" in a for a in addrs)
    assert any("幢" in a for a in addrs)
    assert any(a.startswith("江西省上饶市广丰区") for a in addrs)
    assert any(a.startswith("广丰区") for a in addrs)
    assert any(not a.startswith(("江西省", "上饶市", "广丰区")) for a in addrs)


def test_whole_row_duplicates(deployment: Path, files: dict) -> None:
    for t in ("sa_member", "hr_relative", "power", "water", "property", "vehicles"):
        rows = [tuple(r) for r in files[t][1:]]
        assert len(rows) > len(set(rows)), t
    for t in ("sa_household", "sa_payment", "sa_allowance", "sa_cremation", "mr_entity", "mr_role"):
        rows = [tuple(r) for r in files[t][1:]]
        assert len(rows) == len(set(rows)), t


def test_dirt_never_changes_identity(files: dict, world: World) -> None:
    """Delivered member IDs normalise to the truth, or are invalid exactly where flagged."""
    m = world.tables["members"]
    truth = dict(zip(zip(m["household_id"], m["d_id"].astype(object).where(m["d_id"].notna(), None),
                         strict=True), zip(m["pid"], m["id_ok"], strict=True), strict=True))
    hh = col(files["sa_member"], "household_id")
    ids = col(files["sa_member"], "id_number")
    checked = 0
    for h, v in zip(hh, ids, strict=True):
        pid, ok = truth[(h, v)]
        n = norm_id(v, D)
        assert (n == pid) if ok else (n is None), (h, v)
        checked += 1
    assert checked == len(ids)


def test_vehicle_and_role_ids_keep_identity(files: dict, world: World) -> None:
    """Delivered owner and role-holder IDs normalise to the truth, or are invalid where flagged."""
    v = world.tables["vehicles"].set_index("plate")
    for plate, kind, value in zip(col(files["vehicles"], "号牌号码"), col(files["vehicles"], "身份证明名称"),
                                  col(files["vehicles"], "身份证明号码"), strict=True):
        if kind == "居民身份证":
            n = norm_id(value, D)
            assert (n == v.at[plate, "pid"]) if v.at[plate, "id_ok"] else n is None, plate
    r = world.tables["roles"].set_index("role_id")
    for rid, value in zip(col(files["mr_role"], "role_id"), col(files["mr_role"], "id_number"),
                          strict=True):
        n = norm_id(value, D)
        assert (n == r.at[rid, "pid"]) if r.at[rid, "id_ok"] else n is None, rid


def test_addresses_normalise_to_truth(files: dict, world: World) -> None:
    hh = world.tables["households"].set_index("household_id")["addr"]
    for h, a in zip(col(files["sa_household"], "household_id"),
                    col(files["sa_household"], "address"), strict=True):
        assert norm_addr(a) == hh[h]
    acc = world.tables["elec"].set_index("account")["addr"]
    for k, a in zip(col(files["power"], "户号"), col(files["power"], "用电地址"), strict=True):
        assert norm_addr(a) == acc[k]


def test_ids_unique_per_person(world: World) -> None:
    m = world.tables["members"]
    people = np.concatenate([m["pid"], world.tables["property"]["pid"].dropna()])
    assert len(set(m["pid"])) > 0.97 * len(m)  # only planted R08 duplicates repeat
    assert all(len(p) in (9, 8, 18) for p in set(people))
