"""Names with characters outside GBK survive the whole pipeline byte for byte (issue #9, item 4).

Rural registers hold names with rare characters (生僻字) that GBK cannot encode
and GB18030 can: 𠮷 and 𡈼 (Extension B, four bytes in GB18030), 㐂 (Extension A,
four bytes) and 䶮 (Extension A, a two-byte GB18030 code that was private use in
GBK — the classic victim of a GBK round trip). A planted case's person gets such a
name in every source-database record, and an electricity account holder gets one
in a GB18030 file; ``pipeline.run`` must carry them unchanged into the warehouse
and, for the case, into the published CSV and XLSX. No U+FFFD may appear anywhere.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import date
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import yaml
from sqlalchemy import inspect, text

from safetynet import pipeline
from safetynet.config import load_config
from safetynet.transforms import normalize_ids
from safetynet.warehouse.engine import get_engine

pytestmark = pytest.mark.integration

D = date(2026, 11, 20)
RARE = ("𠮷", "𡈼", "䶮", "㐂")
PERSON = "𠮷䶮㐂"  # the case person's name in the civil-affairs and personnel databases
HOLDER = "𡈼𠮷野"  # an electricity account holder in DL_202610.csv
TOUCHED = "2026-11-20 07:00:00"
NAME_COLUMNS = {  # database -> table -> (ID column, name column)
    "civil_affairs": {"sa_member": ("id_number", "name"), "sa_allowance": ("id_number", "name"),
                      "sa_cremation": ("id_number", "name")},
    "personnel": {"hr_staff": ("id_number", "name"), "hr_village_cadre": ("id_number", "name"),
                  "hr_relative": ("relative_id_number", "relative_name")},
}


def test_the_names_are_outside_gbk_and_inside_gb18030() -> None:
    """The premise: every test character needs GB18030 (a GBK exporter would lose it)."""
    for ch in RARE:
        assert ch.encode("gb18030").decode("gb18030") == ch
        with pytest.raises(UnicodeEncodeError):
            ch.encode("gbk")
    assert len("䶮".encode("gb18030")) == 2 and len("𠮷".encode("gb18030")) == 4


@pytest.fixture(params=["sqlite", "postgresql"])
def config(request: pytest.FixtureRequest, deployment: Callable[..., Path], tmp_path: Path) -> Path:
    """A generated deployment on SQLite or on a fresh PostgreSQL warehouse."""
    path = deployment(tmp_path, households=200)
    if request.param == "postgresql":
        raw = yaml.safe_load(path.read_text("utf-8"))
        raw["warehouse"] = request.getfixturevalue("pg_database")
        path.write_text(yaml.safe_dump(raw, allow_unicode=True), "utf-8")
    return path


def _rename_person(config: Path, person_id: str) -> int:
    """Give every source-database record of ``person_id`` (however its ID is dirtied) the rare name."""
    renamed = 0
    for database, tables in NAME_COLUMNS.items():
        with sqlite3.connect(config.parent / "sources" / f"{database}.db") as db:
            for table, (id_col, name_col) in tables.items():
                rows = db.execute(f"SELECT rowid, {id_col} FROM {table}").fetchall()
                ids = normalize_ids(pd.Series([r[1] for r in rows], dtype="string"))["id_norm"]
                hits = [r[0] for r, norm in zip(rows, ids.fillna(""), strict=True) if norm == person_id]
                touch = ", updated_at = ?" if table != "hr_relative" else ""
                for rowid in hits:
                    args = (PERSON, TOUCHED, rowid) if touch else (PERSON, rowid)
                    db.execute(f"UPDATE {table} SET {name_col} = ?{touch} WHERE rowid = ?", args)
                renamed += len(hits)
    return renamed


def _rename_holder(config: Path) -> str:
    """Rewrite October's GB18030 electricity file with the rare holder name on its first account."""
    path = config.parent / "drop" / "power" / "DL_202610.csv"
    lines = path.read_bytes().decode("gb18030").split("\n")
    fields = lines[1].split(",")
    account, fields[1] = fields[0], HOLDER
    lines[1] = ",".join(fields)
    path.write_bytes("\n".join(lines).encode("gb18030"))
    return account


def _no_replacement_characters(config: Path) -> int:
    """Assert no text value in any warehouse table holds U+FFFD; return how many values were read."""
    engine = get_engine(load_config(config).warehouse_url)
    seen = 0
    with engine.connect() as conn:
        for table in inspect(engine).get_table_names():
            frame = pd.read_sql(text(f"SELECT * FROM {table}"), conn)
            for column in frame.columns:
                strings = [v for v in frame[column].tolist() if isinstance(v, str)]
                seen += len(strings)
                assert not any("\ufffd" in v for v in strings), f"U+FFFD in {table}.{column}"
    return seen


def test_rare_names_reach_warehouse_and_extract_unchanged(config: Path) -> None:
    expected = json.loads((config.parent / "expected_cases.json").read_text("utf-8"))
    case_key = expected["cases"]["R01"][0]  # a planted deceased beneficiary: certainly a case
    person_id = case_key.split(":", 1)[1]
    assert _rename_person(config, person_id) >= 2  # the allowance and the cremation record at least
    account = _rename_holder(config)

    result = pipeline.run(D, config)
    assert result["failed_sources"] == {}

    engine = get_engine(load_config(config).warehouse_url)
    with engine.connect() as conn:
        names = set(conn.execute(text(
            "SELECT name FROM core_allowance WHERE id_norm = :p UNION "
            "SELECT name FROM core_cremation WHERE id_norm = :p UNION "
            "SELECT name FROM core_member WHERE id_norm = :p"), {"p": person_id}).scalars())
        holder = conn.execute(text(
            "SELECT holder_name FROM core_utility_reading WHERE source = 'electricity' "
            "AND month = '2026-10' AND account_no = :a"), {"a": account}).scalar()
    assert names == {PERSON}
    assert holder == HOLDER and holder.encode("utf-8") == HOLDER.encode("utf-8")
    assert _no_replacement_characters(config) > 10_000

    outbox = Path(result["published_to"])
    raw_csv = (outbox / "mismatches_20261120.csv").read_bytes()
    assert raw_csv.startswith(b"\xef\xbb\xbf")
    frame = pd.read_csv(outbox / "mismatches_20261120.csv", encoding="utf-8-sig", dtype=str,
                        keep_default_na=False)
    (row,) = frame[frame["case_key"] == case_key].to_dict("records")
    assert row["name"] == PERSON
    assert row["name"].encode("utf-8") == PERSON.encode("utf-8")
    assert PERSON.encode("utf-8") in raw_csv

    book = openpyxl.load_workbook(outbox / "mismatches_20261120.xlsx", read_only=True)
    cells = []
    for sheet in book.worksheets:
        rows = list(sheet.iter_rows(values_only=True))
        if rows and "姓名" in rows[0]:
            at = rows[0].index("姓名")
            cells += [r[at] for r in rows[1:] if case_key in r]
    book.close()
    assert cells == [PERSON, PERSON]  # on 全部疑点 and on the rule's own sheet

    for path in outbox.iterdir():
        if path.suffix in (".csv", ".json"):
            assert "\ufffd" not in path.read_bytes().decode("utf-8-sig"), path.name
    book = openpyxl.load_workbook(outbox / "mismatches_20261120.xlsx", read_only=True)
    for sheet in book.worksheets:
        for r in sheet.iter_rows(values_only=True):
            assert not any(isinstance(v, str) and "\ufffd" in v for v in r), sheet.title
    book.close()
