"""Schema drift in any source is caught before load, clearly, and the warehouse stays as it was.

Issue #9, item 5. For every table of every source database and for the three
file sources, a column is added, dropped, renamed or retyped (numbers that now
hold text, dates or months in another format). Each must fail the source's
extract with a :class:`DeliveryError` naming the table or file and the column;
nothing may load as a silently empty column or an emptied month or snapshot.

A golden deployment is ingested once per module (every source); each case copies
it, drifts one thing, ingests that source again and compares a fingerprint of
every warehouse data table and the accounting before and after.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import inspect, text

from safetynet import pipeline
from safetynet.config import load_config
from safetynet.sources.declarations import DB_SPECS
from safetynet.sources.drops import DeliveryError
from safetynet.warehouse.engine import get_engine

pytestmark = pytest.mark.integration

D = date(2026, 11, 20)
TOUCHED = "2026-11-21 08:00:00"  # after every generated updated_at: incremental extracts re-read the rows

# table -> (database, the column drifted, its kind: what "retyped" does to it)
DB_COLUMNS: dict[str, tuple[str, str, str]] = {
    "sa_household": ("civil_affairs", "monthly_amount", "number"),
    "sa_member": ("civil_affairs", "joined_on", "date"),
    "sa_payment": ("civil_affairs", "amount", "number"),
    "sa_allowance": ("civil_affairs", "monthly_amount", "number"),
    "sa_cremation": ("civil_affairs", "death_date", "date"),
    "sa_relative_filing": ("civil_affairs", "filed_on", "date"),
    "hr_staff": ("personnel", "payroll_from", "date"),
    "hr_village_cadre": ("personnel", "term_from", "date"),
    "hr_relative": ("personnel", "declared_on", "date"),
    "mr_entity": ("business", "registered_capital", "number"),
    "mr_role": ("business", "from_on", "date"),
}
assert set(DB_COLUMNS) == {s.name for specs in DB_SPECS.values() for s in specs}  # every table

# source -> (drop folder, file redelivered, number column, date/month column, new format of a date)
FILES: dict[str, tuple[str, str, str, str]] = {
    "electricity": ("power", "DL_202610.csv", "本月电量", "抄表年月"),
    "water": ("water", "SS_202610.txt", "USAGE_M3", "PERIOD"),
    "property": ("property", "BDC_QLR_20261120.xlsx", "建筑面积", "登记时间"),
}
KINDS = ("added", "dropped", "renamed", "retyped")
FILE_KINDS = (*KINDS, "reformatted")  # a file's date or month column in another format


@pytest.fixture(scope="module")
def golden(deployment: Callable[..., Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A deployment with every source ingested for D (its config.yaml)."""
    config = deployment(tmp_path_factory.mktemp("golden"), households=200)
    for source in pipeline.SOURCES:
        pipeline.ingest(source, D, config)
    return config


def _copy(golden: Path, tmp_path: Path) -> Path:
    target = tmp_path / "deployment"
    shutil.copytree(golden.parent, target)
    return target / golden.name


def fingerprint(config: Path) -> dict[str, tuple[int, str]]:
    """Row count and a content hash of every core table and the accounting tables."""
    engine = get_engine(load_config(config).warehouse_url)
    names = [t for t in inspect(engine).get_table_names()
             if t.startswith("core_") or t in ("meta_load_log", "meta_watermark", "meta_quarantine")]
    out = {}
    with engine.connect() as conn:
        for name in sorted(names):
            frame = pd.read_sql(text(f"SELECT * FROM {name}"), conn)
            rows = sorted("\x1f".join(map(str, r)) for r in frame.itertuples(index=False, name=None))
            out[name] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
    assert out["core_household"][0] > 0 and out["core_utility_reading"][0] > 0  # a real baseline
    return out


# --------------------------------------------------------------------------- databases


def _retype_sql(table: str, column: str, kind: str, cols: list[str]) -> str:
    """A statement that makes every delivered value of ``column`` unparseable, and re-read."""
    bad = ("'约' || CAST({c} AS TEXT) || '元'" if kind == "number"
           else "strftime('%m/%d/%Y', {c})").format(c=column)  # 2024-03-05 -> 03/05/2024
    if table in ("sa_payment", "sa_relative_filing"):  # append-only: only ids above the mark are read
        key = cols[0]
        values = ", ".join(f"{key} + 1000000 + n.i * 10000" if c == key else (bad if c == column else c)
                           for c in cols)  # at least 30 new rows: fewer than min_rows are not judged
        return (f"WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 29) "
                f"INSERT INTO {table} ({', '.join(cols)}) SELECT {values} "
                f"FROM (SELECT * FROM {table} ORDER BY {key} LIMIT 60), n")
    touch = f", updated_at = '{TOUCHED}'" if "updated_at" in cols else ""
    return f"UPDATE {table} SET {column} = {bad}{touch} WHERE {column} IS NOT NULL"


