"""The one place for what every Safety Net DAG shares: owner, retries, tags, schedule, alerting.

DAG files import this module at parse time, so it stays cheap: standard library
and ``airflow.sdk`` only, no I/O, no pandas / Great Expectations / SQLAlchemy.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import Asset, AssetOrTimeSchedule, CronTriggerTimetable
from airflow.sdk.definitions.callback import AsyncCallback
from airflow.sdk.definitions.deadline import DeadlineAlert

from safetynet.config import LOCAL_TIMEZONE
from safetynet.sources.declarations import SOURCES as DECLARED

log = logging.getLogger("safetynet.orchestration")

OWNER = "safetynet-data"
"""Team that owns every DAG (shown in the UI and on alerts)."""

TIMEZONE = LOCAL_TIMEZONE
"""The deployments' local time: schedules and report dates follow the county's calendar."""

START_DATE = pendulum.datetime(2026, 1, 1, tz=TIMEZONE)
"""A fixed start in the past; with ``catchup=False`` only the latest interval ever runs."""

BASE_TAGS: tuple[str, ...] = ("safetynet",)

RETRIES_ENV = "SAFETYNET_TASK_RETRIES"
"""Overrides the retry count. Production leaves it unset (2 retries: department
systems have short outages). One-shot local runs (the demo, the tests) set it to 0:
``airflow dags test`` sleeps through every retry delay before it reports a failure."""


def _retries() -> int:
    """Retries per task: 2, unless :data:`RETRIES_ENV` says otherwise."""
    value = os.environ.get(RETRIES_ENV, "").strip()
    return int(value) if value else 2


def on_failure_callback(context: Mapping[str, Any]) -> None:
    """Log, record and notify a failed task (for a failed DAG run: log only).

    A plain function, not a ``BaseNotifier``: a notifier as DAG-level callback
    crashes ``airflow dags test`` in 3.3. The work is in
    :func:`safetynet.orchestration.alerts.handle_task_failure` (imported here, at
    failure time, not at parse time): one log line with the run's identifiers, the
    error class and its message with ID numbers masked; a row in the warehouse
    table ``meta_task_failure``; the configured notifiers (email). It never
    raises: a failing callback would hide the original failure.
    """
    try:
        from safetynet.orchestration.alerts import handle_task_failure

        handle_task_failure(context)
    except Exception:  # pragma: no cover - last line of defence, see docstring
        log.exception("safetynet failure callback could not handle the failure")


DEFAULT_ARGS: dict[str, Any] = {
    "owner": OWNER,
    "retries": _retries(),
    "retry_delay": timedelta(minutes=5),
    "retry_exponential_backoff": 2.0,  # 5 min, then 10 min (with jitter)
    "max_retry_delay": timedelta(hours=1),
    "on_failure_callback": on_failure_callback,
}
"""Task defaults for every DAG (``default_args=DEFAULT_ARGS``)."""


def tags(*extra: str) -> list[str]:
    """The DAG's tags: ``safetynet`` plus what says which kind of DAG it is."""
    return [*BASE_TAGS, *extra]


def cron(expression: str) -> CronTriggerTimetable:
    """A cron schedule in the deployment's local time (Asia/Shanghai).

    ``CronTriggerTimetable`` runs at the cron time itself, with the logical date
    equal to that time, instead of at the end of a data interval.
    """
    return CronTriggerTimetable(expression, timezone=TIMEZONE)


def warehouse_asset(source: str) -> Asset:
    """The warehouse tables of one source, as the Asset its ingest DAG's ``load`` updates.

    Downstream DAGs (the daily report) can be scheduled on these later; the URI
    names the data, not a connection, so it holds no host or credentials. The
    ``x-`` scheme marks it as our own: Airflow then skips its URI normalisers,
    whose lookup would load every provider's asset handlers (and SQLAlchemy
    extensions) while the DAG file is parsed.
    """
    return Asset(f"x-safetynet://warehouse/{source}")


SOURCES: tuple[str, ...] = tuple(DECLARED)
"""Every declared source (``sources.declarations``), each with one ingest DAG and one warehouse Asset."""

REPORT_CRON = "30 6 * * *"
"""The daily report's morning run (Asia/Shanghai)."""


def report_schedule() -> AssetOrTimeSchedule:
    """06:30 every morning, and again whenever any source's warehouse Asset is updated.

    An Asset-triggered run has no logical date; its report date is the local day
    it runs on (``tasks.report_date_of``). Either way the report publishes with
    whatever is loaded and names the sources that are stale.
    """
    any_source = warehouse_asset(SOURCES[0])
    for source in SOURCES[1:]:
        any_source = any_source | warehouse_asset(source)  # type: ignore[assignment]
    return AssetOrTimeSchedule(timetable=cron(REPORT_CRON), assets=any_source)


