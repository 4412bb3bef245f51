"""The deployment folder has exactly the contract's files, tables and headers."""

from __future__ import annotations

import csv
import io
import sqlite3
from pathlib import Path

import openpyxl
import yaml
from gen_normalise import D

CONTRACT_TABLES = {
    "civil_affairs": {
        "sa_household": ["household_id", "program", "area_type", "region_code", "address",
                         "status", "approved_on", "terminated_on", "monthly_amount",
                         "updated_at"],
        "sa_member": ["household_id", "id_number", "name", "relation", "joined_on", "left_on",
                      "updated_at"],
        "sa_payment": ["payment_id", "household_id", "period", "amount", "paid_on"],
        "sa_allowance": ["allowance_id", "id_number", "name", "kind", "region_code", "start_on",
                         "end_on", "monthly_amount", "updated_at"],
        "sa_cremation": ["record_id", "id_number", "name", "death_date", "cremation_date",
                         "funeral_home", "updated_at"],
        "sa_relative_filing": ["filing_id", "id_number", "staff_id_number", "relation",
                               "filed_on"],
    },
    "personnel": {
        "hr_staff": ["id_number", "name", "employer", "employer_kind", "post", "payroll_from",
                     "payroll_to", "updated_at"],
        "hr_village_cadre": ["id_number", "name", "region_code", "post", "term_from", "term_to",
                             "updated_at"],
        "hr_relative": ["staff_id_number", "relative_id_number", "relative_name", "relation",
                        "declared_on"],
    },
}
XLSX_HEADERS = ["不动产单元号", "权利人名称", "证件种类", "证件号码", "共有方式", "坐落", "规划用途",
                "建筑面积", "登记时间", "注销时间"]
MONTHS = ["202511", "202512"] + [f"2026{m:02d}" for m in range(1, 11)]


def test_config(deployment: Path) -> None:
    cfg = yaml.safe_load((deployment / "config.yaml").read_text(encoding="utf-8"))
    assert cfg["region"] == {"province": "江西省", "city": "上饶市", "county": "广丰区"}
    assert cfg["warehouse"] == "sqlite:///warehouse.db"
    assert cfg["sources"]["civil_affairs"]["url"] == "sqlite:///sources/civil_affairs.db"
    assert cfg["sources"]["electricity"]["location"] == "drop/power"
    assert cfg["rules"] == {"electricity_high_kwh": 500, "utility_window_months": 3,
                            "elderly_allowance_min_age": 80, "max_residential_units": 1,
                            "non_residential_uses": ["商业", "办公", "工业"]}
    for key in ("property", "electricity", "water"):
        assert (deployment / cfg["sources"][key]["location"]).is_dir()
    for key in ("outbox", "inbox"):
        folder = deployment / cfg[key]["location"]
        assert folder.is_dir() and not any(folder.iterdir())
    assert (deployment / cfg["regions_file"]).is_file()


def test_regions(deployment: Path) -> None:
    rows = list(csv.DictReader(io.StringIO((deployment / "regions.csv").read_text("utf-8"))))
    assert list(rows[0]) == ["code", "name", "level", "parent_code"]
    by = {r["code"]: r for r in rows}
    assert all(len(c) == 12 and c.isdigit() for c in by)
    counties = [r for r in rows if r["level"] == "county"]
    assert len(counties) == 1 and counties[0]["name"] == "广丰区"
    towns = [r for r in rows if r["level"] == "township"]
    assert 10 <= len(towns) <= 20
    assert all(r["name"][-1] in "镇乡" or r["name"].endswith("街道") for r in towns)
    vills = [r for r in rows if r["level"] == "village"]
    assert vills and all(by[v["parent_code"]]["level"] == "township" for v in vills)
    assert all(v["name"].endswith(("村", "社区")) for v in vills)
    con = sqlite3.connect(deployment / "sources" / "civil_affairs.db")
    codes = {r[0] for r in con.execute("SELECT region_code FROM sa_household")}
    assert codes <= {v["code"] for v in vills}


