"""Faithful over time: a multi-day timeline against the generator's independent reference.

The story (``timeline_story``) changes the sources day by day — corrections,
re-sends (corrected, header-only, collapsed), a new utility month, new, refused
and copied property snapshots, an emptied personnel table, future timestamps,
dispositions files, operator acceptances — and runs the pipeline after each day,
then back-fills an earlier day and a gap day and re-runs the latest one. After
every run the published extract must hold exactly the reference's case keys per
rule, statuses and ``first_seen``, the manifest must name the reference's stale
sources, and a re-run with nothing changed must reproduce the case CSV and the
workbook byte for byte.

Runs on SQLite and on PostgreSQL (in-process ``pipeline.run``, one day through
``safetynet run`` as a subprocess), and the first days through Airflow
(``airflow dags test`` of every DAG). Every difference of every run is
collected and reported together, so one failing run does not hide the others.
"""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
import yaml
from tests.integration.timeline_story import CLI_DAY, STORY, late_decision, no_events

from safetynet.generate.reference_timeline import DayExpectation
from safetynet.generate.timeline import Timeline

pytestmark = [pytest.mark.integration]


# --------------------------------------------------------------------------- reading the outbox


def _folder(config: Path, day: date) -> Path:
    raw = yaml.safe_load(config.read_text("utf-8"))
    return config.parent / raw["outbox"]["location"] / day.isoformat()


def _extract(folder: Path, day: date) -> dict[str, dict[str, str]]:
    with (folder / f"mismatches_{day:%Y%m%d}.csv").open(encoding="utf-8-sig", newline="") as fh:
        return {r["case_key"]: r for r in csv.DictReader(fh)}


def _differences(config: Path, exp: DayExpectation, label: str) -> list[str]:
    """Every way the published extract of ``exp.report_date`` differs from the reference."""
    day = exp.report_date
    folder = _folder(config, day)
    where = f"{label} [{day}]"
    if not (folder / "_SUCCESS").is_file():
        return [f"{where}: no published extract in {folder}"]
    got = _extract(folder, day)
    out = []
    by_rule: dict[str, set[str]] = {}
    for key, found in got.items():
        by_rule.setdefault(found["rule_code"], set()).add(key)
    for rule, keys in exp.keys_by_rule().items():
        have = by_rule.pop(rule, set())
        if set(keys) != have:
            out.append(f"{where}: {rule} missing {sorted(set(keys) - have)} "
                       f"extra {sorted(have - set(keys))}")
    out += [f"{where}: unexpected rule {r} {sorted(k)}" for r, k in by_rule.items()]
    for key, want in sorted(exp.rows.items()):
        if key in got and got[key]["status"] != want.status:
            out.append(f"{where}: {key} status {got[key]['status']} expected {want.status}")
        if key in got and got[key]["first_seen"] != want.first_seen.isoformat():
            out.append(f"{where}: {key} first_seen {got[key]['first_seen']} "
                       f"expected {want.first_seen}")
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    if sorted(manifest.get("stale_sources", [])) != exp.stale:
        out.append(f"{where}: stale_sources {manifest.get('stale_sources')} expected {exp.stale}")
    return out


def _future_rows(config: Path, day: date) -> int:
    manifest = json.loads((_folder(config, day) / "manifest.json").read_text("utf-8"))
    return int(manifest["sources"]["civil_affairs"].get("future_rows") or 0)


def _files(config: Path, day: date) -> dict[str, bytes]:
    folder = _folder(config, day)
    return {ext: (folder / f"mismatches_{day:%Y%m%d}.{ext}").read_bytes()
            for ext in ("csv", "xlsx") if (folder / f"mismatches_{day:%Y%m%d}.{ext}").is_file()}


# --------------------------------------------------------------------------- running


def _safetynet(*args: str) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).with_name("safetynet")
    cmd = [str(script)] if script.exists() else [sys.executable, "-m", "safetynet.cli"]
    return subprocess.run([*cmd, *args], capture_output=True, text=True, timeout=600, check=False)


Runner = Callable[[Path, date, int], str | None]
"""Runs one report date (story index given); returns a problem or None."""


def _in_process(config: Path, day: date, index: int) -> str | None:
    from safetynet.pipeline import run

    if index == CLI_DAY:
        done = _safetynet("run", "--config", str(config), "--date", day.isoformat())
        return None if done.returncode == 0 else \
            f"safetynet run --date {day} exited {done.returncode}: {done.stderr[-800:]}"
    try:
        run(day, config)
    except Exception as exc:
        return f"pipeline.run({day}) raised {type(exc).__name__}: {str(exc)[:500]}"
    return None


def _replay(config: Path, runner: Runner, steps: int = len(STORY)) -> list[str]:
    """Replay the first ``steps`` runs of the story; every difference found, in order."""
    tl = Timeline(config)
    problems: list[str] = []
    last_change = -1
    last_run: dict[date, int] = {}
    kept: dict[date, dict[str, bytes]] = {}
    for i, (day, events, label) in enumerate(STORY[:steps]):
        for args in events(tl, day):
            done = _safetynet(*args)
            if done.returncode != 0:
                problems.append(f"{label} [{day}]: safetynet {' '.join(args[:1] + args[3:])} "
                                f"exited {done.returncode}: {done.stderr.strip()[-300:]}")
        if events not in (no_events, late_decision):  # a late decision changes no published day
            last_change = i
        problem = runner(config, day, i)
        exp = tl.expect_run(day)
        if problem:
            problems.append(f"{label} [{day}]: {problem}")
            continue
        problems += _differences(config, exp, label)
        if i >= 1 and _future_rows(config, day) < 1:
            problems.append(f"{label} [{day}]: manifest reports no future_rows for civil_affairs "
                            "(a 2099-01-01 updated_at is at the source)")
        files = _files(config, day)
        if day in last_run and last_change <= last_run[day]:  # nothing changed since
            for ext, data in files.items():
                if data != kept[day].get(ext):
                    problems.append(f"{label} [{day}]: mismatches_{day:%Y%m%d}.{ext} differs from "
                                    "the previous run's although no source changed")
        last_run[day], kept[day] = i, files
    return problems


