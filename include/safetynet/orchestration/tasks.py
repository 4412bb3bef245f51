"""What the DAGs' tasks run: each function is one call into :mod:`safetynet.pipeline`.

Keeping the task bodies here, not in the DAG files, means the DAG files only say
*when* and *in what order*, and the pipeline stays the single implementation the
CLI (``safetynet run``) and Airflow share. Every function returns the pipeline's
small dict (counts and identifiers, never rows or personal data), which is what
travels through XCom.

``safetynet.pipeline`` is imported inside the functions: it pulls in pandas,
SQLAlchemy and Great Expectations, which must not load when a DAG file is parsed.

Every task that writes runs inside :func:`safetynet.locking.task_lock` (its source,
or "report" for evaluate and publish), so two runs of one source never delete each
other's staged files and ``safetynet run`` never overlaps a task. A lock that is
taken raises ``LockHeld`` at once; it is transient, so Airflow's retries apply.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, ParamSpec, TypeVar
from zoneinfo import ZoneInfo

from safetynet.config import LOCAL_TIMEZONE
from safetynet.sources.batch import BatchRef

CONFIG_ENV = "SAFETYNET_CONFIG"
PERMANENT = frozenset({"DeliveryError", "BatchRejected", "ConfigError", "PublishError"})
P = ParamSpec("P")
R = TypeVar("R")

StepResult = dict[str, Any]
"""A pipeline step's result: small, JSON-able, free of personal data."""


def config_path() -> str | None:
    """The deployment's configuration file (``SAFETYNET_CONFIG``), or None for the default."""
    return os.environ.get(CONFIG_ENV) or None


def report_date(logical_date: datetime | None, run_after: datetime | None = None) -> date:
    """The report date a run works for: its logical date's day in Asia/Shanghai.

    Not Airflow's ``ds``: ``ds`` is the UTC date, and a run scheduled at 06:30 in
    Shanghai has a logical date of 22:30 UTC the day before. The local day is the
    same for scheduled runs and for ``airflow dags test DAG 2026-11-20``. A run
    triggered by an Asset update has no logical date: it reports for the local
    day it was due (``run_after``).
    """
    when = logical_date or run_after
    if when is None:
        raise ValueError("this DAG run has neither a logical date nor a run-after time, so it has "
                         "no report date")
    return when.astimezone(ZoneInfo(LOCAL_TIMEZONE)).date()


def report_date_of(context: Mapping[str, Any]) -> date:
    """:func:`report_date` from an Airflow task context."""
    return _report_date(context.get("logical_date"), context.get("dag_run"))


def _report_date(logical_date: datetime | None, dag_run: Any) -> date:
    return report_date(logical_date, getattr(dag_run, "run_after", None))


@contextmanager
def _locked(scope: str, step: str, day: date | str, dag_run: Any = None) -> Iterator[None]:
    """Hold the task lock on ``scope`` (a source, or "report") for one writing task.

    The holder is named ``airflow <dag_id>.<step> <report date>``, or with the scope
    in place of the DAG id when the task has no DAG run at hand.
    """
    from safetynet.config import load_config
    from safetynet.locking import holder_text, task_lock

    dag_id = getattr(dag_run, "dag_id", None) or scope
    with task_lock(load_config(config_path()), scope, holder_text(f"airflow {dag_id}.{step} {day}")):
        yield


class RedactedError(RuntimeError):
    """A retryable failure whose message quoted an ID number, re-raised with it masked."""


def _fail_fast(step: Callable[P, R]) -> Callable[P, R]:
    """Data and configuration errors fail the task at once: retrying cannot fix a bad file.

    Transport faults (a dropped connection, a timeout) keep Airflow's retries with
    back-off; a refused host key, a bad delivery or a failed validation do not.
    Either way the message that reaches the task log has its ID numbers masked,
    and the original exception is not chained (its text would be printed too).
    """

    @functools.wraps(step)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return step(*args, **kwargs)
        except Exception as exc:
            from safetynet.privacy import mask_text

            said = f"{type(exc).__name__}: {exc}"
            told = mask_text(said)  # the task log prints this text outside our logging filter
            if getattr(exc, "retryable", None) is False or type(exc).__name__ in PERMANENT:
                from airflow.sdk.exceptions import AirflowFailException

                failure: Exception = AirflowFailException(told)
            elif told != said:
                failure = RedactedError(told)
            else:
                raise
            failure.cause_class = type(exc).__name__  # type: ignore[attr-defined]
            raise failure.with_traceback(exc.__traceback__) from None

    return run


@_fail_fast
def extract(source: str, logical_date: datetime | None, dag_run: Any = None) -> BatchRef:
    """Stage the source's new deliveries as one batch.

    A source the deployment does not configure (an optional registry) skips the
    task, and with it validate and load: the DAG shows skipped, not failed.
    """
    from safetynet import pipeline
    from safetynet.config import SourceNotConfigured

    day = _report_date(logical_date, dag_run)
    try:
        with _locked(source, "extract", day, dag_run):
            return pipeline.extract(source, day, config_path())
    except SourceNotConfigured as exc:  # an optional source this deployment does not have
        from airflow.sdk.exceptions import AirflowSkipException

        raise AirflowSkipException(str(exc)) from None


@_fail_fast
def validate(source: str, batch: BatchRef) -> StepResult:
    """Check the staged batch (raises on a batch-level failure, so the run stops before load)."""
    from safetynet import pipeline

    with _locked(source, "validate", batch.get("report_date", "")):
        return pipeline.validate(source, batch, config_path())


@_fail_fast
def load(source: str, batch: StepResult) -> StepResult:
    """Load the validated batch into the warehouse."""
    from safetynet import pipeline

    with _locked(source, "load", batch.get("report_date", "")):
        return pipeline.load(source, batch, config_path())


@_fail_fast
def evaluate(logical_date: datetime | None, dag_run: Any = None) -> StepResult:
    """Evaluate every rule for the report date and update the case table."""
    from safetynet import pipeline

    day = _report_date(logical_date, dag_run)
    with _locked("report", "evaluate", day, dag_run):
        return pipeline.evaluate(day, config_path())


@_fail_fast
def publish_warnings(logical_date: datetime | None, dag_run: Any = None) -> StepResult:
    """Write and atomically publish the report date's hardship warnings to the warning outbox."""
    from safetynet import pipeline

    day = _report_date(logical_date, dag_run)
    with _locked("report", "publish_warnings", day, dag_run):
        return pipeline.publish_warnings(day, config_path())


@_fail_fast
def publish(logical_date: datetime | None, dag_run: Any = None) -> StepResult:
    """Write and atomically publish the report date's extract."""
    from safetynet import pipeline

    day = _report_date(logical_date, dag_run)
    with _locked("report", "publish", day, dag_run):
        return pipeline.publish(day, config_path())
