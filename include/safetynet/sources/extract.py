"""Extract one source into a staged batch on disk (``work/batches/<source>/<date>/``).

A batch is Parquet files of conformed rows and quarantined rows per delivered
item (a file or a table) plus ``batch.json`` with the accounting. Staging on
disk keeps DataFrames out of XCom and lets validate and load run as separate
tasks; re-extracting the same date replaces the batch.

File sources are extracted by ``sources.files`` (what is in force for the report
date), database sources by ``sources.database``; the accounting per item is
staged by ``sources.itemstage``.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

from safetynet.config import Config
from safetynet.sources.batch import StagedBatch, write_batch
from safetynet.sources.database import extract_database
from safetynet.sources.declarations import SOURCES
from safetynet.sources.files import extract_files


def batch_dir(cfg: Config, source: str, report_date: date) -> Path:
    """Where a source's batch for a report date is staged."""
    return cfg.work_dir / "batches" / source / report_date.isoformat()


def extract_source(cfg: Config, source: str, report_date: date) -> StagedBatch:
    """Read and conform a source's new deliveries; return the batch summary."""
    out = batch_dir(cfg, source, report_date)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; expected one of {sorted(SOURCES)}")
    read = extract_database if SOURCES[source].kind == "database" else extract_files
    items = read(cfg, source, report_date, out)
    batch: StagedBatch = {"source": source, "report_date": report_date.isoformat(), "path": str(out),
                          "items": items}
    write_batch(batch)
    return batch
