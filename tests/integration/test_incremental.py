"""Incremental extraction of the two databases by watermark (sources.md, issue 3)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from safetynet import pipeline
from safetynet.config import load_config
from safetynet.warehouse.engine import get_engine

D = date(2026, 11, 20)


def _source_db(config: Path) -> sqlite3.Connection:
    return sqlite3.connect(config.parent / "sources" / "civil_affairs.db")


def _scalar(config: Path, sql: str) -> object:
    with get_engine(load_config(config).warehouse_url).connect() as conn:
        return conn.execute(text(sql)).scalar()


def test_second_run_reads_only_changed_rows_and_applies_them(
        deployment: Callable[..., Path], tmp_path: Path) -> None:
    config = deployment(tmp_path)
    first = pipeline.extract("civil_affairs", D, config)
    pipeline.load("civil_affairs", pipeline.validate("civil_affairs", first, config), config)
    with _source_db(config) as db:
        hid = db.execute("SELECT household_id FROM sa_household WHERE status = 'ACTIVE' "
                         "ORDER BY household_id LIMIT 1").fetchone()[0]
        db.execute("UPDATE sa_household SET status = 'TERMINATED', updated_at = '2026-11-21 09:00:00' "
                   "WHERE household_id = ?", (hid,))
    second = pipeline.extract("civil_affairs", D + timedelta(1), config)
    assert second["read"] < first["read"] / 20  # the boundary rows and the change, not everything
    pipeline.load("civil_affairs", pipeline.validate("civil_affairs", second, config), config)
    assert _scalar(config, f"SELECT status FROM core_household WHERE household_id = '{hid}'") == "TERMINATED"
    assert _scalar(config, f"SELECT COUNT(*) FROM core_household WHERE household_id = '{hid}'") == 1
    assert _scalar(config, "SELECT value FROM meta_watermark WHERE table_name = 'sa_household'") == (
        '"2026-11-21 09:00:00"')


def test_watermark_does_not_advance_when_the_load_fails(
        deployment: Callable[..., Path], tmp_path: Path) -> None:
    config = deployment(tmp_path)
    pipeline.ingest("civil_affairs", D, config)
    before = _scalar(config, "SELECT value FROM meta_watermark WHERE table_name = 'sa_household'")
    with _source_db(config) as db:
        db.execute("UPDATE sa_household SET updated_at = '2026-11-22 10:00:00' "
                   "WHERE household_id = (SELECT MIN(household_id) FROM sa_household)")
    batch = pipeline.validate("civil_affairs", pipeline.extract("civil_affairs", D, config), config)
    parquet = Path(batch["path"]) / "sa_payment.rows.parquet"
    parquet.write_bytes(b"not parquet")  # the load fails part-way, after earlier tables
    with pytest.raises(Exception, match=r"(?i)parquet"):
        pipeline.load("civil_affairs", batch, config)
    assert _scalar(config, "SELECT value FROM meta_watermark WHERE table_name = 'sa_household'") == before
    assert _scalar(config, "SELECT last_outcome FROM meta_source_state WHERE source = 'civil_affairs'"
                   ) == "failed"
