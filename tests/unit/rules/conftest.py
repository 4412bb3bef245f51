"""A tiny warehouse with hand-placed core rows, for pinning rule boundaries."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import insert, text

from safetynet.config import DEFAULT_RULES, Config
from safetynet.pipeline import evaluate_day
from safetynet.transforms import check_char
from safetynet.warehouse.engine import get_engine, migrate
from safetynet.warehouse.schema import metadata
from safetynet.warehouse.water_keys import rebuild_water_keys

D = date(2026, 11, 20)
SNAPSHOT = date(2026, 11, 13)
REGIONS = (
    "code,name,level,parent_code\n"
    "361103000000,广丰区,county,\n"
    "361103100000,永丰街道,township,361103000000\n"
    "361103100201,永丰社区,village,361103100000\n"
)


def pid(birth: str, seq: int = 1) -> str:
    """A valid 18-character ID for a birth date YYYYMMDD."""
    first17 = f"361103{birth}{seq:03d}"
    return first17 + check_char(first17)


@dataclass
class Warehouse:
    """A warehouse plus helpers to place core rows and evaluate D."""

    cfg: Config

    def add(self, table: str, **row: object) -> None:
        if table == "core_property_right":  # one registry version, in force from before D
            row.setdefault("snapshot_date", SNAPSHOT)
        for k in [k for k in row if k.endswith("_norm") and k != "address_norm"]:
            p = k[: -len("_norm")]
            value = str(row[k])
            row.setdefault(f"{p}_raw", value)
            if len(value) == 18 and value[:17].isdigit() and check_char(value[:17]) == value[17]:
                row.setdefault(f"{p}_birth", date.fromisoformat(
                    f"{value[6:10]}-{value[10:12]}-{value[12:14]}"))
                row.setdefault(f"{p}_problem", None)
            else:
                row.setdefault(f"{p}_problem", "check_char")
        with get_engine(self.cfg.warehouse_url).begin() as conn:
            conn.execute(insert(metadata.tables[table]).values(**row))
            if table == "core_utility_reading" and row.get("source") == "water":
                rebuild_water_keys(conn)  # as every water load does in its transaction

    def household(self, hid: str, *members: str, status: str = "ACTIVE",
                  approved: date = date(2020, 1, 1), terminated: date | None = None,
                  address: str = "永丰街道1号", program: str = "DIBAO",
                  joined: date = date(2020, 1, 1), left: date | None = None) -> None:
        self.add("core_household", household_id=hid, program=program, area_type="URBAN",
                 region_code="361103100201", address=address, address_norm=address,
                 status=status, approved_on=approved, terminated_on=terminated)
        for i, m in enumerate(members):
            self.add("core_member", household_id=hid, id_norm=m, name=f"成员{i}",
                     relation="户主" if i == 0 else "子女", joined_on=joined, left_on=left)

    def cases(self, rule: str, on: date = D, table: str = "mart_case_day") -> set[str]:
        evaluate_day(self.cfg, on)
        with get_engine(self.cfg.warehouse_url).connect() as conn:
            rows = conn.execute(
                text(f"SELECT case_key, status FROM {table} WHERE report_date = :d"),
                {"d": on.isoformat()}).all()
        return {k for k, s in rows if k.startswith(rule + ":") and s != "RESOLVED"}

    def with_inbox(self, tmp_path: Path) -> Path:
        """An empty inbox folder the deployment reads decision files from."""
        inbox = tmp_path / "inbox"
        inbox.mkdir()
        self.cfg = replace(self.cfg, inbox=str(inbox))
        return inbox

    def warnings(self, code: str, on: date = D) -> set[str]:
        """The live hardship warnings of ``code`` on ``on`` (every optional source configured)."""
        self.cfg = replace(self.cfg, sources={"medical": "drop/medical", "vehicles": "drop/vehicles",
                                              "business": "sqlite://"})
        return self.cases(code, on, table="mart_warning_day")


@pytest.fixture(params=["sqlite", "postgresql"])
def wh(request: pytest.FixtureRequest, tmp_path: Path) -> Warehouse:
    """The same tests on the embedded default and on real PostgreSQL."""
    regions = tmp_path / "regions.csv"
    regions.write_text(REGIONS, encoding="utf-8")
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'wh.db'}"
    else:
        url = request.getfixturevalue("pg_database")
    cfg = Config(path=tmp_path / "config.yaml", province="江西省", city="上饶市", county="广丰区",
                 regions_file=regions, warehouse_url=url, work_dir=tmp_path / "work",
                 rules=dict(DEFAULT_RULES))
    migrate(get_engine(url))
    return Warehouse(cfg)
