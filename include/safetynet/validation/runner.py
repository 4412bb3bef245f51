"""Validate a staged batch with its Great Expectations suites (issue 4).

For every item with rows: project it without personal data, fill the suite's
parameters from the warehouse, run the suite, and judge each result by its
``meta.level``. Then, whatever the outcome: store every result in
``meta_validation``, write the batch's offline report under
``<work_dir>/data_docs/<source>/<report_date>/`` (``validation.docs``) and log a short summary (one
line per item plus one per failure). Finally either raise :class:`BatchRejected`
(nothing of the batch loads, the last good data stays and the source is reported
stale) or move the row-level failures into the batch's quarantine.
"""

from __future__ import annotations

import logging
import time
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from safetynet.config import Config
from safetynet.faults import fault_point
from safetynet.sources.batch import StagedBatch, StagedItem, stem, write_batch
from safetynet.sources.declarations import DB_SPECS
from safetynet.thresholds import Thresholds, load_thresholds
from safetynet.validation.docs import write_batch_docs
from safetynet.validation.gxrun import GxRunner
from safetynet.validation.outcome import BatchRejected, Finding, judge
from safetynet.validation.parameters import (
    fresh_since,
    newest_file_item,
    previous_counts,
    volume_bounds,
)
from safetynet.validation.projection import freshness_columns, new_salt, project
from safetynet.validation.settings import load_suite, suite_name
from safetynet.validation.store import quarantine_rows, record
from safetynet.warehouse.acceptance import is_accepted, pending
from safetynet.warehouse.engine import get_engine, migrate
from safetynet.warehouse.file_registry import record_refusal

log = logging.getLogger("safetynet.validation")
VOLUME = "expect_table_row_count_to_be_between"


def docs_dir(cfg: Config, source: str, report_date: str) -> Path:
    """Where a batch's offline validation report is written (``validation.docs``)."""
    return cfg.work_dir / "data_docs" / source / report_date


def validate_batch(cfg: Config, batch: StagedBatch) -> dict[str, Any]:
    """Validate ``batch`` (its ``batch.json`` content); return a small summary or raise."""
    settings = load_thresholds(cfg)
    source, folder, batch_id = batch["source"], Path(batch["path"]), batch["report_date"]
    engine = get_engine(cfg.warehouse_url)
    migrate(engine)
    items = [i for i in batch["items"] if i["loaded"] or is_full(i)]
    if not items:
        log.info("validate %s %s: nothing new to validate", source, batch_id)
        return {"checked_items": 0, "validation_quarantined": 0, "data_docs": None}
    started = time.monotonic()
    runner = GxRunner(source, batch_id)
    findings = _run_items(runner, settings, engine, batch, items)
    index = write_batch_docs(docs_dir(cfg, source, batch_id).parent.parent, source, batch_id,
                             [f.as_result() for f in findings])
    record(engine, source, batch_id, findings)
    rejected = [f for f in findings if f.outcome == "rejected"]
    log.info("validate %s %s: %d items, %d expectations, %d failed, %d rejected (%.1fs); Data Docs %s",
             source, batch_id, len(items), len(findings), sum(not f.success for f in findings),
             len(rejected), time.monotonic() - started, index)
    if rejected:
        lines = {f.item: _explain(source, f, settings) for f in rejected}
        _register_refused(engine, source, batch_id, items, lines)
        raise BatchRejected(f"{source} batch {batch_id} rejected by validation: "
                            + "; ".join(_explain(source, f, settings) for f in rejected))
    moved = sum(quarantine_rows(folder, i, [f for f in findings if f.item == i["item"]]) for i in items)
    if moved:
        write_batch(batch)
    return {"checked_items": len(items), "validation_quarantined": moved, "data_docs": str(index)}


def is_full(item: StagedItem) -> bool:
    """A full delivery (a file, a table read whole): judged even when it holds no rows at all."""
    return item.get("mode") != "incremental"


def _explain(source: str, finding: Finding, settings: Thresholds) -> str:
    """A rejection line; a volume refusal says what it means and how to accept a genuine drop."""
    if finding.expectation != VOLUME:
        return finding.line()
    return (f"{finding.item}: {finding.observed} rows, fewer than validation.volume_floor "
            f"({settings.volume_floor:g}) of the previous delivery of the same item (expected "
            f"{finding.expected}); nothing was replaced and the last good data stays. If the drop is "
            f"genuine: safetynet accept --source {source} --item {finding.item}")


def _register_refused(engine: Engine, source: str, batch_id: str, items: list[StagedItem],
                      lines: dict[str, str]) -> None:
    """Record the refused items (``safetynet status`` lists them, ``safetynet accept`` finds them)."""
    for item in items:
        if item["item"] in lines:
            record_refusal(engine, source, item["item"], item.get("sha256"), item.get("size"),
                           lines[item["item"]], batch_id)


def _run_items(runner: GxRunner, settings: Thresholds, engine: Engine, batch: StagedBatch,
               items: list[StagedItem]) -> list[Finding]:
    source, folder = batch["source"], Path(batch["path"])
    database = source in DB_SPECS
    report_date = date.fromisoformat(batch["report_date"])
    newest = newest_file_item(source, items)
    salt = new_salt()
    findings: list[Finding] = []
    with engine.connect() as conn:
        earlier = previous_counts(conn, source)
        accepted = pending(conn, source)
        for item in items:
            t0 = time.monotonic()
            suite = load_suite(settings.expectations_dir, suite_name(source, item["item"], database))
            frame = project(folder / f"{stem(item['item'])}.rows.parquet", suite, salt)
            params = {**volume_bounds(settings, item, database, earlier, is_accepted(accepted, item)),
                      "fresh_since": None}
            for column in freshness_columns(suite):
                params["fresh_since"] = fresh_since(conn, settings, source, item, column,
                                                    report_date, newest)
            result = runner.validate(item["item"], suite, frame, params)
            judged = [judge(item["item"], r, len(frame), settings.min_rows, settings.row_failure_ceiling)
                      for r in result.results]
            findings += judged
            fault_point("validate.item")
            bad_rows = len({r for f in judged for r in f.rows})
            earlier[item["item"]] = len(frame) - bad_rows
            failed = [f for f in judged if not f.success]
            log.info("  %s: %d rows, %d expectations, %d failed, %d rows to quarantine (%.1fs)",
                     item["item"], len(frame), len(judged), len(failed), bad_rows, time.monotonic() - t0)
            for f in failed:
                log.info("    %s %s", f.level, f.line())
    return findings
