"""The distributed path: the DAGs run through the CeleryExecutor, as in the compose stack.

Redis on 127.0.0.1:6379 is the broker and a fresh PostgreSQL database on the test
server is Airflow's metadata database (another one is the warehouse). After
``airflow db migrate``, the scheduler, DAG processor, API server (whose Execution
API the workers call, with a shared JWT secret), triggerer and a Celery worker run
as separate processes. Then, for a generated deployment:

* ``ingest_electricity`` is triggered; it waits for its marker, loads, and its
  Asset update triggers ``daily_report`` on its own (an Asset-triggered run);
* ``daily_report`` is triggered for 2026-11-20 with ``{"deadline_alert": true}`` (a
  manual run carries the deadline only when asked) and publishes that day's extract;
  its deadline (logical date + 2 h) lies in the past, so the triggerer runs the
  deadline callback, which records the miss in ``meta_task_failure``;
* ``airflow backfill create`` over two days publishes each day's extract, and
  the deadline callback ignores those back-fill runs;
* the DAG processor recorded no import error.

Every process is stopped at the end; each wait is bounded and fails with the
tail of the relevant logs.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, suppress
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from tests.conftest import REPORT_DATE, _connect, _free_port

from safetynet.orchestration.environment import DAG_IDS, airflow_command, airflow_environment, run_airflow

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(1500)]

REDIS_URL = os.environ.get("SAFETYNET_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer", "celery-worker")
LOGICAL = f"{REPORT_DATE.isoformat()}T00:00:00+00:00"  # 08:00 in Shanghai: report date 2026-11-20
# UTC window, ends included: the 06:30 Shanghai runs in it are 11-16T22:30Z and 11-17T22:30Z,
# whose report dates are 2026-11-17 and 2026-11-18 (docs/runbook.md, "Back-fill a date range").
BACKFILL_FROM, BACKFILL_TO = "2026-11-16", "2026-11-18"
BACKFILL_DAYS = [date(2026, 11, 17), date(2026, 11, 18)]


def _require_celery() -> None:
    """The provider and the Redis client come from requirements.lock; Redis must answer."""
    try:
        import redis
        from airflow.providers.celery.executors import celery_executor  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the environment
        message = (f"CeleryExecutor test needs apache-airflow-providers-celery and redis "
                   f"(requirements.lock; run `make install`): {exc}")
        pytest.fail(message, pytrace=False)  # a missing part fails loudly, never skips
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except Exception as exc:
        pytest.fail(f"Redis does not answer at {REDIS_URL} (set SAFETYNET_TEST_REDIS_URL): {exc}",
                    pytrace=False)


@dataclass
class Stack:
    """A running Airflow: its environment, metadata database, processes and logs."""

    env: dict[str, str]
    meta_dsn: str
    logs: Path
    config: Path
    api_port: int
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)

    def airflow(self, *args: str, timeout: float = 300) -> str:
        """Run one ``airflow`` CLI command; its output, or a failure naming its log."""
        log = self.logs / "cli.log"
        result = run_airflow(list(args), self.env, log, timeout=timeout)
        if result.returncode != 0:
            pytest.fail(f"airflow {' '.join(args)} failed (exit {result.returncode}):\n"
                        f"{_tail(log, 40)}", pytrace=False)
        return log.read_text(encoding="utf-8", errors="replace")

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        import psycopg2

        with closing(psycopg2.connect(self.meta_dsn, connect_timeout=5)) as conn, conn.cursor() as cur:
            cur.execute(sql, params)
            return list(cur.fetchall())

    def wait(self, what: str, check: Callable[[], Any], timeout: float,
             logs: tuple[str, ...] = COMPONENTS, interval: float = 2.0) -> Any:
        """Poll ``check`` until it returns something truthy; fail with the logs' tails after ``timeout``."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    pytest.fail(f"{name} exited ({process.returncode}) while waiting for {what}:\n"
                                f"{_tail(self.logs / f'{name}.log', 60)}", pytrace=False)
            value = check()
            if value:
                self.timings[what] = round(time.monotonic() - started, 1)
                return value
            time.sleep(interval)
        tails = "\n".join(f"--- {n}.log\n{_tail(self.logs / f'{n}.log', 25)}" for n in logs)
        pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}\n{tails}", pytrace=False)

    def run_state(self, dag_id: str, run_id: str) -> str | None:
        rows = self.query("SELECT state FROM dag_run WHERE dag_id = %s AND run_id = %s", dag_id, run_id)
        return rows[0][0] if rows else None

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 420) -> None:
        def finished() -> str | None:
            state = self.run_state(dag_id, run_id)
            return state if state in ("success", "failed") else None

        state = self.wait(f"{dag_id} run {run_id}", finished, timeout)
        if state != "success":
            tis = self.query("SELECT task_id, state, try_number FROM task_instance "
                             "WHERE dag_id = %s AND run_id = %s", dag_id, run_id)
            pytest.fail(f"{dag_id} run {run_id} ended {state}; tasks: {tis}\n"
                        f"{_tail(self.logs / 'celery-worker.log', 60)}", pytrace=False)