def _mart(config: Path, day: date) -> list[tuple]:
    from sqlalchemy import text

    from safetynet.config import load_config
    from safetynet.warehouse.engine import get_engine

    with get_engine(load_config(config).warehouse_url).connect() as conn:
        return [tuple(str(v) for v in row) for table in ("mart_case_day", "mart_warning_day")
                for row in conn.execute(text(f"SELECT * FROM {table} WHERE report_date = :d "
                                             "ORDER BY case_key"), {"d": day.isoformat()})]


def _keys(rows: set[tuple]) -> list[str]:
    """The case keys (with status) of a few mart rows, for a message."""
    return sorted(f"{r[1]} {r[3]}" for r in rows)[:4]


def _checking_full(scoped: list[date]) -> Runner:
    """``_in_process``, then D evaluated again incrementally and in full: both must leave D's
    items exactly as the run wrote them (``rules/scope.py``)."""
    from safetynet.config import load_config
    from safetynet.rules.engine import evaluate_rules

    def run(config: Path, day: date, index: int) -> str | None:
        problem = _in_process(config, day, index)
        if problem:
            return problem
        written = _mart(config, day)
        if evaluate_rules(load_config(config), day)["evaluated_for_changes"]:
            scoped.append(day)
        if (again := _mart(config, day)) != written:
            return ("evaluating D again (incrementally) changed its items: only in the run "
                    f"{_keys(set(written) - set(again))}, only again {_keys(set(again) - set(written))}")
        evaluate_rules(load_config(config), day, full=True)
        now = _mart(config, day)
        if now != written:
            return (f"a full evaluation of D differs from the incremental one: only incremental "
                    f"{sorted(set(written) - set(now))[:3]}, only full {sorted(set(now) - set(written))[:3]}")
        return None

    return run


def test_timeline_on_sqlite(deployment: Callable[..., Path], tmp_path: Path) -> None:
    """Also: every day's incremental evaluation equals a full one, and most days are incremental."""
    config = deployment(tmp_path, households=400, seed=7)
    scoped: list[date] = []
    problems = _replay(config, _checking_full(scoped))
    assert not problems, "\n".join(problems)
    assert len(scoped) >= 3, f"only {scoped} were evaluated incrementally"


def test_timeline_on_postgres(deployment: Callable[..., Path], pg_database: str,
                              tmp_path: Path) -> None:
    config = deployment(tmp_path, households=400, seed=7)
    raw = yaml.safe_load(config.read_text("utf-8"))
    raw["warehouse"] = pg_database
    config.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), "utf-8")
    scoped: list[date] = []
    problems = _replay(config, _checking_full(scoped))
    assert not problems, "\n".join(problems)
    assert len(scoped) >= 3, f"only {scoped} were evaluated incrementally"


# --------------------------------------------------------------------------- Airflow

AIRFLOW_DAYS = 2
"""Runs of the story replayed through Airflow (the first run and the day of re-sends)."""
LANES = 3
"""Ingest DAGs tested at once (each in its own Airflow home: SQLite metadata does not share)."""


def _airflow_runner(homes: Path, logs: Path) -> Runner:
    from safetynet.orchestration.environment import DAG_IDS, airflow_environment, run_airflow

    def run_day(config: Path, day: date, index: int) -> str | None:
        outcome: dict[str, int] = {}
        todo = list(DAG_IDS[:-1])
        lock = threading.Lock()

        def lane() -> None:
            while True:
                with lock:
                    if not todo:
                        return
                    dag_id = todo.pop(0)
                env = airflow_environment(config, homes / dag_id)
                done = run_airflow(["dags", "test", dag_id, day.isoformat()], env,
                                   logs / f"{day}-{dag_id}.log", timeout=900)
                outcome[dag_id] = done.returncode

        threads = [threading.Thread(target=lane) for _ in range(LANES)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        env = airflow_environment(config, homes / "daily_report")
        report = run_airflow(["dags", "test", "daily_report", day.isoformat()], env,
                             logs / f"{day}-daily_report.log", timeout=900)
        failed = sorted(d for d, rc in outcome.items() if rc != 0)
        expected = ["ingest_electricity"] if day == date(2026, 11, 21) else []
        if report.returncode != 0:
            return f"daily_report failed (ingests failed: {failed}); logs in {logs}"
        if failed != expected:
            return f"ingest DAGs failed {failed}, expected {expected} (refused batches fail)"
        return None

    return run_day


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_timeline_through_airflow(deployment: Callable[..., Path], tmp_path: Path) -> None:
    from safetynet.orchestration.environment import DAG_IDS, airflow_environment, run_airflow

    config = deployment(tmp_path, households=400, seed=7)
    homes, logs = tmp_path / "airflow", tmp_path / "logs"
    migrated = homes / "migrated"
    done = run_airflow(["db", "migrate"], airflow_environment(config, migrated),
                       logs / "db_migrate.log", timeout=600)
    assert done.returncode == 0, (logs / "db_migrate.log").read_text("utf-8", "replace")[-2000:]
    for dag_id in DAG_IDS:
        (homes / dag_id).mkdir(parents=True)
        shutil.copy(migrated / "airflow.db", homes / dag_id / "airflow.db")
    problems = _replay(config, _airflow_runner(homes, logs), steps=AIRFLOW_DAYS)
    assert not problems, "\n".join(problems)
