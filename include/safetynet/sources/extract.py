"""Extract one source into a staged batch on disk (``work/batches/<source>/<date>/``).

A batch is Parquet files of conformed rows and quarantined rows per delivered
item (a file or a table) plus ``batch.json`` with the accounting. Staging on
disk keeps DataFrames out of XCom and lets validate and load run as separate
tasks; re-extracting the same date replaces the batch.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import delete, insert, select

from safetynet.config import Config
from safetynet.progress import stage
from safetynet.sources.conform import Conformed, conform
from safetynet.sources.drops import Delivery, DeliveryError, complete_deliveries
from safetynet.sources.readers import read_db_table, read_text_file, read_xlsx
from safetynet.sources.specs import DB_SPECS, FILE_SPECS
from safetynet.transport import delivery_folder
from safetynet.warehouse.engine import get_engine, migrate
from safetynet.warehouse.schema import meta_file, meta_watermark


def batch_dir(cfg: Config, source: str, report_date: date) -> Path:
    """Where a source's batch for a report date is staged."""
    return cfg.work_dir / "batches" / source / report_date.isoformat()


def extract_source(cfg: Config, source: str, report_date: date) -> dict:
    """Read and conform a source's new deliveries; return the batch summary."""
    out = batch_dir(cfg, source, report_date)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    if source in DB_SPECS:
        items = _extract_database(cfg, source, out)
    elif source in FILE_SPECS:
        items = _extract_files(cfg, source, report_date, out)
    else:
        raise ValueError(f"unknown source {source!r}; expected one of {sorted({**DB_SPECS, **FILE_SPECS})}")
    summary = {"source": source, "report_date": report_date.isoformat(), "path": str(out),
               "items": items}
    (out / "batch.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), "utf-8")
    return summary


def _extract_database(cfg: Config, source: str, out: Path) -> list[dict]:
    engine = get_engine(cfg.sources[source])
    marks = read_watermarks(cfg, source)
    items = []
    for spec in DB_SPECS[source]:
        parts, first, newest = [], 1, marks.get(spec.name)
        with stage(f"extract {source}.{spec.name}") as st:
            for chunk in read_db_table(engine, spec, since=marks.get(spec.name)):
                parts.append(conform(chunk, spec, cfg.address_prefixes, first_row=first))
                if spec.watermark and len(chunk):
                    top = chunk[spec.watermark].dropna().max()
                    newest = top if newest is None else max(newest, top)
                first += len(chunk)
                st.advance(len(chunk))
        info = {"mode": "incremental" if spec.watermark else "full",
                "watermark_column": spec.watermark, "since": marks.get(spec.name),
                "watermark": _jsonable(newest)}
        items.append(_stage_item(out, spec.name, spec.target, _merge(parts), info))
    return items


def read_watermarks(cfg: Config, source: str) -> dict[str, object]:
    """The last committed watermark per table of a database source."""
    engine = get_engine(cfg.warehouse_url)
    migrate(engine)
    with engine.connect() as conn:
        rows = conn.execute(select(meta_watermark.c.table_name, meta_watermark.c.value).where(
            meta_watermark.c.source == source)).all()
    return {name: json.loads(value) for name, value in rows}


def _jsonable(value: object) -> object:
    return value.item() if hasattr(value, "item") else value  # numpy ints from pandas


def _extract_files(cfg: Config, source: str, report_date: date, out: Path) -> list[dict]:
    spec = FILE_SPECS[source]
    folder = delivery_folder(cfg.sources[source], spec.extra["pattern"], cfg.work_dir / "landing" / source)
    deliveries = complete_deliveries(folder, spec.extra["pattern"])
    if source == "property":
        usable = [d for d in deliveries if d.tag <= report_date.strftime("%Y%m%d")]
        deliveries = usable[-1:]  # the newest snapshot replaces all earlier ones
    else:
        deliveries = [d for d in deliveries if d.tag <= report_date.strftime("%Y%m")]
    seen = _already_loaded(cfg, source)
    items = []
    for d in deliveries:
        if seen.get(d.name) == d.sha256:
            continue  # the same file seen again is a no-op
        with stage(f"extract {source} {d.name}") as st:
            try:
                frame = read_xlsx(d.path, spec) if source == "property" else read_text_file(d.path, spec)
            except DeliveryError:
                _record_rejected(cfg, source, d)
                raise
            conformed = conform(frame, spec, cfg.address_prefixes)
            _check_month(conformed, d, source)
            st.advance(conformed.read)
        info = {"file_name": d.name, "size": d.size, "sha256": d.sha256, "tag": d.tag}
        items.append(_stage_item(out, d.name, spec.target, conformed, info))
    return items


def _check_month(c: Conformed, d: Delivery, source: str) -> None:
    """Quarantine utility rows whose reading month is not the file's month."""
    if source == "property":
        c.rows["snapshot_date"] = f"{d.tag[:4]}-{d.tag[4:6]}-{d.tag[6:]}"
        return
    month = f"{d.tag[:4]}-{d.tag[4:]}"
    c.rows["source"] = source
    c.rows["file_name"] = d.name
    wrong = c.rows["month"] != month
    if wrong.any():
        moved = pd.DataFrame({"row_number": c.rows.loc[wrong, "_row"], "column_name": "month",
                              "reason": f"reading month differs from the file's month {month}",
                              "raw": c.rows.loc[wrong, "month"].astype(str)})
        c.quarantine = pd.concat([c.quarantine, moved], ignore_index=True)
        c.rows = c.rows[~wrong].reset_index(drop=True)


def _record_rejected(cfg: Config, source: str, d: Delivery) -> None:
    """Register a refused file; it is refused again (loudly) until it is replaced."""
    engine = get_engine(cfg.warehouse_url)
    with engine.begin() as conn:
        conn.execute(delete(meta_file).where(meta_file.c.source == source,
                                             meta_file.c.file_name == d.name))
        conn.execute(insert(meta_file).values(
            source=source, file_name=d.name, size=d.size, sha256=d.sha256,
            seen_at=datetime.now(UTC).replace(tzinfo=None, microsecond=0), outcome="rejected"))


def _already_loaded(cfg: Config, source: str) -> dict[str, str]:
    engine = get_engine(cfg.warehouse_url)
    migrate(engine)
    with engine.connect() as conn:
        rows = conn.execute(select(meta_file.c.file_name, meta_file.c.sha256).where(
            meta_file.c.source == source, meta_file.c.outcome == "loaded"))
        return {name: sha for name, sha in rows}


def _merge(parts: list[Conformed]) -> Conformed:
    if not parts:  # an empty table is a valid delivery of nothing
        empty_q = pd.DataFrame({"row_number": pd.Series(dtype="int64"), "column_name": [],
                                "reason": [], "raw": []})
        return Conformed(pd.DataFrame(), empty_q, 0, 0)
    return Conformed(
        pd.concat([p.rows for p in parts], ignore_index=True),
        pd.concat([p.quarantine for p in parts], ignore_index=True),
        sum(p.read for p in parts), sum(p.duplicates for p in parts))


def _stage_item(out: Path, item: str, target: str, c: Conformed, info: dict) -> dict:
    stem = item.replace("/", "_")
    c.rows.to_parquet(out / f"{stem}.rows.parquet", index=False)
    c.quarantine.astype({"row_number": "int64"}).to_parquet(
        out / f"{stem}.quarantine.parquet", index=False)
    return {"item": item, "target": target, "read": c.read, "loaded": c.loaded,
            "quarantined": len(c.quarantine), "duplicates": c.duplicates, **info}