def _drift_table(config: Path, database: str, table: str, column: str, kind: str, how: str) -> str:
    """Apply one drift to a source table; return the column name the error must mention."""
    with sqlite3.connect(config.parent / "sources" / f"{database}.db") as db:
        cols = [r[1] for r in db.execute(f"PRAGMA table_info({table})")]
        if how == "added":
            db.execute(f"ALTER TABLE {table} ADD COLUMN remark TEXT")
            db.execute(f"UPDATE {table} SET remark = 'new field'")
            return "remark"
        if how == "dropped":
            db.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
            return column
        if how == "renamed":
            db.execute(f"ALTER TABLE {table} RENAME COLUMN {column} TO {column}_v2")
            return f"{column}_v2"
        db.execute(_retype_sql(table, column, kind, cols))
        return column


DB_CASES = [(t, k) for t in DB_COLUMNS for k in KINDS]


@pytest.mark.parametrize(("table", "how"), DB_CASES, ids=[f"{t}-{k}" for t, k in DB_CASES])
def test_database_table_drift_is_refused(golden: Path, tmp_path: Path, table: str, how: str) -> None:
    """Every table of both databases: added/dropped/renamed/retyped columns fail the extract."""
    config = _copy(golden, tmp_path)
    database, column, kind = DB_COLUMNS[table]
    before = fingerprint(config)
    named = _drift_table(config, database, table, column, kind, how)
    with pytest.raises(DeliveryError) as caught:
        pipeline.ingest(database, D, config)
    message = str(caught.value)
    assert f"table {table}" in message, message
    expected_phrase = {"added": f"unexpected columns ['{named}']",
                       "dropped": f"missing columns ['{column}']",
                       "renamed": f"missing columns ['{column}']; unexpected columns ['{named}']",
                       "retyped": f"column '{column}' failed in"}[how]
    assert expected_phrase in message, message
    assert fingerprint(config) == before
    with get_engine(load_config(config).warehouse_url).connect() as conn:
        outcome = conn.execute(text("SELECT last_outcome FROM meta_source_state WHERE source = :s"),
                               {"s": database}).scalar()
    assert outcome == "failed"


# --------------------------------------------------------------------------- files


def _read(path: Path, source: str) -> pd.DataFrame:
    if source == "property":
        return pd.read_excel(path, sheet_name="权利人信息", dtype=str, engine="calamine").fillna("")
    encoding, sep = ("gb18030", ",") if source == "electricity" else ("utf-8", "|")
    return pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, encoding=encoding,
                       quoting=3 if sep == "|" else 0)


def _write(frame: pd.DataFrame, path: Path, source: str) -> None:
    if source == "property":
        frame.to_excel(path, sheet_name="权利人信息", index=False, engine="openpyxl")
        return
    encoding, sep = ("gb18030", ",") if source == "electricity" else ("utf-8", "|")
    path.write_bytes(frame.to_csv(sep=sep, index=False, lineterminator="\n",
                                  quoting=3 if sep == "|" else 0).encode(encoding))


def _reformat(values: pd.Series, source: str) -> pd.Series:
    """A month or date column in a format the contract does not know (10/2026, 03/05/2024)."""
    if source == "electricity":  # YYYYMM -> MM/YYYY
        return values.str[4:6] + "/" + values.str[:4]
    if source == "water":  # YYYY-MM -> MM/YYYY
        return values.str[5:7] + "/" + values.str[:4]
    parsed = pd.to_datetime(values.str[:10], errors="coerce")
    return parsed.dt.strftime("%m/%d/%Y").fillna("")


FILE_CASES = [(s, k) for s in FILES for k in FILE_KINDS]


@pytest.mark.parametrize(("source", "how"), FILE_CASES, ids=[f"{s}-{k}" for s, k in FILE_CASES])
def test_file_drift_is_refused(golden: Path, tmp_path: Path, source: str, how: str) -> None:
    """Each file source re-delivers its loaded file drifted: the source fails, nothing changes."""
    config = _copy(golden, tmp_path)
    folder, name, number, when = FILES[source]
    path = config.parent / "drop" / folder / name
    frame = _read(path, source)
    assert len(frame) > 100
    before = fingerprint(config)
    if how == "added":
        frame["备注"], phrase = "新字段", "1 unexpected column (position"
    elif how == "dropped":
        frame, phrase = frame.drop(columns=[number]), f"missing columns ['{number}']"
    elif how == "renamed":
        frame = frame.rename(columns={number: f"{number}_新"})
        phrase = f"missing columns ['{number}']; 1 unexpected column (position"
    elif how == "retyped":
        frame[number] = "约" + frame[number] + "单位"
        phrase = f"column '{number}' failed in"
    else:
        frame[when] = _reformat(frame[when], source)
        assert (frame[when] != "").sum() > len(frame) / 2
        phrase = f"column '{when}' failed in"
    _write(frame, path, source)
    with pytest.raises(DeliveryError) as caught:
        pipeline.ingest(source, D, config)
    message = str(caught.value)
    assert name in message and phrase in message, message
    assert fingerprint(config) == before
    with get_engine(load_config(config).warehouse_url).connect() as conn:
        refused = conn.execute(text("SELECT reason FROM meta_refused WHERE source = :s AND item = :f"),
                               {"s": source, "f": name}).scalar()
    assert refused and phrase in refused  # refused again, loudly, until the department replaces it
