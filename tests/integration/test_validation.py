"""GX validation on generated deployments: each planted bad batch is caught the way its level says.

Batch-level failures (collapsed ID validity, a volume drop, a stale delivery, a
broken layout) fail only their source, load nothing and leave the last good data;
row-level failures (out-of-range values, reversed dates, duplicate owners) are
quarantined with the expectation's name while the accounting still adds up.
Results and Data Docs never contain an ID number.
"""

from __future__ import annotations

import json
import logging
import math
import re
import sqlite3
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text

from safetynet.config import load_config
from safetynet.pipeline import extract, run, validate
from safetynet.warehouse.engine import get_engine

D = date(2026, 11, 20)
LATER = date(2026, 11, 21)
FILES = {"electricity": ("power", "DL_{}.csv", "gb18030", ",", "抄表年月", "证件号码", "本月电量"),
         "water": ("water", "SS_{}.txt", "utf-8", "|", "PERIOD", "HOLDER_ID", "USAGE_M3")}


def _use_warehouse(config: Path, url: str | None) -> Path:
    if url:
        body = config.read_text(encoding="utf-8").splitlines()
        body = [f"warehouse: {url}" if line.startswith("warehouse:") else line for line in body]
        config.write_text("\n".join(body) + "\n", encoding="utf-8")
    return config


def _sql(config: Path, query: str, **params: object) -> list[tuple]:
    with get_engine(load_config(config).warehouse_url).connect() as conn:
        return [tuple(r) for r in conn.execute(text(query), params)]


def _utility_rows(config: Path, source: str) -> int:
    return _sql(config, "SELECT COUNT(*) FROM core_utility_reading WHERE source = :s", s=source)[0][0]


def _deliver_month(config: Path, source: str, edit: Callable[[pd.DataFrame], pd.DataFrame]) -> str:
    """Deliver 2026-11 as a copy of 2026-10 changed by ``edit``; returns the file name."""
    folder, pattern, enc, sep, month_col, _, _ = FILES[source]
    drop = config.parent / "drop" / folder
    frame = pd.read_csv(drop / pattern.format("202610"), encoding=enc, sep=sep, dtype=str)
    frame[month_col] = "202611" if source == "electricity" else "2026-11"
    name = pattern.format("202611")
    edit(frame).to_csv(drop / name, encoding=enc, sep=sep, index=False)
    (drop / f"{name}.ok").touch()
    return name


@pytest.fixture(params=["sqlite", "postgresql"])
def warehouse_url(request: pytest.FixtureRequest) -> str | None:
    return None if request.param == "sqlite" else request.getfixturevalue("pg_database")


