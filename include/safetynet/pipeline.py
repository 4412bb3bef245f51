"""The daily pipeline's steps: the one set of functions both the CLI and the DAGs call.

Every step takes the report date and an optional configuration path (default:
``SAFETYNET_CONFIG``) and returns a small dict of counts and identifiers that is
safe to log and to pass through XCom: never a DataFrame, never personal data.
A source step that fails records the failure (the source is then reported as
stale) and re-raises, so its task fails loudly while other sources go on.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from safetynet.config import Config, load_config
from safetynet.sources.batch import BatchRef, read_batch, reference
from safetynet.sources.declarations import SOURCES as DECLARED

SOURCES: tuple[str, ...] = tuple(DECLARED)
"""Every declared source (``sources.declarations``); a run ingests the configured ones."""
log = logging.getLogger("safetynet")

T = TypeVar("T")


def _setup(report_date: date | str, config_path: str | Path | None) -> tuple[Config, date]:
    d = report_date if isinstance(report_date, date) else date.fromisoformat(str(report_date)[:10])
    return load_config(config_path), d


def _guarded(cfg: Config, source: str, step: Callable[..., T], *args: object) -> T:
    from safetynet.warehouse.load import record_failure

    try:
        return step(*args)
    except Exception as exc:
        record_failure(cfg, source, exc)
        raise


def extract(source: str, report_date: date | str, config_path: str | Path | None = None) -> BatchRef:
    """Read a source's new deliveries, normalise them and stage them as a batch on disk."""
    from safetynet.sources.extract import extract_source

    cfg, d = _setup(report_date, config_path)
    if source not in cfg.sources:
        from safetynet.config import SourceNotConfigured

        raise SourceNotConfigured(f"{source} is not configured in {cfg.path} (sources.{source}); "
                                  "nothing to extract")
    return reference(_guarded(cfg, source, extract_source, cfg, source, d))


def validate(source: str, batch: Mapping[str, Any], config_path: str | Path | None = None) -> dict[str, Any]:
    """Validate a staged batch with the source's GX suites.

    Row-level failures are quarantined inside the staged batch; a batch-level
    failure raises ``BatchRejected`` so nothing of the batch loads. Results go to
    ``meta_validation`` and a Data Docs site is built per run under
    ``<work_dir>/data_docs/<source>/<report_date>/``.
    """
    from safetynet.validation import validate_batch

    cfg = load_config(config_path)
    checked = _guarded(cfg, source, validate_batch, cfg, read_batch(batch["path"]))
    return {**batch, "validated": True, **checked}


def load(source: str, batch: Mapping[str, Any], config_path: str | Path | None = None) -> dict[str, Any]:
    """Load a validated batch into the warehouse in one transaction and record its accounting."""
    from safetynet.warehouse.load import load_batch

    cfg = load_config(config_path)
    return _guarded(cfg, source, load_batch, cfg, read_batch(batch["path"]))


def ingest(source: str, report_date: date | str, config_path: str | Path | None = None) -> dict:
    """Extract, validate and load one source (what one ingest DAG does)."""
    staged = extract(source, report_date, config_path)
    return load(source, validate(source, staged, config_path), config_path)


def evaluate(report_date: date | str, config_path: str | Path | None = None) -> dict:
    """Evaluate every rule as of the report date and update the case table."""
    cfg, d = _setup(report_date, config_path)
    return evaluate_day(cfg, d)


def evaluate_day(cfg: Config, d: date) -> dict:
    """Load what the rules need besides the sources, then evaluate the rules for ``d``.

    The regions file replaces ``ref_region`` and the inbox's new decision files
    load into ``core_disposition`` (one transaction); the rules engine then reads
    only the warehouse.
    """
    from safetynet.dispositions import load_dispositions
    from safetynet.dispositions_kinds import WARNING_DECISIONS
    from safetynet.rules.engine import evaluate_rules
    from safetynet.warehouse.engine import get_engine, migrate
    from safetynet.warehouse.regions import load_regions

    engine = get_engine(cfg.warehouse_url)
    migrate(engine)
    with engine.begin() as conn:
        load_regions(conn, cfg.regions_file)
        inbox = load_dispositions(conn, cfg, d)
        bureau = load_dispositions(conn, cfg, d, WARNING_DECISIONS)
    return {**evaluate_rules(cfg, d), "dispositions": inbox, "warning_decisions": bureau}


