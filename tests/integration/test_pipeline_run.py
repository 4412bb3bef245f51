"""`safetynet run` end to end on generated deployments, on SQLite and on PostgreSQL.

The extract's case keys must equal the generator's independent reference for
every rule; every file's accounting must add up; a second run must change nothing.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from safetynet.config import load_config
from safetynet.pipeline import run
from safetynet.sources.declarations import SOURCES
from safetynet.warehouse.engine import get_engine

D = date(2026, 11, 20)


def _use_warehouse(config: Path, url: str | None) -> Path:
    if url:
        body = config.read_text(encoding="utf-8")
        body = "\n".join(f"warehouse: {url}" if line.startswith("warehouse:") else line
                         for line in body.splitlines())
        config.write_text(body + "\n", encoding="utf-8")
    return config


def _extract(config: Path) -> list[dict[str, str]]:
    folder = config.parent / "outbox" / D.isoformat()
    assert (folder / "_SUCCESS").exists()
    with (folder / f"mismatches_{D:%Y%m%d}.csv").open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _warnings(config: Path) -> list[dict[str, str]]:
    """The published hardship warnings of D (the bureau's outbox), none resolved on a first run."""
    folder = Path(load_config(config).warning_outbox) / D.isoformat()
    assert (folder / "_SUCCESS").exists()
    with (folder / f"warnings_{D:%Y%m%d}.csv").open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _table_checksums(url: str) -> dict[str, tuple[int, str]]:
    engine = get_engine(url)
    out = {}
    with engine.connect() as conn:
        for table in sorted(inspect(engine).get_table_names()):
            if (table.startswith("meta_") and table != "meta_quarantine") or table == "int_change_log":
                continue  # timestamps of loads differ by design; the change log logs every write
            rows = conn.execute(text(f"SELECT * FROM {table}")).all()
            digest = hashlib.sha256("\n".join(sorted(map(repr, rows))).encode()).hexdigest()
            out[table] = (len(rows), digest)
    return out


@pytest.fixture(params=["sqlite", "postgresql"])
def warehouse_url(request: pytest.FixtureRequest) -> str | None:
    return None if request.param == "sqlite" else request.getfixturevalue("pg_database")


@pytest.mark.parametrize("seed", [7, 11])
def test_extract_equals_the_reference_for_every_rule(
        deployment: Callable[..., Path], tmp_path: Path, warehouse_url: str | None, seed: int) -> None:
    config = _use_warehouse(deployment(tmp_path, households=600, seed=seed), warehouse_url)
    result = run(D, config)
    assert result["failed_sources"] == {}
    reference = json.loads((config.parent / "expected_cases.json").read_text("utf-8"))
    expected = reference["cases"]
    got: dict[str, set[str]] = {rule: set() for rule in expected}
    for row in _extract(config):
        got[row["rule_code"]].add(row["case_key"])
    assert got == {rule: set(keys) for rule, keys in expected.items()}
    warned: dict[str, set[str]] = {code: set() for code in reference["warnings"]}
    for row in _warnings(config):
        warned[row["warning_code"]].add(row["warning_key"])
    assert warned == {code: set(keys) for code, keys in reference["warnings"].items()}


def test_accounting_adds_up_and_a_second_run_changes_nothing(
        deployment: Callable[..., Path], tmp_path: Path, warehouse_url: str | None) -> None:
    config = _use_warehouse(deployment(tmp_path), warehouse_url)
    run(D, config)
    cfg = load_config(config)
    with get_engine(cfg.warehouse_url).connect() as conn:
        log = conn.execute(text(
            "SELECT source, item, rows_read, rows_loaded, rows_quarantined, rows_duplicate "
            "FROM meta_load_log")).all()
    assert {r.source for r in log} == set(SOURCES), "every declared source the deployment has loaded"
    for r in log:
        assert r.rows_read == r.rows_loaded + r.rows_quarantined + r.rows_duplicate, r.item
    csv_path = config.parent / "outbox" / D.isoformat() / f"mismatches_{D:%Y%m%d}.csv"
    first_csv, first_tables = csv_path.read_bytes(), _table_checksums(cfg.warehouse_url)
    run(D, config)
    assert csv_path.read_bytes() == first_csv
    assert _table_checksums(cfg.warehouse_url) == first_tables


def test_the_unfinished_file_is_never_read(deployment: Callable[..., Path], tmp_path: Path) -> None:
    config = deployment(tmp_path)
    unfinished = sorted((config.parent / "drop" / "power").glob("DL_*.csv"))[-1]
    assert not unfinished.with_name(unfinished.name + ".ok").exists()
    run(D, config)
    with get_engine(load_config(config).warehouse_url).connect() as conn:
        names = set(conn.execute(text("SELECT DISTINCT file_name FROM core_utility_reading")).scalars())
    assert unfinished.name not in names


def test_a_bad_delivery_fails_only_its_source_and_the_report_names_it_stale(
        deployment: Callable[..., Path], tmp_path: Path) -> None:
    config = deployment(tmp_path)
    drop = config.parent / "drop" / "water"
    bad = drop / "SS_202510.txt"
    bad.write_bytes("ACCOUNT_NO|HOLDER_NAME|HOLDER_ID|ADDRESS|PERIOD|USAGE_M3\nW1|张三||永丰|2025-10|3\n"
                    .encode("gb18030"))
    (drop / "SS_202510.txt.ok").touch()
    result = run(D, config)
    assert set(result["failed_sources"]) == {"water"}
    assert "SS_202510.txt" in result["failed_sources"]["water"]
    manifest = json.loads((config.parent / "outbox" / D.isoformat() / "manifest.json").read_text("utf-8"))
    assert manifest["stale_sources"] == ["water"]
    assert manifest["sources"]["electricity"]["stale"] is False
    with get_engine(load_config(config).warehouse_url).connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM core_utility_reading WHERE source = 'water'")
                            ).scalar() == 0
