"""Failures and missed deadlines: recorded in the warehouse, then sent to whoever is on call.

Three entry points, all safe to call from Airflow and free of personal data:

* :func:`handle_task_failure` — what every task's failure callback does
  (``defaults.on_failure_callback``, a plain function: a ``BaseNotifier`` as a
  DAG-level callback crashes ``airflow dags test`` in 3.3);
* :func:`publish_deadline_missed` — the ``async def`` that the triggerer runs
  when ``daily_report`` has not published by its deadline (a ``DeadlineAlert``
  with an ``AsyncCallback`` naming it; it must be importable on the triggerer,
  which it is wherever ``include/`` is on ``PYTHONPATH``);
* :func:`delivery_missing` — what the delivery sensor calls when a file source's
  delivery is not there at its configured cut-off (``deliveries.<source>.expected_by``),
  once per run.

Each writes one row to the warehouse table ``meta_task_failure`` (the message
with ID numbers masked by :func:`safetynet.privacy.mask_text`) and passes a
:class:`FailureSummary` to the configured notifiers.

Configuration, by environment variable (the same on every Airflow component):

``SAFETYNET_ALERT_EMAIL_TO``
    Comma-separated recipients. Unset: no email (the failure is still logged and
    recorded).
``SAFETYNET_SMTP_CONN_ID``
    The SMTP connection (default ``smtp_default``), used through the SMTP provider's
    ``SmtpHook``: host, port, login, password, extra ``from_email``, ``disable_ssl``,
    ``disable_tls``, ``timeout``, ``retry_limit`` (the provider's connection fields).
``SAFETYNET_ALERT_NOTIFIERS``
    Comma-separated dotted paths of ``BaseNotifier`` subclasses, each built with
    no arguments and called as ``notify({"safetynet_failure": summary, ...})``.
    Default: :class:`EmailNotifier`.

Nothing here raises: a failing alert must never hide the failure it reports.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from html import escape
from typing import Any, cast

from airflow.sdk import BaseNotifier

from safetynet.config import LOCAL_TIMEZONE
from safetynet.localtime import local_time
from safetynet.privacy import mask_text

log = logging.getLogger("safetynet.orchestration")

EMAIL_TO_ENV = "SAFETYNET_ALERT_EMAIL_TO"
SMTP_CONN_ENV = "SAFETYNET_SMTP_CONN_ID"
NOTIFIERS_ENV = "SAFETYNET_ALERT_NOTIFIERS"
DEFAULT_SMTP_CONN_ID = "smtp_default"
DEFAULT_NOTIFIERS = "safetynet.orchestration.alerts.EmailNotifier"
MAX_MESSAGE = 500
DEADLINE_MISSED = "DeadlineMissed"
DELIVERY_MISSING = "DeliveryMissing"


@dataclass(frozen=True)
class FailureSummary:
    """One failed task (or missed deadline), with nothing personal in it."""

    dag_id: str
    task_id: str | None
    run_id: str | None
    try_number: int | None
    error_class: str
    message: str  # already masked
    failed_at: datetime

    def subject(self) -> str:
        """The alert's one-line subject."""
        if self.error_class == DEADLINE_MISSED:
            return f"[safetynet] {self.dag_id} missed its deadline ({self.run_id})"
        if self.error_class == DELIVERY_MISSING:
            return f"[safetynet] {self.dag_id}: expected delivery missing at its cut-off ({self.run_id})"
        return f"[safetynet] {self.dag_id}.{self.task_id or '-'} failed ({self.run_id})"

    def body(self) -> str:
        """The alert's text: where, which try, what class of error, the masked message."""
        lines = [
            f"DAG:       {self.dag_id}",
            f"Task:      {self.task_id or '-'}",
            f"Run:       {self.run_id or '-'}",
            f"Try:       {self.try_number if self.try_number is not None else '-'}",
            f"Error:     {self.error_class}",
            f"At:        {local_time(self.failed_at)} ({LOCAL_TIMEZONE})",
            "",
            self.message,
            "",
            "Recorded in the warehouse table meta_task_failure. Triage: docs/runbook.md.",
        ]
        return "\n".join(lines)

    def html(self) -> str:
        """:meth:`body` as the HTML the SMTP provider sends: the same text, escaped, preformatted."""
        return f'<pre style="font-family:monospace;white-space:pre-wrap">{escape(self.body())}</pre>'


def _root_cause(error: BaseException) -> BaseException:
    """The pipeline's own error behind ``AirflowFailException`` (tasks._fail_fast wraps it).

    ``_fail_fast`` does not chain the original (its unmasked text would reach the task
    log); it names the original class in ``cause_class`` instead.
    """
    if type(error).__name__ == "AirflowFailException" and error.__cause__ is not None:
        return error.__cause__
    return error