def publish(report_date: date | str, config_path: str | Path | None = None) -> dict:
    """Write the day's extract files and publish them atomically to the outbox."""
    from safetynet.publishing import publish_folder
    from safetynet.reports.build import build_reports
    from safetynet.reports.publication import record_publication

    cfg, d = _setup(report_date, config_path)
    staged = cfg.work_dir / "reports" / d.isoformat()
    shutil.rmtree(staged, ignore_errors=True)
    staged.mkdir(parents=True)
    summary = build_reports(cfg, d, staged)
    target = publish_folder(cfg.outbox, staged, d.isoformat())
    kind = record_publication(cfg, d, staged, target)
    return {**summary, "published_to": target, "audit": kind}


class NotEvaluatedYet(RuntimeError):
    """The report date's rules and warnings have not been evaluated: nothing to publish yet (retried)."""


def was_evaluated(cfg: Config, d: date) -> bool:
    """Whether report date D has been evaluated (its place in the report chain is recorded then)."""
    from sqlalchemy import select

    from safetynet.warehouse.engine import get_engine, migrate
    from safetynet.warehouse.schema import meta_report_chain

    engine = get_engine(cfg.warehouse_url)
    migrate(engine)
    with engine.connect() as conn:
        return conn.execute(select(meta_report_chain.c.report_date).where(
            meta_report_chain.c.report_date == d)).first() is not None


def publish_warnings(report_date: date | str, config_path: str | Path | None = None) -> dict:
    """Write the day's hardship warnings and publish them atomically to the warning outbox.

    The social-assistance unit's own location (``warning_outbox``), never the
    inspectors' outbox; a deployment without one publishes no warnings (they stay
    in the warehouse) and says so.
    """
    from safetynet.publishing import publish_folder
    from safetynet.reports.warnings import build_warnings

    cfg, d = _setup(report_date, config_path)
    if not cfg.warning_outbox:
        log.info("no warning_outbox configured: the day's hardship warnings are not published")
        return {"report_date": d.isoformat(), "warnings_published_to": None}
    if not was_evaluated(cfg, d):
        raise NotEvaluatedYet(f"{d.isoformat()} has not been evaluated yet: its warnings are published "
                              "after daily_report's evaluate (or safetynet run); nothing was published")
    staged = cfg.work_dir / "warnings" / d.isoformat()
    shutil.rmtree(staged, ignore_errors=True)
    staged.mkdir(parents=True)
    summary = build_warnings(cfg, d, staged)
    target = publish_folder(cfg.warning_outbox, staged, d.isoformat())
    return {**summary, "warnings_published_to": target}


def run(report_date: date | str, config_path: str | Path | None = None) -> dict:
    """Every step for one date in one process: ingest all sources, evaluate, publish.

    The whole run holds the deployment's lock (``safetynet.locking.run_lock``): a
    second run, or an Airflow task, meanwhile fails at once naming this one.
    """
    from safetynet.locking import holder_text, run_lock

    cfg, d = _setup(report_date, config_path)
    with run_lock(cfg, holder_text(f"safetynet run --date {d.isoformat()}")):
        failed = {}
        for source in cfg.sources:  # the configured ones, in declaration order
            try:
                ingest(source, d, config_path)
            except Exception as exc:
                failed[source] = f"{type(exc).__name__}: {exc}"
                log.error("source %s failed and is reported stale: %s", source, failed[source])
        evaluated = evaluate(d, config_path)
        published = publish(d, config_path)
        warned = publish_warnings(d, config_path)
    return {"failed_sources": failed, **evaluated, **published,
            "warnings_published_to": warned["warnings_published_to"]}
