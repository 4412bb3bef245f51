"""Wait for a department's delivery: its file and ``.ok`` marker, in a local folder or on SFTP.

File departments write the data file first and the empty ``<file>.ok`` marker
last (sources.md, "Completion markers"). The ingest DAGs of those departments
start with :class:`DeliveryMarkerSensor`, which looks for the delivery the run
expects:

* a monthly source (electricity, water): the month before the report date
  (``DL_202610.csv`` for a run on 2026-11-05);
* a snapshot source (property, vehicles): a snapshot dated within the seven days
  up to the report date (``BDC_QLR_20261114.xlsx`` … ``BDC_QLR_20261120.xlsx``).

File names and cadences come from the sources' declarations (``sources.declarations``).

The sensor runs in ``reschedule`` mode: between checks it gives its worker slot
back. When it times out, the failure names the file, the month or dates and the
location that was searched, so whoever is on call can ask the right department.
With ``deliveries.<source>.expected_by`` ("HH:MM" local time) in the configuration,
a check after that time on the run's report date that still finds nothing mails the
bureau once per run (:func:`safetynet.orchestration.alerts.delivery_missing`) and
keeps waiting.
``sftp://`` locations are listed through :mod:`safetynet.transport` (pinned host
key, key login); a fault that a retry may fix (a dropped connection) counts as
"not there yet", a refused host key or login fails the task at once.

This module is imported by DAG files at parse time: standard library and
``airflow.sdk`` only at top level.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import BaseSensorOperator

from safetynet.sources.declarations import SOURCES

log = logging.getLogger("safetynet.orchestration")

SNAPSHOT_WINDOW_DAYS = 7
"""A snapshot counts for a run when dated within this many days up to the report date."""


@dataclass(frozen=True)
class ExpectedDelivery:
    """What one ingest run waits for: any of ``names`` (with its ``.ok`` marker)."""

    source: str
    names: tuple[str, ...]
    period: str  # "2026-10" or "2026-11-14..2026-11-20", for messages

    def describe(self) -> str:
        """``DL_202610.csv (+ .ok), electricity delivery for 2026-10``."""
        if len(self.names) == 1:
            files = f"{self.names[0]} with its marker {self.names[0]}.ok"
        else:
            files = f"one of {self.names[0]} … {self.names[-1]} with its .ok marker"
        return f"{files} ({self.source} delivery for {self.period})"


SOURCES_WITH_MARKERS: tuple[str, ...] = tuple(n for n, s in SOURCES.items() if s.kind == "files")


def previous_month(day: date) -> date:
    """The first day of the month before ``day``'s month."""
    return (day.replace(day=1) - timedelta(days=1)).replace(day=1)


def expected_delivery(source: str, report_date: date) -> ExpectedDelivery:
    """The delivery a run for ``report_date`` waits for (see the module docstring)."""
    declared = SOURCES.get(source)
    template = declared.file_name if declared else None
    if declared and template and declared.cadence == "monthly":
        month = previous_month(report_date)
        name = template.format(tag=f"{month:%Y%m}")
        return ExpectedDelivery(source, (name,), f"{month:%Y-%m}")
    if declared and template and declared.cadence == "snapshot":
        days = [report_date - timedelta(days=n) for n in range(SNAPSHOT_WINDOW_DAYS - 1, -1, -1)]
        names = tuple(template.format(tag=f"{d:%Y%m%d}") for d in days)
        return ExpectedDelivery(source, names, f"{days[0].isoformat()}..{days[-1].isoformat()}")
    raise ValueError(f"source {source!r} has no file deliveries; expected one of {SOURCES_WITH_MARKERS}")


def past_cutoff(report_date: date, cutoff: str, now: datetime | None = None) -> bool:
    """True once local time (Asia/Shanghai) is at or after ``cutoff`` ("HH:MM") on ``report_date``."""
    from zoneinfo import ZoneInfo

    from safetynet.config import LOCAL_TIMEZONE

    zone = ZoneInfo(LOCAL_TIMEZONE)
    hours, minutes = (int(x) for x in cutoff.split(":"))
    due = datetime.combine(report_date, time(hours, minutes), tzinfo=zone)
    return (now or datetime.now(zone)) >= due


