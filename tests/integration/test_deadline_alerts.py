"""The publish deadline through Airflow, both ways: scheduled runs alert, runs started by hand do not.

A local Airflow (API server, scheduler with LocalExecutor, triggerer; SQLite metadata)
for a generated deployment (200 households), with ``SAFETYNET_PUBLISH_BY=06:31``: the
deadline is one minute after the 06:30 run's logical date, so every run that carries one
has missed it by the time it runs. The scheduler creates runs from the schedule here.
Alerts go to a local SMTP server.

* Unpausing ``daily_report`` makes the scheduler create its latest 06:30 run: Airflow
  gives it a deadline, the triggerer runs our callback, the miss is recorded in
  ``meta_task_failure`` and mailed.
* A manual run for a past day (the re-run that used to alert, B14) and a back-fill run get
  no deadline from Airflow (nothing "Missed" in the UI), and nothing is recorded or mailed.
* A manual run triggered with ``{"deadline_alert": true}`` gets the deadline and alerts.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from tests.integration.conftest import SmtpSink

from safetynet.orchestration.environment import airflow_environment, run_airflow
from safetynet.orchestration.stack import LocalAirflow, local_airflow

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass
class Deployment:
    """The running Airflow, the deployment it runs and the SMTP server its alerts go to."""

    stack: LocalAirflow
    config: Path
    home: Path
    smtp: SmtpSink

    def deadlines(self, run_id: str) -> list[tuple[Any, ...]]:
        """(deadline time, missed) of a run's deadlines, as Airflow holds them."""
        with sqlite3.connect(self.home / "airflow.db") as db:
            return list(db.execute("SELECT d.deadline_time, d.missed FROM deadline d "
                                   "JOIN dag_run r ON r.id = d.dagrun_id WHERE r.run_id = ?", (run_id,)))

    def missed(self) -> dict[str | None, dict[str, Any]]:
        """``meta_task_failure`` rows of class DeadlineMissed, by run id."""
        from sqlalchemy import text

        from safetynet.config import load_config
        from safetynet.warehouse.engine import get_engine, migrate

        engine = get_engine(load_config(self.config).warehouse_url)
        migrate(engine)
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT * FROM meta_task_failure WHERE error_class = 'DeadlineMissed'"))
            return {r["run_id"]: dict(r) for r in rows.mappings()}

    def wait_until(self, what: str, check: Callable[[], Any], timeout: float = 240) -> Any:
        """Poll ``check`` until it returns something truthy; return it (fail after ``timeout`` s)."""
        deadline = time.monotonic() + timeout
        while not (value := check()):
            self.stack.check_alive()
            assert time.monotonic() < deadline, f"timed out waiting for {what}\n" \
                f"{(self.stack.logs / 'triggerer.log').read_text(errors='replace')[-3000:]}"
            time.sleep(2)
        return value