def summarize_failure(context: Mapping[str, Any]) -> FailureSummary:
    """A :class:`FailureSummary` from an Airflow failure-callback context (task or DAG run)."""
    dag = context.get("dag")
    ti = context.get("ti") or context.get("task_instance")
    error = context.get("exception")
    dag_id = getattr(dag, "dag_id", None) or getattr(ti, "dag_id", None) or "?"
    run_id = context.get("run_id") or getattr(ti, "run_id", None)
    task_id = getattr(ti, "task_id", None)
    try_number = getattr(ti, "try_number", None)
    if isinstance(error, BaseException):
        cause = _root_cause(error)
        kind = getattr(cause, "cause_class", None) or type(cause).__name__
        message = str(cause).removeprefix(f"{kind}: ")
    else:  # a DAG run's callback: its context names the last failed task, but it is not one
        kind, message = "DagRunFailed", str(context.get("reason") or error or "")
        task_id = try_number = None
    return FailureSummary(
        dag_id=str(dag_id), task_id=str(task_id) if task_id else None,
        run_id=str(run_id) if run_id else None,
        try_number=int(try_number) if isinstance(try_number, int) else None,
        error_class=kind[:128], message=mask_text(message, MAX_MESSAGE), failed_at=_now())


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def record_failure(summary: FailureSummary, config_path: str | None = None) -> None:
    """Insert one row into the warehouse's ``meta_task_failure`` (created if missing)."""
    from sqlalchemy import insert

    from safetynet.config import load_config
    from safetynet.warehouse.engine import get_engine, migrate
    from safetynet.warehouse.schema import meta_task_failure

    cfg = load_config(config_path)
    engine = get_engine(cfg.warehouse_url)
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(insert(meta_task_failure).values(**asdict(summary)))


# --------------------------------------------------------------------------- notifiers


class EmailNotifier(BaseNotifier):
    """Sends a :class:`FailureSummary` as an email through the SMTP provider's ``SmtpHook``.

    Recipients come from ``to`` or ``SAFETYNET_ALERT_EMAIL_TO``; the connection
    from ``smtp_conn_id`` or ``SAFETYNET_SMTP_CONN_ID`` (default ``smtp_default``),
    with the provider's SMTP connection fields (SSL unless ``disable_ssl``, else
    STARTTLS unless ``disable_tls``, login when the connection has one). The sender is
    the connection's ``from_email``, else its login, else ``safetynet@localhost``.
    With no recipient it sends nothing. The message holds only the summary (ID
    numbers masked), never the context.
    """

    def __init__(self, to: str | list[str] | None = None, smtp_conn_id: str | None = None) -> None:
        super().__init__()
        raw = to if to is not None else os.environ.get(EMAIL_TO_ENV, "")
        items = raw.split(",") if isinstance(raw, str) else raw
        self.to = [a.strip() for a in items if a.strip()]
        self.smtp_conn_id = smtp_conn_id or os.environ.get(SMTP_CONN_ENV) or DEFAULT_SMTP_CONN_ID

    def notify(self, context: Any) -> None:
        """Send the summary in ``context["safetynet_failure"]`` (raises on an SMTP error)."""
        from airflow.providers.smtp.hooks.smtp import SmtpHook

        summary: FailureSummary = context["safetynet_failure"]
        if not self.to:
            log.info("no alert recipients (%s is unset): email not sent", EMAIL_TO_ENV)
            return
        with SmtpHook(smtp_conn_id=self.smtp_conn_id) as smtp:
            sender = smtp.from_email or smtp.smtp_user or "safetynet@localhost"
            smtp.send_email_smtp(to=self.to, from_email=sender, subject=summary.subject(),
                                 html_content=summary.html())
        log.info("alert mailed to %d recipient(s) via connection %s", len(self.to), self.smtp_conn_id)

    async def async_notify(self, context: Any) -> None:
        """As :meth:`notify`, off the event loop (the triggerer runs deadline callbacks)."""
        await asyncio.to_thread(self.notify, context)


def configured_notifiers() -> list[BaseNotifier]:
    """The notifiers named by ``SAFETYNET_ALERT_NOTIFIERS`` (default: email)."""
    from importlib import import_module

    notifiers: list[BaseNotifier] = []
    for path in (os.environ.get(NOTIFIERS_ENV) or DEFAULT_NOTIFIERS).split(","):
        path = path.strip()
        if not path:
            continue
        try:
            module, _, name = path.rpartition(".")
            notifiers.append(getattr(import_module(module), name)())
        except Exception as exc:
            log.error("alert notifier %s cannot be built: %s: %s", path, type(exc).__name__, exc)
    return notifiers


def notify(summary: FailureSummary) -> None:
    """Hand the summary to every configured notifier; log (never raise) what fails."""
    for notifier in configured_notifiers():
        try:
            # notify(), not notifier(context): calling it renders templates against the
            # context's DAG, which fails for a SerializedDAG (see defaults.on_failure_callback).
            notifier.notify(cast(Any, {"safetynet_failure": summary}))
        except Exception as exc:
            log.error("alert via %s failed: %s: %s", type(notifier).__name__, type(exc).__name__,
                      mask_text(str(exc), 200))


# --------------------------------------------------------------------------- entry points