def find_delivery(location: str, expected: ExpectedDelivery) -> str | None:
    """The name of an expected file present with its ``.ok`` marker at ``location``, else None.

    ``location`` is a local folder or ``sftp://<connection id>/<path>``. Raises a
    :class:`~safetynet.transport.TransportError` for SFTP faults (its ``retryable``
    says whether waiting can help).
    """
    if location.startswith("sftp://"):
        from safetynet.transport import SftpDrop, parse_location, settings_from_connection

        conn_id, remote_dir = parse_location(location)
        pattern = "^(" + "|".join(re.escape(n) for n in expected.names) + ")$"
        with SftpDrop(settings_from_connection(conn_id), remote_dir) as drop:
            found = drop.list_complete(pattern)
        return found[-1].name if found else None
    folder = Path(location)
    for name in reversed(expected.names):  # the newest snapshot first
        if (folder / name).is_file() and (folder / f"{name}.ok").exists():
            return name
    return None


class DeliveryMarkerSensor(BaseSensorOperator):
    """Succeeds once the run's expected delivery of ``source`` is complete (file + ``.ok``).

    The location comes from the deployment's configuration (``SAFETYNET_CONFIG``)
    when the sensor pokes, never when the DAG file is parsed.
    """

    def __init__(self, *, source: str, **kwargs: Any) -> None:
        if source not in SOURCES_WITH_MARKERS:
            raise ValueError(f"source {source!r} has no file deliveries; expected one of "
                             f"{SOURCES_WITH_MARKERS}")
        kwargs.setdefault("mode", "reschedule")
        super().__init__(**kwargs)
        self.source = source
        self._waiting_for = f"the {source} delivery"
        self._last_problem = ""

    def poke(self, context: Any) -> bool:
        """True once the expected file and its marker are there."""
        from safetynet.config import load_config
        from safetynet.orchestration.tasks import config_path, report_date_of
        from safetynet.transport import TransportError

        day = report_date_of(context)
        expected = expected_delivery(self.source, day)
        cfg = load_config(config_path())
        if self.source not in cfg.sources:  # an optional source this deployment does not have
            from airflow.sdk.exceptions import AirflowSkipException

            raise AirflowSkipException(f"{self.source} is not configured in {cfg.path} "
                                       f"(sources.{self.source}); nothing to wait for")
        location = cfg.sources[self.source]
        self._waiting_for = f"{expected.describe()} in {location}"
        try:
            found = find_delivery(location, expected)
        except TransportError as exc:
            if not exc.retryable:
                from airflow.sdk.exceptions import AirflowFailException

                raise AirflowFailException(f"cannot check {location} for {expected.describe()}: "
                                           f"{type(exc).__name__}: {exc}") from exc
            self._last_problem = f" (last check: {type(exc).__name__}: {exc})"
            log.warning("%s: will check again: %s", location, exc)
            return False
        if found is None:
            log.info("waiting for %s", self._waiting_for)
            cutoff = cfg.expected_by.get(self.source)
            if cutoff and past_cutoff(day, cutoff):
                self._alert_missing(context, expected, location, cutoff, day)
            return False
        log.info("%s: %s is complete", self.source, found)
        return True

    def _alert_missing(self, context: Any, expected: ExpectedDelivery, location: str, cutoff: str,
                       day: date) -> None:
        """Mail the bureau (once per run) that the delivery is not there at its cut-off."""
        from safetynet.orchestration.alerts import delivery_missing
        from safetynet.orchestration.tasks import config_path

        ti = context.get("ti")
        dag_id = getattr(context.get("dag"), "dag_id", None) or getattr(ti, "dag_id", None)
        delivery_missing(
            dag_id=str(dag_id or f"ingest_{self.source}"), task_id=self.task_id,
            run_id=context.get("run_id") or getattr(ti, "run_id", None), source=self.source,
            expected=expected.describe(), location=location, cutoff=cutoff,
            report_date=day.isoformat(), config_path=config_path())

    def execute(self, context: Any) -> Any:
        """Run the sensor; on time-out, say which delivery was expected where."""
        from airflow.sdk.exceptions import AirflowSensorTimeout

        try:
            return super().execute(context)
        except AirflowSensorTimeout as exc:
            waited = timedelta(seconds=int(self.timeout))
            raise AirflowSensorTimeout(
                f"no delivery after waiting {waited}: expected {self._waiting_for}{self._last_problem}. "
                "Ask the department whether the file was sent; the ingest runs again on its next "
                "schedule, or clear this task once the file is there."
            ) from exc