def _shift_ids(source: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    id_col = FILES[source][5]
    return lambda f: f.assign(**{id_col: f[id_col].where(f[id_col].isna(), f.iloc[:, 3])})


def _placeholder_ids(source: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    return lambda f: f.assign(**{FILES[source][5]: "000000000000000000"})


@pytest.mark.parametrize(("source", "planted"), [("water", "shifted"), ("electricity", "placeholder")])
def test_collapsed_id_validity_rejects_the_batch(deployment: Callable[..., Path], tmp_path: Path,
                                                 warehouse_url: str | None, source: str,
                                                 planted: str) -> None:
    config = _use_warehouse(deployment(tmp_path, households=200), warehouse_url)
    assert run(D, config)["failed_sources"] == {}
    before = _utility_rows(config, source)
    edit = _shift_ids(source) if planted == "shifted" else _placeholder_ids(source)
    name = _deliver_month(config, source, edit)
    result = run(LATER, config)
    assert set(result["failed_sources"]) == {source}
    message = result["failed_sources"][source]
    assert "BatchRejected" in message and name in message
    assert "expect_column_values_to_be_null [holder_id_problem]" in message and "unexpected" in message
    assert not re.search(r"\d{17}[\dX]", message)
    assert _utility_rows(config, source) == before
    assert result["stale_sources"] == [source]
    outbox = config.parent / "outbox" / LATER.isoformat()
    manifest = json.loads((outbox / "manifest.json").read_text("utf-8"))
    assert manifest["stale_sources"] == [source]
    assert "BatchRejected" in manifest["sources"][source]["last_error"]
    stored = _sql(config, "SELECT outcome, level FROM meta_validation WHERE item = :i "
                          "AND expectation = 'expect_column_values_to_be_null'", i=name)
    assert stored == [("rejected", "batch")]


def test_volume_drop_against_the_previous_delivery_rejects(deployment: Callable[..., Path],
                                                          tmp_path: Path) -> None:
    config = deployment(tmp_path, households=200)
    assert run(D, config)["failed_sources"] == {}
    previous = _sql(config, "SELECT rows_loaded FROM meta_load_log WHERE item = 'DL_202610.csv'")[0][0]
    before = _utility_rows(config, "electricity")
    _deliver_month(config, "electricity", lambda f: f.head(len(f) // 3))
    result = run(LATER, config)
    message = result["failed_sources"]["electricity"]
    assert "DL_202611.csv: " in message and "rows, fewer than validation.volume_floor (0.5)" in message
    assert f"min_value {math.ceil(previous * 0.5)}" in message
    assert "safetynet accept --source electricity --item DL_202611.csv" in message
    assert _utility_rows(config, "electricity") == before and result["stale_sources"] == ["electricity"]


def test_stale_snapshot_rejects_the_source_and_keeps_the_warehouse(deployment: Callable[..., Path],
                                                                   tmp_path: Path) -> None:
    config = deployment(tmp_path, households=200)
    late = date(2026, 12, 20)  # the newest registry snapshots (2026-11-20) are 30 days old, limit 14
    result = run(late, config)
    snapshots = {"property", "vehicles"}  # both registries deliver dated snapshots
    assert set(result["failed_sources"]) == snapshots
    for source in snapshots:
        assert "expect_column_max_to_be_between [snapshot_date] rejected: observed 2026-11-20" in \
            result["failed_sources"][source]
    assert _sql(config, "SELECT COUNT(*) FROM core_property_right")[0][0] == 0
    assert _sql(config, "SELECT COUNT(*) FROM core_vehicle")[0][0] == 0
    assert result["stale_sources"] == sorted(snapshots)


def test_freshness_age_is_configurable(deployment: Callable[..., Path], tmp_path: Path) -> None:
    config = deployment(tmp_path, households=200)
    with config.open("a", encoding="utf-8") as fh:
        fh.write("validation:\n  max_age_days:\n    civil_affairs: 5\n")
    batch = extract("civil_affairs", D, config)
    with pytest.raises(RuntimeError, match=r"sa_payment: expect_column_max_to_be_between \[period\]"):
        validate("civil_affairs", batch, config)
    assert _sql(config, "SELECT last_outcome FROM meta_source_state WHERE source = 'civil_affairs'") \
        == [("failed",)]


def test_out_of_range_rows_are_quarantined_by_expectation(deployment: Callable[..., Path], tmp_path: Path,
                                                          warehouse_url: str | None) -> None:
    config = _use_warehouse(deployment(tmp_path, households=200), warehouse_url)
    assert run(D, config)["failed_sources"] == {}
    usage = FILES["electricity"][6]

    def dirty(f: pd.DataFrame) -> pd.DataFrame:
        f.loc[[0, 1], usage] = ["-5", "999999"]
        return f

    name = _deliver_month(config, "electricity", dirty)
    assert run(LATER, config)["failed_sources"] == {}
    reasons = _sql(config, "SELECT row_number, reason FROM meta_quarantine WHERE item = :i "
                           "ORDER BY row_number", i=name)
    assert reasons == [(2, "expectation expect_column_values_to_be_between [usage]"),
                       (3, "expectation expect_column_values_to_be_between [usage]")]
    read, loaded, quarantined, dup = _sql(config, "SELECT rows_read, rows_loaded, rows_quarantined, "
                                          "rows_duplicate FROM meta_load_log WHERE item = :i", i=name)[0]
    assert quarantined == 2 and read == loaded + quarantined + dup
    stored = _sql(config, "SELECT COUNT(*) FROM core_utility_reading WHERE file_name = :i", i=name)
    assert stored[0][0] == loaded


def test_a_mostly_bad_column_is_a_batch_failure_not_a_mass_quarantine(deployment: Callable[..., Path],
                                                                       tmp_path: Path) -> None:
    config = deployment(tmp_path, households=200)
    assert run(D, config)["failed_sources"] == {}
    _deliver_month(config, "water", lambda f: f.assign(USAGE_M3="-1"))
    message = run(LATER, config)["failed_sources"]["water"]
    assert "expect_column_values_to_be_between [usage] rejected" in message and "at most 10%" in message


def test_database_row_dirt_is_quarantined(deployment: Callable[..., Path], tmp_path: Path) -> None:
    config = deployment(tmp_path, households=200)
    db = config.parent / "sources" / "civil_affairs.db"
    with sqlite3.connect(db) as conn:
        hh = [r[0] for r in conn.execute("SELECT household_id FROM sa_household ORDER BY household_id")]
        conn.execute("UPDATE sa_household SET monthly_amount = -300 WHERE household_id = ?", (hh[0],))
        conn.execute("UPDATE sa_household SET terminated_on = '2001-01-01' WHERE household_id = ?", (hh[1],))
        conn.execute("INSERT INTO sa_member SELECT household_id, id_number, name || '甲', relation,"
                     " joined_on, left_on, updated_at FROM sa_member WHERE household_id = ? LIMIT 1",
                     (hh[2],))
    assert run(D, config)["failed_sources"] == {}
    got = dict(_sql(config, "SELECT reason, COUNT(*) FROM meta_quarantine WHERE source = 'civil_affairs' "
                            "GROUP BY reason"))
    assert got == {"expectation expect_column_values_to_be_between [monthly_amount]": 1,
                   "expectation expect_column_pair_values_a_to_be_greater_than_b "
                   "[approved_on, terminated_on]": 1,
                   "expectation expect_compound_columns_to_be_unique [household_id, id_hash]": 2}
    assert _sql(config, "SELECT COUNT(*) FROM core_household WHERE household_id IN (:a, :b)",
                a=hh[0], b=hh[1])[0][0] == 0


def test_results_and_data_docs_hold_no_id_numbers(deployment: Callable[..., Path], tmp_path: Path) -> None:
    config = deployment(tmp_path, households=400)
    with sqlite3.connect(config.parent / "sources" / "civil_affairs.db") as conn:  # failing rows with IDs
        conn.execute("INSERT INTO sa_member SELECT household_id, id_number, name || '乙', relation,"
                     " joined_on, left_on, updated_at FROM sa_member WHERE id_number IS NOT NULL LIMIT 3")
    assert run(D, config)["failed_sources"] == {}
    _deliver_month(config, "water", _shift_ids("water"))  # a rejected batch's results too
    assert set(run(LATER, config)["failed_sources"]) == {"water"}
    ids: set[str] = set()
    for table, column in [("core_member", "id_norm"), ("core_allowance", "id_norm"),
                          ("core_staff", "id_norm"), ("core_cadre", "id_norm"),
                          ("core_property_right", "owner_id_norm"),
                          ("core_utility_reading", "holder_id_norm"),
                          ("core_declared_relative", "relative_id_norm")]:
        ids |= {r[0] for r in _sql(config, f"SELECT {column} FROM {table}") if r[0] and len(r[0]) == 18}
    assert len(ids) > 1000
    site = config.parent / "work" / "data_docs"
    pages = [p for p in site.rglob("*") if p.is_file() and p.suffix in (".html", ".json", ".js")]
    for source in ("civil_affairs", "personnel", "property", "electricity", "water"):
        assert (site / source / D.isoformat() / "index.html").is_file()
    assert (site / "water" / LATER.isoformat() / "index.html").is_file()
    stored = "\n".join(map(repr, _sql(config, "SELECT * FROM meta_validation")))
    assert "quarantined" in stored and "rejected" in stored
    corpus = stored + "".join(p.read_text("utf-8", errors="replace") for p in pages)
    pattern = re.compile(r"\d{17}[\dX]")
    assert not (set(pattern.findall(corpus)) & ids)
    assert not [i for i in ids if i in corpus]


def test_validation_log_is_a_short_summary(deployment: Callable[..., Path], tmp_path: Path,
                                           caplog: pytest.LogCaptureFixture) -> None:
    config = deployment(tmp_path, households=200)
    batch = extract("electricity", D, config)
    caplog.clear()
    with caplog.at_level(logging.INFO):
        result = validate("electricity", batch, config)
    lines = [line for r in caplog.records for line in r.getMessage().splitlines()]
    assert result["checked_items"] == 12 and len(lines) < 50
    assert not [r for r in caplog.records if r.name.startswith("great_expectations")]
    assert sum("DL_2026" in line or "DL_2025" in line for line in lines) == 12
    assert Path(result["data_docs"]).is_file()
