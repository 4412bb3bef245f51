"""Extract one source into a staged batch on disk (``work/batches/<source>/<date>/``).

A batch is Parquet files of conformed rows and quarantined rows per delivered
item (a file or a table) plus ``batch.json`` with the accounting. Staging on
disk keeps DataFrames out of XCom and lets validate and load run as separate
tasks; re-extracting the same date replaces the batch.

File sources read what is in force for the report date (docs/over-time.md): the
newest registry snapshot dated on or before D (each snapshot is a version of its
own), and every utility month up to D's month whose delivery is new. Database
sources are extracted by ``sources.database``.
"""

from __future__ import annotations

import functools
import json
import logging
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pandas as pd
from sqlalchemy import select

from safetynet.config import Config
from safetynet.progress import stage
from safetynet.sources.conform import Conformed
from safetynet.sources.database import extract_database
from safetynet.sources.drops import Delivery, DeliveryError, complete_deliveries
from safetynet.sources.itemstage import check_unparsed_share, conform_stream, stage_item, stem
from safetynet.sources.limits import check_size, check_zip
from safetynet.sources.readers import read_text_file
from safetynet.sources.specs import DB_SPECS, FILE_SPECS
from safetynet.sources.xlsx_reader import iter_xlsx
from safetynet.transport import delivery_folder
from safetynet.validation.settings import load_settings
from safetynet.warehouse.engine import get_engine, migrate
from safetynet.warehouse.file_registry import record_refusal, register_file
from safetynet.warehouse.schema import meta_file

log = logging.getLogger("safetynet")
SNAPSHOTS = ("property",)  # file sources whose deliveries are dated versions, not months


def batch_dir(cfg: Config, source: str, report_date: date) -> Path:
    """Where a source's batch for a report date is staged."""
    return cfg.work_dir / "batches" / source / report_date.isoformat()


