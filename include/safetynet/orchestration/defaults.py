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
from airflow.sdk import Asset, CronTriggerTimetable

from safetynet.privacy import mask_text

log = logging.getLogger("safetynet.orchestration")

OWNER = "safetynet-data"
"""Team that owns every DAG (shown in the UI and on alerts)."""

TIMEZONE = "Asia/Shanghai"
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


_MAX_MESSAGE = 300


def redact(text: str) -> str:
    """Mask ID-shaped numbers and cut the text short, so it can go to a task log.

    Task logs are readable by every Viewer and Airflow's secrets masker does not
    know ID numbers, so exception messages are cleaned before they are logged.
    """
    cleaned = mask_text(text)
    if len(cleaned) > _MAX_MESSAGE:
        cleaned = cleaned[:_MAX_MESSAGE] + "…"
    return cleaned


def on_failure_callback(context: Mapping[str, Any]) -> None:
    """Log one line for a failed task or DAG run: where, which try, what class of error.

    A plain function, not a ``BaseNotifier``: a notifier as DAG-level callback
    crashes ``airflow dags test`` in 3.3. It never raises (a failing callback
    would hide the original failure) and logs no personal data: only identifiers
    of the run, the exception class and its message with ID numbers masked.
    """
    try:
        dag = context.get("dag")
        ti = context.get("ti") or context.get("task_instance")
        error = context.get("exception")
        dag_id = getattr(dag, "dag_id", None) or getattr(ti, "dag_id", "?")
        task_id = getattr(ti, "task_id", "-")
        run_id = context.get("run_id") or getattr(ti, "run_id", "?")
        try_number = getattr(ti, "try_number", "-")
        if error is not None:
            kind, message = type(error).__name__, str(error)
        else:
            kind, message = "DagRunFailed", str(context.get("reason") or "")
        log.error(
            "safetynet failure: dag=%s task=%s run=%s try=%s error=%s: %s",
            dag_id,
            task_id,
            run_id,
            try_number,
            kind,
            redact(message),
        )
    except Exception:  # pragma: no cover - last line of defence, see docstring
        log.exception("safetynet failure callback could not describe the failure")


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