@pytest.fixture(scope="module")
def airflow(deployment: Callable[..., Path], smtp_module: SmtpSink,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """The local Airflow (scheduling on, deadline 06:31) for a 200-household deployment."""
    base = tmp_path_factory.mktemp("deadlines")
    config = deployment(base, households=200)
    home = base / "airflow"
    env = airflow_environment(config, home, deadline=True)
    env.update({"SAFETYNET_PUBLISH_BY": "06:31", "AIRFLOW_CONN_SMTP_DEFAULT": smtp_module.connection(),
                "SAFETYNET_ALERT_EMAIL_TO": "oncall@example.org"})
    for args in (["db", "migrate"], ["dags", "reserialize"]):
        result = run_airflow(args, env, base / "setup.log", timeout=600)
        assert result.returncode == 0, (base / "setup.log").read_text()[-3000:]
    with local_airflow(env, base / "logs", components=("api-server", "scheduler", "triggerer"),
                       job_schedule=True) as stack:
        yield Deployment(stack, config, home, smtp_module)


def _latest_0630() -> datetime:
    """The 06:30 (Shanghai) the scheduler's latest ``daily_report`` run is for, once it is 06:33 or later."""
    now = datetime.now(SHANGHAI)
    if now.replace(hour=6, minute=30, second=0, microsecond=0) <= now < now.replace(hour=6, minute=33):
        time.sleep((now.replace(hour=6, minute=33, second=0) - now).total_seconds())  # let 06:31 pass
        now = datetime.now(SHANGHAI)
    latest = now.replace(hour=6, minute=30, second=0, microsecond=0)
    return (latest if latest <= now else latest - timedelta(days=1)).astimezone(UTC)


def test_a_scheduled_run_that_misses_alerts(airflow: Deployment) -> None:
    logical = _latest_0630()
    airflow.stack.set_paused(["daily_report"], False)
    (run,) = airflow.wait_until("the scheduled daily_report run",
                                lambda: airflow.stack.runs_at("daily_report", logical))
    assert run["run_type"] == "scheduled", run
    row = airflow.wait_until("the DeadlineMissed row", lambda: airflow.missed().get(run["dag_run_id"]))
    assert row["dag_id"] == "daily_report" and row["task_id"] is None
    mails = airflow.smtp.wait_for(1, timeout=60)
    assert any(run["dag_run_id"] in str(m["Subject"]) and "deadline" in str(m["Subject"]) for m in mails)
    airflow.stack.wait_for_run("daily_report", run["dag_run_id"], timeout=300)


def test_a_manual_rerun_of_a_past_day_carries_no_deadline(airflow: Deployment) -> None:
    airflow.stack.set_paused(["daily_report"], False)
    airflow.stack.trigger("daily_report", "rerun_2026-11-20", datetime(2026, 11, 20, tzinfo=UTC))
    assert airflow.deadlines("rerun_2026-11-20") == [], "a manual run got a deadline (shown Missed in the UI)"
    assert airflow.stack.wait_for_run("daily_report", "rerun_2026-11-20", timeout=300) == "success"
    time.sleep(10)  # what the triggerer would have done by now
    assert "rerun_2026-11-20" not in airflow.missed()
    assert not [m for m in airflow.smtp.messages if "rerun_2026-11-20" in str(m["Subject"])]


def test_a_backfill_carries_no_deadline(airflow: Deployment) -> None:
    airflow.stack.set_paused(["daily_report"], False)
    result = run_airflow(["backfill", "create", "--dag-id", "daily_report", "--from-date", "2026-11-17",
                          "--to-date", "2026-11-18", "--max-active-runs", "1"], airflow.stack.env,
                         airflow.stack.logs / "backfill.log")
    assert result.returncode == 0, (airflow.stack.logs / "backfill.log").read_text()[-3000:]
    (run,) = airflow.stack.runs_at("daily_report", datetime(2026, 11, 17, 22, 30, tzinfo=UTC))
    assert run["run_type"] == "backfill"
    assert airflow.deadlines(run["dag_run_id"]) == []
    assert airflow.stack.wait_for_run("daily_report", run["dag_run_id"], timeout=300) == "success"
    time.sleep(10)
    assert run["dag_run_id"] not in airflow.missed()


def test_a_manual_run_that_asks_for_the_deadline_alerts(airflow: Deployment) -> None:
    airflow.stack.set_paused(["daily_report"], False)
    airflow.stack.trigger("daily_report", "watched_2026-11-19", datetime(2026, 11, 19, tzinfo=UTC),
                          conf={"deadline_alert": True})
    ((due, _),) = airflow.deadlines("watched_2026-11-19")
    assert str(due).startswith("2026-11-19 00:01:00"), due  # its logical date + (06:31 - 06:30)
    row = airflow.wait_until("the DeadlineMissed row", lambda: airflow.missed().get("watched_2026-11-19"))
    assert row["error_class"] == "DeadlineMissed"
    airflow.wait_until("its mail", lambda: [m for m in airflow.smtp.messages
                                            if "watched_2026-11-19" in str(m["Subject"])])
    airflow.stack.wait_for_run("daily_report", "watched_2026-11-19", timeout=300)
