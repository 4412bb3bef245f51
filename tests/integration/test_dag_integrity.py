"""DAG integrity: every DAG (one per declared source, daily_report) parses cheaply, with shared settings.

The DAG processor re-imports every DAG file every few seconds, so a DAG file
that imports pandas or Great Expectations, or reads a file, at top level slows
the whole scheduler and can leak personal data into parse errors. These tests
pin that down, along with the settings every DAG must share (owner, tags,
retries with exponential back-off, the failure callback, explicit
``catchup=False``, a schedule), the sensors that do not hold a worker slot, the
daily report's schedule and deadline, and that ``airflow dags list-import-errors``
reports nothing.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from safetynet.sources.declarations import SOURCES

REPO_ROOT = Path(__file__).resolve().parents[2]
DAGS_DIR = REPO_ROOT / "dags"
DAG_FILES = sorted(DAGS_DIR.glob("*.py"))
INGEST_BUILDER = REPO_ROOT / "include" / "safetynet" / "orchestration" / "ingest.py"
INGEST_SOURCES = tuple(SOURCES)  # one ingest DAG per declared source
FILE_SOURCES = tuple(n for n, s in SOURCES.items() if s.kind == "files")
EXPECTED_DAG_IDS = {f"ingest_{s}" for s in INGEST_SOURCES} | {"daily_report", "daily_warnings"}
FORBIDDEN_MODULES = ("pandas", "great_expectations", "sqlalchemy", "psycopg2", "safetynet.pipeline")
IMPORT_BUDGET_S = 2.0

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def dagbag() -> Any:
    """Every DAG in ``dags/``, parsed the way the DAG processor parses them (deadlines on)."""
    import os

    from airflow.dag_processing.dagbag import DagBag

    from safetynet.orchestration.defaults import PUBLISH_BY_ENV

    saved = os.environ.pop(PUBLISH_BY_ENV, None)
    try:
        return DagBag(dag_folder=str(DAGS_DIR))
    finally:
        if saved is not None:
            os.environ[PUBLISH_BY_ENV] = saved


def test_no_import_errors(dagbag: Any) -> None:
    assert dagbag.import_errors == {}


def test_exactly_the_declared_dags(dagbag: Any) -> None:
    assert set(dagbag.dag_ids) == EXPECTED_DAG_IDS
    assert len(DAG_FILES) == len(EXPECTED_DAG_IDS), "one DAG per file"


@pytest.mark.parametrize("dag_id", sorted(EXPECTED_DAG_IDS))
def test_shared_settings(dagbag: Any, dag_id: str) -> None:
    from safetynet.orchestration import defaults

    dag = dagbag.dags[dag_id]
    assert dag.owner == defaults.OWNER
    assert "safetynet" in dag.tags and len(dag.tags) >= 2
    assert dag.catchup is False
    assert dag.max_active_runs == 1
    assert dag.schedule is not None
    cron = getattr(dag.timetable, "timetable", dag.timetable)  # AssetOrTimeSchedule wraps a cron
    assert getattr(cron, "timezone", None) == defaults.TIMEZONE
    assert dag.start_date is not None
    assert dag.doc_md and len(dag.doc_md) > 100, "doc_md says what the DAG does"
    assert dag.on_failure_callback is defaults.on_failure_callback
    for task in dag.tasks:
        assert task.owner == defaults.OWNER, task.task_id
        assert task.retries >= 1, task.task_id
        assert task.retry_exponential_backoff > 1, task.task_id
        assert task.max_retry_delay is not None, task.task_id
        assert defaults.on_failure_callback in task.on_failure_callback, task.task_id


@pytest.mark.parametrize("source", INGEST_SOURCES)
def test_ingest_shape(dagbag: Any, source: str) -> None:
    dag = dagbag.dags[f"ingest_{source}"]
    steps = {"extract", "validate", "load"}
    assert set(dag.task_ids) == (steps | {"wait_for_delivery"} if source in FILE_SOURCES else steps)
    assert dag.get_task("extract").downstream_task_ids == {"validate"}
    assert dag.get_task("validate").downstream_task_ids == {"load"}
    outlets = dag.get_task("load").outlets
    assert [o.uri for o in outlets] == [f"x-safetynet://warehouse/{source}"]


@pytest.mark.parametrize("source", FILE_SOURCES)
def test_file_sources_wait_for_their_marker_without_holding_a_slot(dagbag: Any, source: str) -> None:
    from safetynet.orchestration.sensors import DeliveryMarkerSensor

    sensor = dagbag.dags[f"ingest_{source}"].get_task("wait_for_delivery")
    assert isinstance(sensor, DeliveryMarkerSensor)
    assert sensor.source == source
    assert sensor.mode == "reschedule" or getattr(sensor, "deferrable", False)
    assert 0 < sensor.timeout <= 7 * 24 * 3600
    assert sensor.downstream_task_ids == {"extract"}
    assert sensor.upstream_task_ids == set()


def test_daily_report_shape(dagbag: Any) -> None:
    from airflow.sdk import AssetOrTimeSchedule

    from safetynet.orchestration import deadlines

    dag = dagbag.dags["daily_report"]
    assert set(dag.task_ids) == {"evaluate", "publish"}
    assert dag.get_task("evaluate").downstream_task_ids == {"publish"}
    assert isinstance(dag.timetable, AssetOrTimeSchedule)
    timetable: Any = dag.timetable
    assert timetable.timetable.expression == "30 6 * * *"
    condition: Any = timetable.asset_condition
    assert type(condition).__name__ == "AssetAny", "any one source's update triggers the report"
    assert {a.uri for a in condition.objects} == {f"x-safetynet://warehouse/{s}" for s in INGEST_SOURCES}
    (deadline,) = dag.deadline
    # Scheduled runs only (a manual run when its conf asks): see test_deadline_alerts.py.
    assert isinstance(deadline.reference, deadlines.ScheduledRunDeadline)
    assert deadline.callback.path == f"{deadlines.__name__}.publish_deadline_missed"


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_catchup_is_explicit_and_no_dag_imports_another(path: Path) -> None:
    """``catchup=False`` is written where the DAG is built, not left to a config default.

    A DAG file calls ``dag(...)`` itself, or (an ingest DAG) ``ingest_dag``, whose
    ``dag(...)`` call is then the one that must say it.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    calls = {getattr(node.func, "id", None) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    builder = tree if "dag" in calls else None
    if "ingest_dag" in calls:
        builder = ast.parse(INGEST_BUILDER.read_text(encoding="utf-8"))
    assert builder is not None, f"{path.name} builds no DAG"
    keywords = {
        kw.arg: kw.value
        for node in ast.walk(builder)
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "dag"
        for kw in node.keywords
    }
    catchup = keywords.get("catchup")
    assert isinstance(catchup, ast.Constant)
    assert catchup.value is False
    other_dags = {p.stem for p in DAG_FILES} - {path.stem}
    imported = {
        name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for name in ([a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""])
    }
    assert not imported & other_dags


# The probe imports Airflow first (its own cost, paid once per DAG processor), then
# times the DAG file alone and records which modules it added and which files it opened.
_PROBE = textwrap.dedent(
    """
    import importlib.util, json, os, sys, time
    import airflow
    from airflow.sdk import Asset, CronTriggerTimetable, dag, task
    import pendulum
    before = set(sys.modules)
    opened = []

    def audit(event, args):
        if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
            opened.append(os.fsdecode(args[0]))

    sys.addaudithook(audit)
    started = time.perf_counter()
    spec = importlib.util.spec_from_file_location("dag_under_test", sys.argv[1])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    elapsed = time.perf_counter() - started
    print("PROBE" + json.dumps({
        "elapsed": elapsed,
        "new_modules": sorted(set(sys.modules) - before),
        "opened": opened,
    }))
    """
)


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_dag_file_imports_fast_and_clean(path: Path, tmp_path: Path) -> None:
    """Parse-time cost of our own code: < 2 s, no heavy libraries, no data files read."""
    from safetynet.orchestration.environment import airflow_environment

    deployment = tmp_path / "deployment"
    deployment.mkdir()
    env = airflow_environment(deployment / "config.yaml", tmp_path / "airflow", retries=None, deadline=True)
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, str(path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(ln for ln in result.stdout.splitlines() if ln.startswith("PROBE"))
    probe = json.loads(line[len("PROBE") :])

    print(f"{path.name}: parsed in {probe['elapsed']:.3f}s")
    assert probe["elapsed"] < IMPORT_BUDGET_S, f"{path.name} took {probe['elapsed']:.2f}s"
    heavy = [
        m for m in probe["new_modules"] if any(m == f or m.startswith(f + ".") for f in FORBIDDEN_MODULES)
    ]
    assert heavy == [], f"{path.name} imports {heavy[:5]} at parse time"
    sources = (".py", ".pyc", ".pth")
    data_files = [
        p
        for p in probe["opened"]
        if not p.endswith(sources) and "site-packages" not in p and not p.startswith(sys.prefix)
    ]
    touched = [p for p in data_files if Path(p).resolve().is_relative_to(REPO_ROOT) or str(deployment) in p]
    assert touched == [], f"{path.name} opens files at parse time: {touched}"


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_airflow_lists_no_import_errors(tmp_path: Path) -> None:
    """``airflow dags list-import-errors --local`` (what an operator runs) reports nothing."""
    from safetynet.orchestration.environment import airflow_command, airflow_environment, run_airflow

    env = airflow_environment(tmp_path / "config.yaml", tmp_path / "airflow", retries=None, deadline=True)
    log = tmp_path / "airflow.log"
    assert run_airflow(["db", "migrate"], env, log, timeout=240).returncode == 0, log.read_text()[-2000:]
    result = subprocess.run(
        airflow_command("dags", "list-import-errors", "--local", "-o", "json"),
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    listed = json.loads(result.stdout.strip().splitlines()[-1])
    assert listed == [], listed


def test_daily_warnings_shape(dagbag: Any) -> None:
    """Its own DAG and deadline, run at 07:00 and whenever daily_report's evaluate has run."""
    from airflow.sdk import AssetOrTimeSchedule

    from safetynet.orchestration import deadlines

    assert [o.uri for o in dagbag.dags["daily_report"].get_task("evaluate").outlets] == \
        ["x-safetynet://report/evaluated"]
    dag = dagbag.dags["daily_warnings"]
    assert set(dag.task_ids) == {"publish_warnings"}
    assert isinstance(dag.timetable, AssetOrTimeSchedule)
    timetable: Any = dag.timetable
    assert timetable.timetable.expression == "0 7 * * *"
    condition = timetable.asset_condition
    assert [a.uri for a in getattr(condition, "objects", [condition])] == ["x-safetynet://report/evaluated"]
    (deadline,) = dag.deadline
    assert isinstance(deadline.reference, deadlines.ScheduledRunDeadline)
    assert deadline.callback.path == f"{deadlines.__name__}.warnings_deadline_missed"
    assert deadline.interval.total_seconds() == 2 * 3600  # 09:00, two hours after the 07:00 run