def _tail(path: Path, lines: int) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no {path.name})"


def _start(stack: Stack, name: str, *args: str) -> None:
    log = (stack.logs / f"{name}.log").open("ab")
    stack.processes[name] = subprocess.Popen(
        airflow_command(*args), env=stack.env, stdout=log, stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL, start_new_session=True,  # its own group: stopped with its children
    )
    log.close()


def _stop(processes: dict[str, subprocess.Popen[bytes]], grace: float = 30) -> None:
    """SIGTERM each process group we started, then SIGKILL what is left after ``grace``."""
    for process in processes.values():
        if process.poll() is None:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for process in processes.values():
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
    for process in processes.values():
        with suppress(ProcessLookupError):  # the group may outlive its leader (forked workers)
            os.killpg(process.pid, signal.SIGKILL)
        with suppress(subprocess.TimeoutExpired):
            process.wait(timeout=10)


def _api_healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/monitor/health", timeout=3) as r:
            return bool(r.status == 200)
    except OSError:
        return False


@pytest.fixture(scope="module")
def stack(pg_url: str, pg_module_database: str, deployment: Callable[..., Path],
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A CeleryExecutor Airflow on this machine's Redis and PostgreSQL, for one generated deployment."""
    _require_celery()
    base = tmp_path_factory.mktemp("celery")
    config = deployment(base, households=200, seed=7, report_date=REPORT_DATE)
    raw = yaml.safe_load(config.read_text(encoding="utf-8"))
    raw["warehouse"] = pg_module_database
    config.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")

    meta_db = f"safetynet_airflow_{uuid.uuid4().hex[:10]}"
    with closing(_connect(pg_url)) as conn, conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{meta_db}" ENCODING \'UTF8\' TEMPLATE template0')
    meta_url = f"{pg_url}/{meta_db}"
    api_port = _free_port()
    queue = f"safetynet_{uuid.uuid4().hex[:8]}"  # our own queue: other users of this Redis are untouched
    env = airflow_environment(config, base / "airflow", retries=0, deadline=True)
    env.update({
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": meta_url,
        "AIRFLOW__CELERY__BROKER_URL": REDIS_URL,
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + meta_url.replace("postgresql+psycopg2", "postgresql"),
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
        "AIRFLOW__OPERATORS__DEFAULT_QUEUE": queue,
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
        "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
    })
    logs = base / "logs"
    logs.mkdir()
    from sqlalchemy.engine import make_url

    url = make_url(meta_url)
    dsn = f"host={url.host} port={url.port} user={url.username} dbname={meta_db}"
    if url.password:
        dsn += f" password={url.password}"
    stack = Stack(env=env, meta_dsn=dsn, logs=logs, config=config, api_port=api_port)
    try:
        started = time.monotonic()
        stack.airflow("db", "migrate", timeout=600)
        stack.timings["db migrate"] = round(time.monotonic() - started, 1)
        _start(stack, "api-server", "api-server", "--host", "127.0.0.1", "--port", str(api_port),
               "--workers", "1")
        _start(stack, "scheduler", "scheduler")
        _start(stack, "dag-processor", "dag-processor")
        _start(stack, "triggerer", "triggerer")
        _start(stack, "celery-worker", "celery", "worker", "--queues", queue, "--concurrency", "2",
               "--without-gossip", "--without-mingle", "--skip-serve-logs")
        stack.wait("the API server", lambda: _api_healthy(api_port), 180, logs=("api-server",))
        expected = set(DAG_IDS)
        stack.wait(f"the {len(DAG_IDS)} DAGs to be parsed",
                   lambda: expected <= {r[0] for r in stack.query("SELECT dag_id FROM serialized_dag")},
                   240, logs=("dag-processor",))
        stack.wait("the Celery worker", lambda: "ready" in _tail(logs / "celery-worker.log", 200),
                   120, logs=("celery-worker",))
        yield stack
    finally:
        _stop(stack.processes)
        leftovers = [n for n, p in stack.processes.items() if p.poll() is None]
        print(f"\n[celery stack] timings (s): {stack.timings}; still running after stop: {leftovers}")
        with closing(_connect(pg_url)) as conn, conn.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = %s AND pid <> pg_backend_pid()", (meta_db,))
            cur.execute(f'DROP DATABASE IF EXISTS "{meta_db}"')


def _outbox(stack: Stack) -> Path:
    from safetynet.config import load_config

    return Path(load_config(stack.config).outbox)


def _failures(stack: Stack) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from safetynet.config import load_config
    from safetynet.warehouse.engine import get_engine, migrate
    from safetynet.warehouse.schema import meta_task_failure

    engine = get_engine(load_config(stack.config).warehouse_url)
    migrate(engine)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(meta_task_failure)).mappings()]