def test_sqlite_tables_exact(deployment: Path) -> None:
    for db, tables in CONTRACT_TABLES.items():
        con = sqlite3.connect(deployment / "sources" / f"{db}.db")
        names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert names == set(tables)
        for t, cols in tables.items():
            assert [r[1] for r in con.execute(f"PRAGMA table_info({t})")] == cols
            assert con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] > 0


def test_drops_and_markers(deployment: Path) -> None:
    power = deployment / "drop" / "power"
    water = deployment / "drop" / "water"
    assert sorted(p.name for p in power.glob("DL_*.csv")) == [f"DL_{m}.csv" for m in
                                                              [*MONTHS, "202611"]]
    assert sorted(p.name for p in water.glob("SS_*.txt")) == [f"SS_{m}.txt" for m in MONTHS]
    for m in MONTHS:
        for f in (power / f"DL_{m}.csv", water / f"SS_{m}.txt"):
            ok = f.with_name(f.name + ".ok")
            assert ok.is_file() and ok.stat().st_size == 0
    unfinished = power / f"DL_{D:%Y%m}.csv"
    assert unfinished.stat().st_size > 0
    assert not unfinished.with_name(unfinished.name + ".ok").exists()
    prop = sorted((deployment / "drop" / "property").glob("*.xlsx"))
    assert [p.name for p in prop] == ["BDC_QLR_20261113.xlsx", "BDC_QLR_20261120.xlsx"]
    for p in prop:
        assert p.with_name(p.name + ".ok").stat().st_size == 0
    assert sorted(p.name for p in deployment.iterdir()) == [
        "config.yaml", "drop", "expected_cases.json", "extras", "inbox", "outbox", "regions.csv",
        "sources", "templates"]


def test_utility_headers_and_encodings(deployment: Path) -> None:
    raw = (deployment / "drop" / "power" / "DL_202610.csv").read_bytes()
    assert any(b > 127 for b in raw)
    try:
        raw.decode("utf-8")
        decoded_as_utf8 = True
    except UnicodeDecodeError:
        decoded_as_utf8 = False
    assert not decoded_as_utf8
    text = raw.decode("gb18030")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["户号", "户名", "证件号码", "用电地址", "抄表年月", "本月电量"]
    assert {r[4] for r in rows[1:]} == {"202610"}
    assert all(len(r) == 6 for r in rows)
    w = (deployment / "drop" / "water" / "SS_202610.txt").read_text(encoding="utf-8")
    lines = w.splitlines()
    assert lines[0] == "ACCOUNT_NO|HOLDER_NAME|HOLDER_ID|ADDRESS|PERIOD|USAGE_M3"
    assert all(len(x.split("|")) == 6 for x in lines)
    assert {x.split("|")[4] for x in lines[1:]} == {"2026-10"}


def test_xlsx_sheet_headers_and_cells(deployment: Path) -> None:
    path = deployment / "drop" / "property" / "BDC_QLR_20261120.xlsx"
    wb = openpyxl.load_workbook(path, read_only=True)
    assert wb.sheetnames == ["权利人信息"]
    ws = wb["权利人信息"]
    rows = ws.iter_rows(values_only=False)
    assert [c.value for c in next(rows)] == XLSX_HEADERS
    date_cells = serials = texts = 0
    for row in rows:
        for c in row[8:10]:
            if c.value is None:
                continue
            if c.is_date:
                date_cells += 1
            elif isinstance(c.value, (int, float)):
                serials += 1
                assert 30000 < c.value < 50000
            else:
                texts += 1
    assert date_cells > 0 and serials > 0 and texts > 0
    assert wb.properties.created is not None and wb.properties.created.year == 2026
    assert len({c.value for c in next(iter([[]]), [])}) == 0
    unit_lens = {len(r[0]) for r in wb["权利人信息"].iter_rows(min_row=2, values_only=True)}
    assert unit_lens == {28}


def test_snapshots_differ_and_newest_is_dated_d(deployment: Path) -> None:
    def units(name: str) -> set:
        wb = openpyxl.load_workbook(deployment / "drop" / "property" / name, read_only=True)
        return {r[0] for r in wb.active.iter_rows(min_row=2, values_only=True)}

    old, new = units("BDC_QLR_20261113.xlsx"), units("BDC_QLR_20261120.xlsx")
    assert old - new and new - old
