"""Extract one source into a staged batch on disk (``work/batches/<source>/<date>/``).

A batch is Parquet files of conformed rows and quarantined rows per delivered
item (a file or a table) plus ``batch.json`` with the accounting. Staging on
disk keeps DataFrames out of XCom and lets validate and load run as separate
tasks; re-extracting the same date replaces the batch.
"""

from __future__ import annotations

import json
import logging
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
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

log = logging.getLogger("safetynet")


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
        sink = RowSink(out / f"{spec.name.replace('/', '_')}.rows.parquet")
        with stage(f"extract {source}.{spec.name}") as st:
            for chunk in read_db_table(engine, spec, since=marks.get(spec.name)):
                part = conform(chunk, spec, cfg.address_prefixes, first_row=first)
                sink.write(part.rows)  # rows go to disk chunk by chunk: a table is never whole in memory
                parts.append(Conformed(part.rows.iloc[:0], part.quarantine, part.read, part.duplicates))
                if spec.watermark and len(chunk):
                    top = chunk[spec.watermark].dropna().max()
                    newest = top if newest is None else max(newest, top)
                first += len(chunk)
                st.advance(len(chunk))
        info = {"mode": "incremental" if spec.watermark else "full",
                "watermark_column": spec.watermark, "since": marks.get(spec.name),
                "watermark": _jsonable(newest)}
        written = sink.close()  # closed before the check below may refuse the table
        merged = _merge(parts)
        check_unparsed_share(cfg, merged, f"table {spec.name}")
        items.append(_stage_item(out, spec.name, spec.target, merged, info, rows_written=written))
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
    seen, loaded = _registry(cfg, source)
    items = []
    for d in deliveries:
        if seen.get(d.name) == d.sha256:
            continue  # the same file seen again (loaded, or known as a duplicate) is a no-op
        original = loaded.get(d.sha256)
        if original is not None and original != d.name:
            _record_duplicate(cfg, source, d, original)
            continue
        with stage(f"extract {source} {d.name}") as st:
            try:
                frame = read_xlsx(d.path, spec) if source == "property" else read_text_file(d.path, spec)
                conformed = conform(frame, spec, cfg.address_prefixes)
                _check_month(conformed, d, source)
                check_unparsed_share(cfg, conformed, d.name)
            except DeliveryError:
                _record_rejected(cfg, source, d)
                raise
            st.advance(conformed.read)
        info = {"file_name": d.name, "size": d.size, "sha256": d.sha256, "tag": d.tag}
        items.append(_stage_item(out, d.name, spec.target, conformed, info))
        if source != "property":  # a later file of this batch with the same content is a copy
            loaded.setdefault(d.sha256, d.name)
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
    _register(cfg, source, d, "rejected")


def _register(cfg: Config, source: str, d: Delivery, outcome: str) -> None:
    """Record a delivery in the file registry with ``outcome`` (replacing an earlier record)."""
    engine = get_engine(cfg.warehouse_url)
    with engine.begin() as conn:
        conn.execute(delete(meta_file).where(meta_file.c.source == source,
                                             meta_file.c.file_name == d.name))
        conn.execute(insert(meta_file).values(
            source=source, file_name=d.name, size=d.size, sha256=d.sha256,
            seen_at=datetime.now(UTC).replace(tzinfo=None, microsecond=0), outcome=outcome))