def _assert_published(folder: Path, day: date) -> dict[str, Any]:
    for name in (f"mismatches_{day:%Y%m%d}.csv", "manifest.json", "_SUCCESS"):
        assert (folder / name).is_file(), f"{folder} lacks {name}"
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert isinstance(manifest, dict)
    return manifest


def test_no_import_errors_recorded(stack: Stack) -> None:
    assert stack.query("SELECT filename, stacktrace FROM import_error") == []


def _set_aside_todays_ingest(stack: Stack, dag_id: str) -> list[str]:
    """Fail the scheduled run that unpausing creates for the latest interval; return its run ids.

    Its report date is today's, whose delivery this deployment (made for 2026-11-20)
    may lack: its sensor would then hold the DAG's one active run for its 30-minute
    poke interval, and the manual run under test would wait behind it.
    """
    def scheduled() -> list[tuple[str, str]]:
        return stack.query("SELECT run_id, state FROM dag_run WHERE dag_id = %s "
                           "AND run_type = 'scheduled'", dag_id)

    runs = stack.wait(f"the scheduled {dag_id} run", scheduled, 120, logs=("scheduler",))
    for run_id, state in runs:
        if state in ("queued", "running"):
            request = urllib.request.Request(
                f"http://127.0.0.1:{stack.api_port}/api/v2/dags/{dag_id}/dagRuns/{run_id}",
                data=json.dumps({"state": "failed"}).encode(), method="PATCH",
                headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=30) as response:
                assert response.status == 200, (run_id, response.status)
    return [run_id for run_id, _ in runs]