PUBLISH_BY_ENV = "SAFETYNET_PUBLISH_BY"
"""Local time (HH:MM) by which the day's extract must be published; default 08:30; ``off``
disables the deadline. One-shot ``airflow dags test`` runs (the demo, the tests) set ``off``:
in Airflow 3.3.2 ``dags test`` of a DAG with a deadline crashes when the run succeeds
(``DeadlineAlertModel.get_by_id`` gets the encoded alert instead of its id). The
scheduler path is not affected."""

SENSOR_TIMEOUT_ENV = "SAFETYNET_SENSOR_TIMEOUT_HOURS"
"""Overrides how long a delivery sensor waits (hours); default per source below."""


WARNINGS_CRON = "0 7 * * *"
"""The hardship warnings' morning run (Asia/Shanghai), after the report's evaluation."""

WARNINGS_BY_ENV = "SAFETYNET_WARNINGS_BY"
"""Local time (HH:MM) by which the day's hardship warnings must be published; default 09:00;
``off`` disables that deadline (as ``SAFETYNET_PUBLISH_BY`` for the extract)."""


def evaluated_asset() -> Asset:
    """The day's evaluation (cases and warnings), updated by ``daily_report``'s ``evaluate``."""
    return Asset("x-safetynet://report/evaluated")


def warnings_schedule() -> AssetOrTimeSchedule:
    """07:00 every morning, and again whenever ``daily_report`` has evaluated a day."""
    return AssetOrTimeSchedule(timetable=cron(WARNINGS_CRON), assets=evaluated_asset())


def publish_deadline() -> DeadlineAlert | None:
    """A deadline on ``daily_report``'s scheduled runs: published by ``SAFETYNET_PUBLISH_BY`` (08:30).

    Measured from the run's logical date (06:30 local for the scheduled run), so
    the interval is "publish-by minus 06:30". Only scheduled runs carry it: a manual
    run carries it only when its conf holds ``{"deadline_alert": true}``, a back-fill
    or Asset-triggered run never (:mod:`safetynet.orchestration.deadlines`, whose
    reference Airflow finds through ``plugins/safetynet_deadlines.py``). The callback
    runs in the triggerer and must be importable there (the package is installed, and
    ``include/`` is on ``PYTHONPATH``, in every component).
    """
    from safetynet.orchestration.deadlines import publish_deadline_missed

    return _deadline(PUBLISH_BY_ENV, "08:30", REPORT_CRON, publish_deadline_missed, "extract published")


def warnings_deadline() -> DeadlineAlert | None:
    """A deadline on ``daily_warnings``' scheduled runs: published by ``SAFETYNET_WARNINGS_BY`` (09:00),
    measured as :func:`publish_deadline` is, from the 07:00 run."""
    from safetynet.orchestration.deadlines import warnings_deadline_missed

    return _deadline(WARNINGS_BY_ENV, "09:00", WARNINGS_CRON, warnings_deadline_missed, "warnings published")


def _deadline(env: str, default: str, cron_expression: str, callback: Any, name: str) -> DeadlineAlert | None:
    """A deadline ``env`` (HH:MM local, or ``off``) after the run's cron time, on scheduled runs."""
    from safetynet.orchestration.deadlines import ScheduledRunDeadline

    setting = (os.environ.get(env) or default).strip()
    if setting.lower() == "off":
        return None
    hours, minutes = (int(x) for x in setting.split(":"))
    cron_minutes, cron_hours = (int(x) for x in cron_expression.split()[:2])
    interval = timedelta(hours=hours - cron_hours, minutes=minutes - cron_minutes)
    if interval <= timedelta(0):
        raise ValueError(f"{env} must be later than the {cron_hours:02d}:{cron_minutes:02d} run, "
                         f"got {hours:02d}:{minutes:02d}")
    return DeadlineAlert(reference=ScheduledRunDeadline(), interval=interval,
                         callback=AsyncCallback(callback), name=name)




def delivery_sensor(source: str) -> Any:
    """The task that waits for ``source``'s delivery (file + ``.ok``) without holding a worker slot.

    ``reschedule`` mode, a check every 30 minutes, and a time-out (never retried)
    (3 days for the monthly files, due on the 5th; 2 days for the weekly snapshot)
    whose failure message names the file, the month and the location.
    """
    from safetynet.orchestration.sensors import DeliveryMarkerSensor

    override = os.environ.get(SENSOR_TIMEOUT_ENV, "").strip()
    hours = float(override) if override else DECLARED[source].sensor_timeout_hours
    return DeliveryMarkerSensor(
        task_id="wait_for_delivery",
        source=source,
        mode="reschedule",
        poke_interval=timedelta(minutes=30),
        timeout=timedelta(hours=hours),
    )
