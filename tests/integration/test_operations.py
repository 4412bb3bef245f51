"""Operations: delivery sensors, failure records and alerts, the publish deadline.

* The delivery sensor expects the right file for the run's report date, finds it
  in a local folder and on a real OpenSSH server, gives its worker slot back while
  waiting (``reschedule``), and times out with a message naming the file, the
  month and the location.
* A failed task is recorded in the warehouse table ``meta_task_failure`` and
  mailed through an SMTP connection to a real local SMTP server (aiosmtpd): the
  message arrives, and no full ID number is in it or in the table.
* The deadline callback of ``daily_report`` (run by the triggerer) records the
  miss and mails it for a scheduled run, or a manual run whose conf asks for it;
  other manual runs, back-fill and Asset-triggered runs are ignored (and get no
  deadline at all: ``test_deadline_alerts.py`` runs both ways through Airflow).
* End to end: a bad delivery fails ``ingest_water`` under ``airflow dags test``;
  the task runner's failure callback records it and the alert is delivered.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from email.message import Message
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from tests.integration.conftest import SmtpSink
from tests.integration.sftp_server import SshServer

from safetynet.orchestration import alerts, defaults
from safetynet.orchestration.sensors import DeliveryMarkerSensor, expected_delivery, previous_month
from safetynet.privacy import ID_NUMBER

pytestmark = pytest.mark.integration

FULL_ID = "361103196001010017"
MASKED_ID = "361103********0017"
LOGICAL = datetime(2026, 11, 20, 6, 30, tzinfo=UTC)

MINIMAL_CONFIG = """\
region: {province: 江西省, city: 上饶市, county: 广丰区}
regions_file: regions.csv
warehouse: sqlite:///warehouse.db
work_dir: work
sources:
  civil_affairs: {url: "sqlite:///sources/civil_affairs.db"}
  personnel: {url: "sqlite:///sources/personnel.db"}
  property: {location: drop/property}
  electricity: {location: drop/power}
  water: {location: drop/water}
outbox: {location: outbox}
inbox: {location: inbox}
"""


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A minimal deployment configuration (SQLite warehouse, local drops), as SAFETYNET_CONFIG."""
    path = tmp_path / "config.yaml"
    path.write_text(MINIMAL_CONFIG, encoding="utf-8")
    for folder in ("drop/property", "drop/power", "drop/water"):
        (tmp_path / folder).mkdir(parents=True)
    monkeypatch.setenv("SAFETYNET_CONFIG", str(path))
    return path


# --------------------------------------------------------------------------- SMTP sink


def _failure_rows(config: Path) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from safetynet.config import load_config
    from safetynet.warehouse.engine import get_engine, migrate
    from safetynet.warehouse.schema import meta_task_failure

    engine = get_engine(load_config(config).warehouse_url)
    migrate(engine)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(meta_task_failure)).mappings()]


def _text(message: Message) -> str:
    return SmtpSink.text(message)


# --------------------------------------------------------------------------- sensors


@pytest.mark.parametrize(("day", "month"), [
    (date(2026, 11, 5), date(2026, 10, 1)),
    (date(2026, 1, 5), date(2025, 12, 1)),
    (date(2026, 3, 31), date(2026, 2, 1)),
])
def test_previous_month(day: date, month: date) -> None:
    assert previous_month(day) == month


def test_expected_deliveries() -> None:
    assert expected_delivery("electricity", date(2026, 11, 5)).names == ("DL_202610.csv",)
    assert expected_delivery("water", date(2026, 1, 5)).names == ("SS_202512.txt",)
    snapshot = expected_delivery("property", date(2026, 11, 20))
    assert snapshot.names[0] == "BDC_QLR_20261114.xlsx" and snapshot.names[-1] == "BDC_QLR_20261120.xlsx"
    assert snapshot.period == "2026-11-14..2026-11-20"
    with pytest.raises(ValueError, match="no file deliveries"):
        expected_delivery("personnel", date(2026, 11, 5))


def _context(first_reschedule: datetime | None) -> dict[str, Any]:
    ti = SimpleNamespace(get_first_reschedule_date=lambda _context: first_reschedule)
    return {"logical_date": LOGICAL, "dag_run": SimpleNamespace(run_after=LOGICAL), "ti": ti}


def test_sensors_are_reschedule_mode_with_a_timeout() -> None:
    for source in ("property", "electricity", "water"):
        sensor = defaults.delivery_sensor(source)
        assert sensor.mode == "reschedule", source
        assert timedelta(hours=24) <= timedelta(seconds=sensor.timeout) <= timedelta(days=7)


