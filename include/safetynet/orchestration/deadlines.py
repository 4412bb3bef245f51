"""The publish deadline of ``daily_report``: for scheduled runs, and for other runs only when asked.

The 06:30 run must publish the day's extract by ``SAFETYNET_PUBLISH_BY`` (08:30). A
run that somebody starts by hand (a re-run from the UI or the CLI) or a back-fill
run works for a day whose deadline lies in the past: measured the same way, it
would "miss" the moment it starts, and on-call would get a ``DeadlineMissed``
alert for the re-run they just started. So:

* **scheduled runs** carry the deadline: logical date (06:30 local) + the
  publish-by interval;
* **manual (and Asset-triggered) runs** carry none, unless the run's conf asks for it
  with ``{"deadline_alert": true}`` (:data:`DEADLINE_ALERT_CONF`); such a run gets the
  same interval, counted from its logical date, or from when it was triggered when it
  has none;
* **back-fill runs** never carry one: every day of a back-fill lies in the past.

Two places apply this rule, so it holds even for a deadline created before it existed:

* :class:`ScheduledRunDeadline`, the ``DeadlineAlert``'s reference, is evaluated when
  a DAG run is created (scheduler, API server or CLI). For a run without a deadline it
  evaluates to ``None``, and Airflow then creates no deadline at all: nothing is
  shown as "Missed" in the UI and no callback is ever queued. Airflow finds the
  class through the plugin ``plugins/safetynet_deadlines.py`` (custom deadline
  references must be registered by a plugin).
* :func:`publish_deadline_missed`, the callback the triggerer runs, records and mails
  the miss only for a run that should carry a deadline; any other run is ignored.

This module is imported when a DAG file is parsed (through ``defaults``) and by every
Airflow component (through the plugin): standard library and ``airflow.sdk`` only at
module level.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

from airflow.sdk.definitions.deadline import BaseDeadlineReference

log = logging.getLogger("safetynet.orchestration")

DEADLINE_ALERT_CONF = "deadline_alert"
"""The DAG-run conf key that asks for the deadline on a run that is not scheduled:
``airflow dags trigger daily_report --conf '{"deadline_alert": true}'``."""

SCHEDULED = "scheduled"
"""Airflow's ``run_type`` of a run the scheduler created from the DAG's timetable."""

BACKFILL = "backfill"
"""Airflow's ``run_type`` of a back-fill run (``airflow backfill create``)."""


def _asked(conf: Mapping[str, Any] | None) -> bool:
    """Whether a run's conf asks for the deadline (``true``, or the text ``"true"`` from a form)."""
    value = (conf or {}).get(DEADLINE_ALERT_CONF)
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return value is True


def deadline_applies(run_type: Any, conf: Mapping[str, Any] | None) -> bool:
    """Whether a DAG run of this type and conf carries the publish deadline.

    Scheduled runs always do; back-fill runs never; manual (and Asset-triggered) runs
    only when their conf holds ``{"deadline_alert": true}``. ``run_type`` may be
    Airflow's ``DagRunType`` or its value as text (``"scheduled"``, ``"manual"``, …).
    """
    kind = str(getattr(run_type, "value", run_type) or "")
    if kind == SCHEDULED:
        return True
    return kind != BACKFILL and _asked(conf)


class ScheduledRunDeadline(BaseDeadlineReference):
    """Deadline reference: the run's logical date, for runs that carry the deadline; else none.

    Evaluated by Airflow when a DAG run is created, with ``dag_id`` and ``run_id``.
    Returns the logical date of a scheduled run (06:30 local for the morning run), the
    logical date (or, without one, the trigger time) of a run whose conf asks for the
    deadline, and ``None`` for every other run, so Airflow creates no deadline for it.
    """

    required_kwargs: ClassVar[set[str]] = {"dag_id", "run_id"}

    def _evaluate_with(self, *, session: Any, **kwargs: Any) -> datetime | None:
        """The reference time of the run ``kwargs["run_id"]``, or None when it has no deadline."""
        from airflow.models.dagrun import DagRun
        from sqlalchemy import select

        row = session.execute(
            select(DagRun.run_type, DagRun.conf, DagRun.logical_date, DagRun.run_after).where(
                DagRun.dag_id == kwargs["dag_id"], DagRun.run_id == kwargs["run_id"]
            )
        ).one_or_none()
        if row is None:
            log.warning("deadline: no DAG run %s.%s; no deadline", kwargs["dag_id"], kwargs["run_id"])
            return None
        run_type, conf, logical_date, run_after = row
        if not deadline_applies(run_type, conf if isinstance(conf, Mapping) else None):
            return None
        reference: datetime | None = logical_date or run_after
        return reference


async def publish_deadline_missed(context: Mapping[str, Any] | None = None, **kwargs: Any) -> str:
    """Deadline callback of ``daily_report`` (run by the triggerer): alert for a run that carries one.

    ``context`` is what the triggerer passes: ``{"dag_run": {...}, "deadline": {...}}``, the
    run as the REST API shows it (``dag_run_id``, ``run_type``, ``conf``, …). For a scheduled
    run, or a manual run whose conf holds ``{"deadline_alert": true}``, the miss is recorded
    in ``meta_task_failure`` and mailed by :func:`safetynet.orchestration.alerts.publish_deadline_missed`;
    any other run (manual, back-fill, Asset-triggered) is ignored. Returns a one-line outcome.
    """
    run = dict((context or {}).get("dag_run") or {})
    run_id = run.get("dag_run_id") or run.get("run_id")
    run_type = run.get("run_type") or ""
    conf = run.get("conf")
    if not deadline_applies(run_type, conf if isinstance(conf, Mapping) else None):
        log.info("deadline of %s run %s ignored: only scheduled runs (or runs with conf %s) alert",
                 run_type or "unknown", run_id, DEADLINE_ALERT_CONF)
        return f"ignored: {run_type or 'unknown'} run {run_id} (no {DEADLINE_ALERT_CONF} in its conf)"
    from safetynet.orchestration import alerts

    return await alerts.publish_deadline_missed(context, **kwargs)


async def warnings_deadline_missed(context: Mapping[str, Any] | None = None, **kwargs: Any) -> str:
    """Deadline callback of ``daily_warnings``: as :func:`publish_deadline_missed`, for the warnings."""
    return await publish_deadline_missed(context, **kwargs)
