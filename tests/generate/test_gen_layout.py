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
    "business": {
        "mr_entity": ["credit_code", "entity_name", "entity_kind", "status", "established_on",
                      "closed_on", "registered_capital", "updated_at"],
        "mr_role": ["role_id", "credit_code", "id_number", "name", "role", "share_pct", "from_on",
                    "to_on", "updated_at"],
    },
}
XLSX_HEADERS = ["不动产单元号", "权利人名称", "证件种类", "证件号码", "共有方式", "坐落", "规划用途",
                "建筑面积", "登记时间", "注销时间"]
MONTHS = ["202511", "202512"] + [f"2026{m:02d}" for m in range(1, 11)]
JDC_HEADERS = ["号牌号码", "号牌种类", "车辆类型", "所有人", "身份证明名称", "身份证明号码", "初次登记日期",
               "机动车状态"]
PLATE_KINDS = {"小型汽车", "大型汽车", "普通摩托车", "轻便摩托车", "低速车", "挂车"}
VEHICLE_STATUSES = {"正常", "查封", "达到报废标准", "转出", "注销", "报废", "被盗抢"}


def test_config(deployment: Path) -> None:
    cfg = yaml.safe_load((deployment / "config.yaml").read_text(encoding="utf-8"))
    assert cfg["region"] == {"province": "江西省", "city": "上饶市", "county": "广丰区"}
    assert cfg["warehouse"] == "sqlite:///warehouse.db"
    assert cfg["sources"]["civil_affairs"]["url"] == "sqlite:///sources/civil_affairs.db"
    assert cfg["sources"]["electricity"]["location"] == "drop/power"
    assert cfg["rules"] == {"electricity_high_kwh": 500, "utility_window_months": 3,
                            "elderly_allowance_min_age": 80, "max_residential_units": 1,
                            "non_residential_uses": ["商业", "办公", "工业"],
                            "vehicle_exempt_plate_kinds": ["普通摩托车", "轻便摩托车", "低速车"],
                            "medical_window_months": 12, "medical_burden_enrolled": 10000,
                            "medical_burden_general": 26000, "silent_home_min_age": 75,
                            "breadwinner_window_days": 90}
    assert cfg["sources"]["vehicles"] == {"location": "drop/vehicles"}
    assert cfg["sources"]["business"] == {"url": "sqlite:///sources/business.db"}
    assert cfg["sources"]["medical"] == {"location": "drop/medical"}
    assert list(cfg["sources"]) == ["civil_affairs", "personnel", "property", "electricity", "water",
                                    "vehicles", "business", "medical"]
    for key in ("property", "electricity", "water", "vehicles", "medical"):
        assert (deployment / cfg["sources"][key]["location"]).is_dir()
    assert cfg["warning_outbox"] == {"location": "warnings"}
    for key in ("outbox", "inbox", "warning_outbox"):
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
    veh = sorted((deployment / "drop" / "vehicles").iterdir())
    assert [p.name for p in veh] == ["JDC_20261113.csv", "JDC_20261113.csv.ok", "JDC_20261120.csv",
                                     "JDC_20261120.csv.ok"]
    assert [p.stat().st_size for p in veh][1::2] == [0, 0]
    assert sorted(p.name for p in deployment.iterdir()) == [
        "config.yaml", "drop", "expected_cases.json", "extras", "inbox", "outbox", "regions.csv",
        "sources", "templates", "warnings"]
    assert sorted(p.name for p in (deployment / "drop").iterdir()) == [
        "medical", "power", "property", "vehicles", "water"]


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


def _jdc(deployment: Path, name: str) -> list[list[str]]:
    raw = (deployment / "drop" / "vehicles" / name).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and not raw.startswith(b"\xef\xbb\xbf\xef\xbb\xbf")
    text = raw[3:].decode("utf-8")
    assert "\r" not in text and text.endswith("\n")
    return list(csv.reader(io.StringIO(text)))


def test_vehicle_snapshots_header_encoding_and_values(deployment: Path) -> None:
    for name in ("JDC_20261113.csv", "JDC_20261120.csv"):
        rows = _jdc(deployment, name)
        assert rows[0] == JDC_HEADERS
        assert all(len(r) == len(JDC_HEADERS) for r in rows)
        body = rows[1:]
        assert {r[1] for r in body} == PLATE_KINDS
        assert {r[7] for r in body} == VEHICLE_STATUSES
        assert {r[4] for r in body} == {"居民身份证", "统一社会信用代码", "其他"}
        assert all(r[0].startswith("赣E") and len(r[0]) in (7, 8) for r in body)
        assert any("残疾人专用" in r[2] for r in body)
        keys = [(r[0], r[1]) for r in body]
        assert len(set(keys)) == len({tuple(r) for r in body})  # repeats are whole-row duplicates
        orgs = [r[5] for r in body if r[4] == "统一社会信用代码"]
        assert orgs and all(len(c) == 18 for c in orgs)
        firms = [c for c in orgs if c.startswith("91361103")]  # else a planted ID-like number
        assert len(firms) > 0.9 * len(orgs)


def test_vehicle_snapshots_differ(deployment: Path) -> None:
    old = {(r[0], r[1]): r[7] for r in _jdc(deployment, "JDC_20261113.csv")[1:]}
    new = {(r[0], r[1]): r[7] for r in _jdc(deployment, "JDC_20261120.csv")[1:]}
    assert set(new) - set(old) and set(old) - set(new)
    moved = [k for k in set(old) & set(new) if old[k] == "正常" and new[k] == "转出"]
    assert moved


def test_business_values(deployment: Path) -> None:
    con = sqlite3.connect(deployment / "sources" / "business.db")
    kinds = dict(con.execute("SELECT entity_kind, count(*) FROM mr_entity GROUP BY 1").fetchall())
    assert set(kinds) == {"ENTERPRISE", "INDIVIDUAL", "COOPERATIVE"}
    status = {s for (s,) in con.execute("SELECT DISTINCT status FROM mr_entity")}
    assert status == {"OPERATING", "REVOKED", "CANCELLED"}
    roles = {s for (s,) in con.execute("SELECT DISTINCT role FROM mr_role")}
    assert roles == {"LEGAL_REP", "OPERATOR", "SHAREHOLDER", "DIRECTOR", "SUPERVISOR"}
    assert con.execute("SELECT count(*) FROM mr_entity WHERE entity_kind = 'INDIVIDUAL' "
                       "AND registered_capital IS NOT NULL").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM mr_role r JOIN mr_entity e USING (credit_code) "
                       "WHERE e.entity_kind = 'INDIVIDUAL' AND r.role != 'OPERATOR'").fetchone() == (0,)
    assert con.execute("SELECT count(*) FROM mr_role WHERE credit_code NOT IN "
                       "(SELECT credit_code FROM mr_entity)").fetchone() == (0,)
    codes = [c for (c,) in con.execute("SELECT credit_code FROM mr_entity")]
    assert all(len(c) == 18 and c[:2] in ("91", "92", "93") and c[2:8] == "361103" for c in codes)
    shares = [v for (v,) in con.execute("SELECT share_pct FROM mr_role WHERE share_pct IS NOT NULL")]
    assert shares and all(0 < float(v) <= 100 for v in shares)
    stamps = [u for (u,) in con.execute("SELECT updated_at FROM mr_role UNION ALL "
                                        "SELECT updated_at FROM mr_entity")]
    assert all(len(u) == 19 and u <= f"{D} 20:00:00" for u in stamps)