def test_ingest_then_report_through_celery(stack: Stack) -> None:
    stack.airflow("dags", "unpause", "--treat-dag-id-as-regex", "-y", "^(ingest_electricity|daily_report)$")
    stack.airflow("dags", "trigger", "ingest_electricity", "--run-id", "celery_ingest", "--logical-date",
                  LOGICAL)
    _set_aside_todays_ingest(stack, "ingest_electricity")
    stack.wait_for_run("ingest_electricity", "celery_ingest")
    hosts = stack.query("SELECT DISTINCT hostname, queue FROM task_instance WHERE run_id = 'celery_ingest'")
    assert {q for _, q in hosts} == {stack.env["AIRFLOW__OPERATORS__DEFAULT_QUEUE"]}, hosts

    # The ingest's Asset update schedules the report on its own.
    def asset_run() -> str | None:
        rows = stack.query("SELECT run_id FROM dag_run WHERE dag_id = 'daily_report' "
                           "AND run_type = 'asset_triggered'")
        return rows[0][0] if rows else None

    asset_run_id = stack.wait("an Asset-triggered daily_report run", asset_run, 180)
    stack.airflow("dags", "trigger", "daily_report", "--run-id", "celery_report", "--logical-date", LOGICAL,
                  "--conf", json.dumps({"deadline_alert": True}))  # a manual run alerts only when asked
    stack.wait_for_run("daily_report", asset_run_id)
    stack.wait_for_run("daily_report", "celery_report")

    manifest = _assert_published(_outbox(stack) / REPORT_DATE.isoformat(), REPORT_DATE)
    assert "electricity" not in manifest.get("stale_sources", []), manifest.get("stale_sources")
    ((run_after,),) = stack.query("SELECT run_after FROM dag_run WHERE run_id = %s", asset_run_id)
    day = run_after.astimezone(ZoneInfo("Asia/Shanghai")).date()  # no logical date: the day it ran
    _assert_published(_outbox(stack) / day.isoformat(), day)


def test_missed_deadline_is_recorded_by_the_triggerer(stack: Stack) -> None:
    """celery_report's deadline (2026-11-20 02:00 UTC) was long past: the triggerer ran our callback."""
    def recorded() -> list[dict[str, Any]]:
        return [r for r in _failures(stack)
                if r["error_class"] == "DeadlineMissed" and r["run_id"] == "celery_report"]

    (row,) = stack.wait("the deadline miss in meta_task_failure", recorded, 180,
                        logs=("triggerer", "scheduler"))
    assert row["dag_id"] == "daily_report" and row["task_id"] is None


def test_backfill_publishes_each_day(stack: Stack) -> None:
    # One run at a time, in date order: a back-fill's own max_active_runs (default 10) overrides
    # the DAG's, and concurrent report dates would update the same case history.
    stack.airflow("backfill", "create", "--dag-id", "daily_report", "--from-date", BACKFILL_FROM,
                  "--to-date", BACKFILL_TO, "--max-active-runs", "1")

    def backfill_runs() -> list[tuple[str, str, datetime]]:
        rows = stack.query("SELECT run_id, state, logical_date FROM dag_run WHERE dag_id = 'daily_report' "
                           "AND run_type = 'backfill' ORDER BY logical_date")
        return rows if rows and all(state in ("success", "failed") for _, state, _ in rows) else []

    runs = stack.wait("the back-fill runs", backfill_runs, 600)
    failed = [run_id for run_id, state, _ in runs if state != "success"]
    if failed:
        tis = stack.query("SELECT run_id, task_id, state FROM task_instance WHERE run_id = ANY(%s)", failed)
        pytest.fail(f"back-fill runs failed: {failed}; tasks: {tis}\n"
                    f"{_tail(stack.logs / 'celery-worker.log', 80)}", pytrace=False)
    days = [logical.astimezone(ZoneInfo("Asia/Shanghai")).date() for _, _, logical in runs]
    assert days == BACKFILL_DAYS, runs
    for day in days:
        _assert_published(_outbox(stack) / day.isoformat(), day)
    backfill_ids = {run_id for run_id, _, _ in runs}
    assert not [r for r in _failures(stack) if r["run_id"] in backfill_ids], "back-fills raise no alerts"
    print(f"\n[celery stack] back-fill {BACKFILL_FROM}..{BACKFILL_TO} ran: "
          f"{[(r, str(ld)) for r, _, ld in runs]}")