def test_local_sensor_waits_for_the_marker_then_succeeds(config: Path) -> None:
    from airflow.sdk.exceptions import AirflowRescheduleException

    drop = config.parent / "drop/power"
    sensor = DeliveryMarkerSensor(task_id="wait", source="electricity", timeout=3600)
    (drop / "DL_202610.csv").write_text("x", encoding="utf-8")
    (drop / "DL_202609.csv.ok").touch()  # another month's marker does not count
    with pytest.raises(AirflowRescheduleException):  # not there yet: the worker slot is given back
        sensor.execute(_context(first_reschedule=None))
    (drop / "DL_202610.csv.ok").touch()
    sensor.execute(_context(first_reschedule=None))


def test_sensor_timeout_names_file_month_and_location(config: Path) -> None:
    from airflow.sdk.exceptions import AirflowSensorTimeout

    sensor = DeliveryMarkerSensor(task_id="wait", source="water", timeout=3600)
    long_ago = datetime.now(UTC) - timedelta(hours=2)
    with pytest.raises(AirflowSensorTimeout) as caught:
        sensor.execute(_context(first_reschedule=long_ago))
    message = str(caught.value)
    assert "SS_202610.txt" in message and "SS_202610.txt.ok" in message
    assert "water delivery for 2026-10" in message
    assert str(config.parent / "drop/water") in message
    assert "1:00:00" in message  # how long it waited


def test_sensor_over_sftp(config: Path, sshd: SshServer, monkeypatch: pytest.MonkeyPatch,
                          tmp_path: Path) -> None:
    from airflow.sdk.exceptions import AirflowFailException, AirflowSensorTimeout

    remote = sshd.data / f"ops-{tmp_path.name}" / "power"
    remote.mkdir(parents=True)
    body = config.read_text("utf-8").replace("location: drop/power", f"location: sftp://ops_sftp{remote}")
    config.write_text(body, "utf-8")
    monkeypatch.setenv("AIRFLOW_CONN_OPS_SFTP", sshd.conn_env())
    sensor = DeliveryMarkerSensor(task_id="wait", source="electricity", timeout=3600)
    long_ago = datetime.now(UTC) - timedelta(hours=2)

    (remote / "DL_202610.csv").write_text("x", encoding="utf-8")  # no marker yet
    with pytest.raises(AirflowSensorTimeout, match=rf"DL_202610\.csv.*sftp://ops_sftp{remote}"):
        sensor.execute(_context(first_reschedule=long_ago))
    (remote / "DL_202610.csv.ok").touch()
    sensor.execute(_context(first_reschedule=None))

    # A wrong pinned host key is not something to wait out: the sensor fails at once.
    other = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBn6rSqjEVnNJi3R4cAlYx+bhaMdMjmR7YDWqlLHpHCX"
    monkeypatch.setenv("AIRFLOW_CONN_OPS_SFTP", sshd.conn_env(host_key=other))
    with pytest.raises(AirflowFailException, match="HostKeyError"):
        sensor.execute(_context(first_reschedule=None))


# --------------------------------------------------------------------------- failures and alerts


def _failure_context() -> dict[str, Any]:
    from airflow.sdk.exceptions import AirflowFailException

    from safetynet.sources.drops import DeliveryError

    try:
        try:
            raise DeliveryError(f"SS_202509.txt row 7: holder {FULL_ID} appears twice")
        except DeliveryError as cause:
            raise AirflowFailException(f"DeliveryError: {cause}") from cause
    except AirflowFailException as exc:
        error = exc
    ti = SimpleNamespace(dag_id="ingest_water", task_id="extract", run_id="scheduled__2026-11-05",
                         try_number=1)
    return {"dag": SimpleNamespace(dag_id="ingest_water"), "ti": ti, "run_id": ti.run_id,
            "exception": error}


def test_failure_is_recorded_masked_and_mailed(config: Path, smtp_sink: SmtpSink) -> None:
    defaults.on_failure_callback(_failure_context())

    rows = _failure_rows(config)
    assert len(rows) == 1
    row = rows[0]
    assert (row["dag_id"], row["task_id"], row["run_id"], row["try_number"]) == (
        "ingest_water", "extract", "scheduled__2026-11-05", 1)
    assert row["error_class"] == "DeliveryError"  # the pipeline's error, not Airflow's wrapper
    assert MASKED_ID in row["message"] and FULL_ID not in row["message"]
    assert row["failed_at"] is not None

    (mail,) = smtp_sink.wait_for(1)
    text = _text(mail)
    assert mail["To"] == "oncall@example.org, audit@example.org"
    assert "ingest_water.extract failed" in mail["Subject"]
    assert "DeliveryError" in text and MASKED_ID in text
    assert FULL_ID not in mail.as_string()
    assert re.search(r"At: +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+08:00 \(Asia/Shanghai\)", text), text