def handle_task_failure(context: Mapping[str, Any]) -> FailureSummary | None:
    """Log, record and notify one failed task; for a failed DAG run, log only.

    (Each failed task of the run has already been recorded and notified; the
    run's own failure adds nothing but a second alert.)
    """
    try:
        summary = summarize_failure(context)
    except Exception:  # pragma: no cover - last line of defence
        log.exception("safetynet failure callback could not describe the failure")
        return None
    log.error(
        "safetynet failure: dag=%s task=%s run=%s try=%s error=%s: %s",
        summary.dag_id, summary.task_id or "-", summary.run_id or "?",
        summary.try_number if summary.try_number is not None else "-",
        summary.error_class, mask_text(summary.message, 300),
    )
    if summary.task_id is None:
        return summary
    try:
        record_failure(summary)
    except Exception as exc:
        log.error("could not record the failure in meta_task_failure: %s: %s",
                  type(exc).__name__, mask_text(str(exc), 200))
    notify(summary)
    return summary


MISSED_WHAT = {"daily_report": "extract", "daily_warnings": "hardship warnings"}
"""What a DAG's deadline is about, for the alert's sentence."""


async def publish_deadline_missed(context: Mapping[str, Any] | None = None, **kwargs: Any) -> str:
    """Deadline-alert callback of ``daily_report``: the day's extract is not published in time.

    Run by the triggerer with ``context = {"dag_run": {...}, "deadline": {...}}`` (the run as
    the REST API's ``DAGRunResponse``: ``dag_run_id``, ``dag_id``, ``run_type``, ``state``, …).
    Back-fill runs are ignored (their logical dates lie in the past, so every one
    of them "misses" at once). Returns a one-line outcome (shown in the UI).
    """
    context = context or {}
    run = dict(context.get("dag_run") or {})
    deadline = dict(context.get("deadline") or {})
    run_id = run.get("dag_run_id") or run.get("run_id")  # the API model calls it dag_run_id
    run_type = str(run.get("run_type") or "")
    if run_type == "backfill":
        return f"ignored: back-fill run {run_id}"
    summary = FailureSummary(
        dag_id=str(run.get("dag_id") or kwargs.get("dag_id") or "daily_report"),
        task_id=None,
        run_id=str(run_id) if run_id else None,
        try_number=None,
        error_class=DEADLINE_MISSED,
        message=mask_text(
            f"the {MISSED_WHAT.get(str(run.get('dag_id')), 'extract')} of run {run_id} "
            f"(logical date {run.get('logical_date')}) was not "
            f"published by {deadline.get('deadline_time')}; run state: {run.get('state')}. Sources that "
            "failed are named in the failure alerts and in meta_source_state.", MAX_MESSAGE),
        failed_at=_now(),
    )
    log.error("safetynet deadline missed: dag=%s run=%s deadline=%s",
              summary.dag_id, summary.run_id, deadline.get("deadline_time"))
    try:
        await asyncio.to_thread(record_failure, summary)
    except Exception as exc:
        log.error("could not record the missed deadline: %s: %s", type(exc).__name__,
                  mask_text(str(exc), 200))
    await asyncio.to_thread(notify, summary)
    return f"recorded and notified: {summary.subject()}"


def delivery_missing(*, dag_id: str, task_id: str, run_id: str | None, source: str, expected: str,
                     location: str, cutoff: str, report_date: str,
                     config_path: str | None = None) -> bool:
    """An expected delivery has not arrived by its cut-off: record it and mail it, once per run.

    Called by the delivery sensor on every check after the cut-off
    (``deliveries.<source>.expected_by``) while the file is still missing; the row in
    ``meta_task_failure`` (``error_class = 'DeliveryMissing'``) is what makes the
    alert go out only once per run. The sensor keeps waiting: the file may still come,
    and its own time-out fails the task later. Returns True when it alerted now.
    Never raises.
    """
    from sqlalchemy import select

    from safetynet.config import load_config
    from safetynet.warehouse.engine import get_engine, migrate
    from safetynet.warehouse.schema import meta_task_failure

    t = meta_task_failure
    try:
        engine = get_engine(load_config(config_path).warehouse_url)
        migrate(engine)
        same_run = t.c.run_id == run_id if run_id is not None else t.c.run_id.is_(None)
        with engine.connect() as conn:
            done = conn.execute(select(t.c.failed_at).where(
                t.c.dag_id == dag_id, same_run, t.c.error_class == DELIVERY_MISSING).limit(1)).first()
        if done is not None:
            return False
        summary = FailureSummary(
            dag_id=dag_id, task_id=task_id, run_id=run_id, try_number=None,
            error_class=DELIVERY_MISSING,
            message=mask_text(
                f"{source}: expected {expected} in {location}; not there at the cut-off "
                f"{cutoff} (Asia/Shanghai) of {report_date} (deliveries.{source}.expected_by). "
                "Ask the department whether the file was sent. The ingest keeps waiting until its "
                "sensor times out and loads the file as soon as it and its .ok marker are there.",
                MAX_MESSAGE),
            failed_at=_now())
        log.error("safetynet delivery missing: dag=%s run=%s source=%s cut-off=%s",
                  dag_id, run_id or "-", source, cutoff)
        record_failure(summary, config_path)
    except Exception as exc:
        log.error("could not record the missing delivery: %s: %s", type(exc).__name__,
                  mask_text(str(exc), 200))
        return False
    notify(summary)
    return True
