"""End to end through Airflow: one day of every DAG with ``airflow dags test``.

This is the path production takes (the DAGs, not the CLI): each DAG runs in its
own ``airflow`` subprocess against a private Airflow home with SQLite metadata,
and the published extract must hold exactly the cases the generator planted.
Then the same day runs with the warehouse on PostgreSQL, which must find the
same cases as SQLite.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
import yaml

from safetynet.orchestration.environment import (
    DAG_IDS,
    airflow_environment,
    run_airflow,
)

REPORT_DATE = date(2026, 11, 20)
DAY = REPORT_DATE.isoformat()
CASES_CSV = f"mismatches_{REPORT_DATE:%Y%m%d}.csv"

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(1800)]


def _log_excerpt(log: Path, lines: int = 40) -> str:
    """The failure callback's summary line and the end of an ``airflow`` log."""
    text = log.read_text(encoding="utf-8", errors="replace").splitlines()
    summary = [ln for ln in text if "safetynet failure:" in ln][:1]
    return "\n".join([*summary, "...", *text[-lines:]])


def _run_day(config: Path, airflow_home: Path, logs: Path) -> Path:
    """Run every DAG for the report date; return the published folder."""
    from safetynet.config import load_config

    env = airflow_environment(config, airflow_home)
    for dag_id in DAG_IDS:
        log = logs / f"{dag_id}.log"
        result = run_airflow(["dags", "test", dag_id, DAY], env, log, timeout=900)
        if result.returncode != 0:
            pytest.fail(f"airflow dags test {dag_id} {DAY} failed; log {log}:\n{_log_excerpt(log)}")
    return Path(load_config(config).outbox) / DAY


def _cases_by_rule(folder: Path) -> dict[str, list[str]]:
    """Case keys per rule code from the published CSV, sorted."""
    by_rule: dict[str, list[str]] = {}
    with (folder / CASES_CSV).open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            by_rule.setdefault(row["rule_code"], []).append(row["case_key"])
    return {rule: sorted(keys) for rule, keys in sorted(by_rule.items())}


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated Airflow home (SQLite metadata) for every run in this module."""
    home = tmp_path_factory.mktemp("airflow_home")
    placeholder = home / "no-deployment.yaml"  # migrate reads no deployment
    log = home / "db_migrate.log"
    env = airflow_environment(placeholder, home)
    result = run_airflow(["db", "migrate"], env, log, timeout=600)
    assert result.returncode == 0, _log_excerpt(log)
    return home


@pytest.fixture(scope="module")
def sqlite_day(
    airflow_home: Path, deployment: Callable[..., Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Path, Path]]:
    """(config.yaml, published folder) of a 400-household deployment run with SQLite."""
    base = tmp_path_factory.mktemp("sqlite_day")
    config = deployment(base, households=400, seed=7, report_date=REPORT_DATE)
    yield config, _run_day(config, airflow_home, base / "logs")


def test_publishes_the_extract(sqlite_day: tuple[Path, Path]) -> None:
    _, folder = sqlite_day
    for name in (CASES_CSV, "manifest.json", "_SUCCESS"):
        assert (folder / name).is_file(), f"{folder} lacks {name}"


def test_planted_cases_are_found(sqlite_day: tuple[Path, Path]) -> None:
    config, folder = sqlite_day
    expected = json.loads((config.parent / "expected_cases.json").read_text(encoding="utf-8"))
    found = _cases_by_rule(folder)
    for rule in ("R01", "R08"):
        assert expected["cases"][rule], f"the generator planted no {rule} case"
        assert found.get(rule, []) == sorted(expected["cases"][rule]), rule


def test_postgres_warehouse_finds_the_same_cases(
    sqlite_day: tuple[Path, Path],
    airflow_home: Path,
    deployment: Callable[..., Path],
    pg_database: str,
    tmp_path: Path,
) -> None:
    config = deployment(tmp_path, households=400, seed=7, report_date=REPORT_DATE)
    raw = yaml.safe_load(config.read_text(encoding="utf-8"))
    raw["warehouse"] = pg_database
    config.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")

    folder = _run_day(config, airflow_home, tmp_path / "logs")

    assert (folder / "_SUCCESS").is_file()
    on_sqlite = _cases_by_rule(sqlite_day[1])
    on_postgres = _cases_by_rule(folder)
    assert on_sqlite, "the SQLite run published no cases"
    assert on_postgres.keys() == on_sqlite.keys()
    for rule, keys in on_sqlite.items():
        assert on_postgres[rule] == keys, rule


def test_a_bad_source_fails_its_dag_and_the_report_still_publishes_naming_it_stale(
    airflow_home: Path, deployment: Callable[..., Path], tmp_path: Path
) -> None:
    import shutil

    from safetynet.config import load_config

    config = deployment(tmp_path, households=200, seed=7, report_date=REPORT_DATE)
    drop = config.parent / "drop" / "water"
    shutil.copy(config.parent / "extras" / "bad" / "water" / "SS_202509.txt", drop / "SS_202509.txt")
    (drop / "SS_202509.txt.ok").touch()
    env = airflow_environment(config, airflow_home)
    logs = tmp_path / "logs"
    logs.mkdir()
    outcomes = {dag_id: run_airflow(["dags", "test", dag_id, DAY], env, logs / f"{dag_id}.log",
                                    timeout=900).returncode for dag_id in DAG_IDS}
    assert outcomes.pop("ingest_water") != 0
    assert set(outcomes.values()) == {0}, outcomes
    log = (logs / "ingest_water.log").read_text(encoding="utf-8", errors="replace")
    assert "SS_202509.txt" in log and "missing columns ['HOLDER_ID']" in log
    folder = Path(load_config(config).outbox) / DAY
    assert (folder / "_SUCCESS").is_file()
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["stale_sources"] == ["water"]


def test_an_optional_source_the_deployment_lacks_skips_its_dag(
    airflow_home: Path, deployment: Callable[..., Path], tmp_path: Path
) -> None:
    config = deployment(tmp_path, households=100, seed=7, report_date=REPORT_DATE)
    settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    for optional in ("vehicles", "business"):
        settings["sources"].pop(optional, None)
    config.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    env = airflow_environment(config, airflow_home)
    for dag_id in ("ingest_vehicles", "ingest_business"):
        log = tmp_path / f"{dag_id}.log"
        result = run_airflow(["dags", "test", dag_id, DAY], env, log, timeout=900)
        assert result.returncode == 0, _log_excerpt(log)
        text = log.read_text(encoding="utf-8", errors="replace")
        assert "is not configured" in text and "skipped" in text.lower(), _log_excerpt(log)
        assert "state=failed" not in text.lower()