def test_a_failed_dag_run_is_logged_not_recorded_twice(config: Path, smtp_sink: SmtpSink) -> None:
    defaults.on_failure_callback({"dag": SimpleNamespace(dag_id="ingest_water"), "run_id": "r1",
                                  "reason": "task_failure"})
    assert _failure_rows(config) == []
    assert smtp_sink.messages == []


def test_alerting_never_raises(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(alerts.EMAIL_TO_ENV, "oncall@example.org")
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", json.dumps(
        {"conn_type": "smtp", "host": "127.0.0.1", "port": 9, "extra": {"disable_ssl": True,
                                                                         "timeout": 2}}))
    config.write_text(MINIMAL_CONFIG.replace("sqlite:///warehouse.db", "sqlite:////nonexistent/x.db"))
    defaults.on_failure_callback(_failure_context())  # neither the warehouse nor SMTP is reachable


def test_no_recipients_means_no_email(config: Path, smtp_sink: SmtpSink,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(alerts.EMAIL_TO_ENV)
    defaults.on_failure_callback(_failure_context())
    assert len(_failure_rows(config)) == 1
    time.sleep(0.3)
    assert smtp_sink.messages == []


def test_deadline_alert_is_wired_to_an_importable_async_callback() -> None:
    import importlib.util
    import inspect

    from airflow.sdk.module_loading import import_string

    from safetynet.orchestration import deadlines

    alert = defaults.publish_deadline()
    assert alert is not None
    assert isinstance(alert.reference, deadlines.ScheduledRunDeadline)  # scheduled runs only
    assert alert.interval == timedelta(hours=2)  # 06:30 run, published by 08:30
    callback = import_string(alert.callback.path)
    assert callback is deadlines.publish_deadline_missed and inspect.iscoroutinefunction(callback)
    # Airflow finds a custom deadline reference only among the plugins' deadline_references.
    path = Path(__file__).resolve().parents[2] / "plugins" / "safetynet_deadlines.py"
    spec = importlib.util.spec_from_file_location("safetynet_deadlines_plugin", path)
    assert spec is not None and spec.loader is not None
    plugin = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(plugin)
    assert plugin.SafetyNetDeadlinesPlugin.deadline_references == [deadlines.ScheduledRunDeadline]


@pytest.mark.parametrize(("run_type", "conf", "applies"), [
    ("scheduled", None, True),
    ("manual", None, False),
    ("manual", {"deadline_alert": False}, False),
    ("manual", {"deadline_alert": True}, True),
    ("manual", {"deadline_alert": "true"}, True),  # the UI's conf form may send text
    ("asset_triggered", None, False),
    ("backfill", None, False),
    ("backfill", {"deadline_alert": True}, False),  # every day of a back-fill lies in the past
])
def test_which_runs_carry_the_publish_deadline(run_type: str, conf: dict[str, Any] | None,
                                               applies: bool) -> None:
    from airflow.utils.types import DagRunType

    from safetynet.orchestration.deadlines import deadline_applies

    assert deadline_applies(run_type, conf) is applies
    assert deadline_applies(DagRunType(run_type), conf) is applies


def test_publish_by_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(defaults.PUBLISH_BY_ENV, "09:15")
    alert = defaults.publish_deadline()
    assert alert is not None and alert.interval == timedelta(hours=2, minutes=45)
    monkeypatch.setenv(defaults.PUBLISH_BY_ENV, "off")
    assert defaults.publish_deadline() is None
    monkeypatch.setenv(defaults.PUBLISH_BY_ENV, "06:00")
    with pytest.raises(ValueError, match="later than the 06:30 run"):
        defaults.publish_deadline()


def _deadline_context(run_type: str, run_id: str, conf: dict[str, Any] | None = None) -> dict[str, Any]:
    """What the triggerer passes the deadline callback: the run as the REST API shows it."""
    return {"dag_run": {"dag_id": "daily_report", "dag_run_id": run_id, "run_type": run_type,
                        "logical_date": "2026-11-19T22:30:00Z", "state": "running", "conf": conf or {}},
            "deadline": {"id": "x", "deadline_time": "2026-11-20T00:30:00Z"}}


def test_missed_deadline_is_recorded_and_mailed(config: Path, smtp_sink: SmtpSink) -> None:
    from safetynet.orchestration.deadlines import publish_deadline_missed

    context = _deadline_context("scheduled", "scheduled__2026-11-19T22:30:00+00:00")
    outcome = asyncio.run(publish_deadline_missed(context=context))
    assert outcome.startswith("recorded and notified")
    (row,) = _failure_rows(config)
    assert (row["dag_id"], row["task_id"], row["error_class"]) == ("daily_report", None, "DeadlineMissed")
    assert row["run_id"] == "scheduled__2026-11-19T22:30:00+00:00"
    (mail,) = smtp_sink.wait_for(1)
    assert "daily_report missed its deadline" in mail["Subject"]
    assert "2026-11-20T00:30:00Z" in _text(mail)

    backfill = {**context, "dag_run": {**context["dag_run"], "run_type": "backfill"}}
    assert asyncio.run(alerts.publish_deadline_missed(context=backfill)).startswith("ignored")
    assert len(_failure_rows(config)) == 1


def test_a_manual_or_backfill_run_is_not_alerted_unless_asked(config: Path, smtp_sink: SmtpSink) -> None:
    """The callback records and mails a miss only for a scheduled run, or a manual run that asked."""
    from safetynet.orchestration.deadlines import publish_deadline_missed

    ignored = [
        _deadline_context("manual", "rerun_2026-11-21"),  # the re-run of B14: no alert any more
        _deadline_context("manual", "manual__2026-12-06T10:00:00+00:00", {"deadline_alert": False}),
        _deadline_context("backfill", "backfill__2026-11-16T22:30:00+00:00", {"deadline_alert": True}),
        _deadline_context("asset_triggered", "asset_triggered__2026-11-20T01:00:00+00:00"),
    ]
    for context in ignored:
        assert asyncio.run(publish_deadline_missed(context=context)).startswith("ignored"), context
    time.sleep(0.3)
    assert _failure_rows(config) == [] and smtp_sink.messages == []

    asked = _deadline_context("manual", "watched_2026-11-20", {"deadline_alert": True})
    assert asyncio.run(publish_deadline_missed(context=asked)).startswith("recorded and notified")
    assert [r["run_id"] for r in _failure_rows(config)] == ["watched_2026-11-20"]
    (mail,) = smtp_sink.wait_for(1)
    assert "watched_2026-11-20" in mail["Subject"]


# --------------------------------------------------------------------------- through Airflow


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_failing_task_under_airflow_is_recorded_and_mailed(
    deployment: Callable[..., Path], tmp_path: Path, smtp_sink: SmtpSink
) -> None:
    """The real task runner calls the failure callback: record and email, nothing unmasked."""
    from safetynet.orchestration.environment import airflow_environment, run_airflow

    config = deployment(tmp_path, households=200)
    drop = config.parent / "drop" / "water"
    shutil.copy(config.parent / "extras" / "bad" / "water" / "SS_202509.txt", drop / "SS_202509.txt")
    (drop / "SS_202509.txt.ok").touch()
    env = airflow_environment(config, tmp_path / "airflow")
    log = tmp_path / "airflow.log"
    assert run_airflow(["db", "migrate"], env, log, timeout=300).returncode == 0, log.read_text()[-2000:]
    result = run_airflow(["dags", "test", "ingest_water", "2026-11-20"], env, log, timeout=300)
    assert result.returncode != 0, "the bad delivery must fail the run"

    rows = [r for r in _failure_rows(config) if r["task_id"] is not None]
    assert [(r["dag_id"], r["task_id"], r["error_class"]) for r in rows] == [
        ("ingest_water", "extract", "DeliveryError")]
    assert "SS_202509.txt" in rows[0]["message"]
    (mail,) = smtp_sink.wait_for(1)
    assert "ingest_water.extract failed" in mail["Subject"]
    assert "SS_202509.txt" in _text(mail)
    assert not ID_NUMBER.search(mail.as_string()), "a full ID number reached the email"


@pytest.mark.parametrize(("error", "wrapper"), [
    ("DeliveryError", "AirflowFailException"),  # a bad file: fail at once, no retry
    ("OSError", "RedactedError"),               # a transport fault: Airflow's retries apply
])
def test_a_failing_step_reaches_the_task_log_masked_and_unchained(error: str, wrapper: str) -> None:
    """Airflow prints the exception and its chain outside our logging filter: neither may hold an ID."""
    import traceback

    from safetynet.orchestration.tasks import _fail_fast
    from safetynet.sources.drops import DeliveryError

    kind = {"DeliveryError": DeliveryError, "OSError": OSError}[error]

    @_fail_fast
    def step() -> dict:
        raise kind(f"SS_202509.txt row 7: holder {FULL_ID} appears twice")

    with pytest.raises(Exception) as caught:
        step()
    printed = "".join(traceback.format_exception(caught.value))
    assert type(caught.value).__name__ == wrapper
    assert FULL_ID not in printed and MASKED_ID in printed
    assert "in step" in printed  # the original frames are kept for debugging
    summary = alerts.summarize_failure({"exception": caught.value, "dag": None, "ti": None})
    assert summary.error_class == error and summary.message.startswith("SS_202509.txt row 7")