def _registry(cfg: Config, source: str) -> tuple[dict[str, str], dict[str, str]]:
    """What the file registry knows: ``(name -> sha256 of files that need no work,
    sha256 -> name of the file whose content is in the warehouse)``.

    Files that need no work are the ones loaded or recorded as duplicates. Content
    in the warehouse is every loaded file for the monthly utilities (each month
    stays until its own name is re-delivered), but only the last loaded snapshot
    for the property registry: a snapshot replaces the table, so a new snapshot
    that equals an *older* one (the registry rolled back) must load.
    """
    engine = get_engine(cfg.warehouse_url)
    migrate(engine)
    with engine.connect() as conn:
        rows = conn.execute(select(meta_file.c.file_name, meta_file.c.sha256, meta_file.c.outcome,
                                   meta_file.c.seen_at).where(
            meta_file.c.source == source, meta_file.c.outcome.in_(("loaded", "duplicate")))).all()
    seen = {name: sha for name, sha, _, _ in rows}
    loaded = sorted((at, name, sha) for name, sha, outcome, at in rows if outcome == "loaded")
    if source == "property":
        loaded = loaded[-1:]
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
    _register(cfg, source, d, "duplicate")


def check_unparsed_share(cfg: Config, c: Conformed, where: str) -> None:
    """Refuse a delivered item in which one column fails for most rows (schema drift).

    Conform quarantines the rows whose value does not parse, which is right for dirt
    but wrong for a retyped column (a number column that now holds text, dates in
    another format, a file that belongs to another month): every row would be
    quarantined and the item would load as nothing, replacing good data. The
    validation settings' ``row_failure_ceiling`` (with its ``min_rows`` floor) is
    the line between the two, as for the row-level expectations.
    """
    from safetynet.validation.settings import load_settings

    considered = c.read - c.duplicates
    if considered == 0 or c.quarantine.empty:
        return
    settings = load_settings(cfg)
    if considered < settings.min_rows:
        return
    counts = c.quarantine.groupby(["column_name", "reason"], dropna=False).size()
    (column, reason), worst = counts.idxmax(), int(counts.max())
    if worst > settings.row_failure_ceiling * considered:
        raise DeliveryError(
            f"{where}: column {column!r} failed in {worst} of {considered} rows ({reason}), more than "
            f"the row-failure ceiling of {settings.row_failure_ceiling:.0%}: its type or format "
            "changed? Nothing of the source was loaded")


def _merge(parts: list[Conformed]) -> Conformed:
    if not parts:  # an empty table is a valid delivery of nothing
        empty_q = pd.DataFrame({"row_number": pd.Series(dtype="int64"), "column_name": [],
                                "reason": [], "raw": []})
        return Conformed(pd.DataFrame(), empty_q, 0, 0)
    return Conformed(
        pd.concat([p.rows for p in parts], ignore_index=True),
        pd.concat([p.quarantine for p in parts], ignore_index=True),
        sum(p.read for p in parts), sum(p.duplicates for p in parts))


class RowSink:
    """Append conformed chunks to one staged Parquet file (one row group per chunk)."""

    def __init__(self, path: Path) -> None:
        self.path, self.rows = path, 0
        self._writer: pq.ParquetWriter | None = None

    def write(self, rows: pd.DataFrame) -> None:
        """Append a chunk; every chunk is cast to the first chunk's schema."""
        table = pa.Table.from_pandas(rows, preserve_index=False)
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, table.schema)
        self._writer.write_table(table.cast(self._writer.schema))
        self.rows += len(rows)

    def close(self) -> int:
        """Finish the file (an empty one when nothing was written); return the rows written."""
        if self._writer is None:
            pd.DataFrame().to_parquet(self.path, index=False)
        else:
            self._writer.close()
        return self.rows


def _stage_item(out: Path, item: str, target: str, c: Conformed, info: dict,
                rows_written: int | None = None) -> dict:
    """Stage an item's rows (unless a :class:`RowSink` already did) and quarantine."""
    stem = item.replace("/", "_")
    if rows_written is None:
        c.rows.to_parquet(out / f"{stem}.rows.parquet", index=False)
    c.quarantine.astype({"row_number": "int64"}).to_parquet(
        out / f"{stem}.quarantine.parquet", index=False)
    loaded = c.loaded if rows_written is None else rows_written
    return {"item": item, "target": target, "read": c.read, "loaded": loaded,
            "quarantined": len(c.quarantine), "duplicates": c.duplicates, **info}