def extract_source(cfg: Config, source: str, report_date: date) -> dict:
    """Read and conform a source's new deliveries; return the batch summary."""
    out = batch_dir(cfg, source, report_date)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    if source in DB_SPECS:
        items = extract_database(cfg, source, report_date, out)
    elif source in FILE_SPECS:
        items = _extract_files(cfg, source, report_date, out)
    else:
        raise ValueError(f"unknown source {source!r}; expected one of {sorted({**DB_SPECS, **FILE_SPECS})}")
    summary = {"source": source, "report_date": report_date.isoformat(), "path": str(out),
               "items": items}
    (out / "batch.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), "utf-8")
    return summary


TEXT_BLOCK = 1_000_000  # rows conformed at once: ~1.1 GB peak (a city-scale month is one block)


def _slices(frame: pd.DataFrame, rows: int) -> Iterator[pd.DataFrame]:
    """``frame`` in consecutive blocks of ``rows`` (at least one block, maybe empty)."""
    for start in range(0, max(len(frame), 1), rows):
        yield frame.iloc[start : start + rows]


def _extract_files(cfg: Config, source: str, report_date: date, out: Path) -> list[dict]:
    spec = FILE_SPECS[source]
    folder = delivery_folder(cfg.sources[source], spec.extra["pattern"], cfg.work_dir / "landing" / source)
    deliveries = complete_deliveries(folder, spec.extra["pattern"])
    if source in SNAPSHOTS:
        usable = [d for d in deliveries if d.tag <= report_date.strftime("%Y%m%d")]
        deliveries = usable[-1:]  # the version in force for D; earlier versions stay as they are
    else:
        deliveries = [d for d in deliveries if d.tag <= report_date.strftime("%Y%m")]
    seen, loaded = _registry(cfg, source)
    limits = load_settings(cfg)
    items = []
    for d in deliveries:
        if seen.get(d.name) == d.sha256:
            continue  # the same file seen again (loaded, or known as a duplicate) is a no-op
        original = None if source in SNAPSHOTS else loaded.get(d.sha256)
        if original is not None and original != d.name:
            _record_duplicate(cfg, source, d, original)
            continue
        with stage(f"extract {source} {d.name}", unit="rows read") as st:
            try:
                check_size(d.path, limits.max_file_mb)
                if source in SNAPSHOTS:
                    check_zip(d.path, limits.max_unpacked_mb, limits.max_unpack_ratio)
                blocks = iter_xlsx(d.path, spec) if source in SNAPSHOTS else \
                    _slices(read_text_file(d.path, spec), TEXT_BLOCK)
                finish = functools.partial(_check_month, d=d, source=source)
                conformed, written = conform_stream(cfg, blocks, spec, out / f"{stem(d.name)}.rows.parquet",
                                                    st, finish=finish)
                check_unparsed_share(cfg, conformed, d.name)
            except DeliveryError as exc:
                record_refusal(get_engine(cfg.warehouse_url), source, d.name, d.sha256, d.size, str(exc),
                               report_date.isoformat())
                raise
        info = {"file_name": d.name, "size": d.size, "sha256": d.sha256, "tag": d.tag}
        items.append(stage_item(out, d.name, spec.target, conformed, info, rows_written=written))
        if source not in SNAPSHOTS:  # a later file of this batch with the same content is a copy
            loaded.setdefault(d.sha256, d.name)
    return items


def _check_month(c: Conformed, d: Delivery, source: str) -> None:
    """Quarantine utility rows whose reading month is not the file's month (or is missing)."""
    if source in SNAPSHOTS:
        c.rows["snapshot_date"] = f"{d.tag[:4]}-{d.tag[4:6]}-{d.tag[6:]}"
        return
    month = f"{d.tag[:4]}-{d.tag[4:]}"
    c.rows["source"] = source
    c.rows["file_name"] = d.name
    found = c.rows["month"].astype("string")
    wrong = (found != month).fillna(True).astype(bool)  # an empty month is wrong too, never dropped
    if wrong.any():
        moved = pd.DataFrame({"row_number": c.rows.loc[wrong, "_row"], "column_name": "month",
                              "reason": found[wrong].map(lambda m: "reading month missing" if pd.isna(m)
                                                         else f"reading month differs from the file's "
                                                              f"month {month}"),
                              "raw": found[wrong].fillna("").astype(str)})
        c.quarantine = pd.concat([c.quarantine, moved], ignore_index=True)
        c.rows = c.rows[~wrong].reset_index(drop=True)


def _registry(cfg: Config, source: str) -> tuple[dict[str, str], dict[str, str]]:
    """What the file registry knows: ``(name -> sha256 of files that need no work,
    sha256 -> name of the file whose content is in the warehouse)``.

    Files that need no work are the ones loaded or recorded as duplicates. Content
    in the warehouse is every loaded file for the monthly utilities (each month
    stays until its own name is re-delivered); snapshots are never duplicates of
    each other: each date is a version of its own, whatever its content.
    """
    engine = get_engine(cfg.warehouse_url)
    migrate(engine)
    with engine.connect() as conn:
        rows = conn.execute(select(meta_file.c.file_name, meta_file.c.sha256, meta_file.c.outcome,
                                   meta_file.c.seen_at).where(
            meta_file.c.source == source, meta_file.c.outcome.in_(("loaded", "duplicate")))).all()
    seen = {name: sha for name, sha, _, _ in rows}
    loaded = sorted((at, name, sha) for name, sha, outcome, at in rows if outcome == "loaded")
    return seen, {sha: name for _, name, sha in loaded}


def _record_duplicate(cfg: Config, source: str, d: Delivery, original: str) -> None:
    """Register (and log) a file whose content equals a loaded one under another name.

    It is not loaded: a utility month re-sent under another month's name would load
    rows that all belong to the original month, and a snapshot equal to the one in
    the warehouse changes nothing. The registry row makes it a no-op from now on and
    tells the operator it was seen.
    """
    log.warning("%s: %s has the same content (SHA-256 %s…) as %s, which is loaded; "
                "recorded as a duplicate, not loaded", source, d.name, d.sha256[:12], original)
    register_file(get_engine(cfg.warehouse_url), source, d.name, d.size, d.sha256, "duplicate")


