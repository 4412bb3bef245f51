"""Extract one source into a staged batch on disk (``work/batches/<source>/<date>/``).

A batch is Parquet files of conformed rows and quarantined rows per delivered
item (a file or a table) plus ``batch.json`` with the accounting. Staging on
disk keeps DataFrames out of XCom and lets validate and load run as separate
tasks; re-extracting the same date replaces the batch.
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
import shutil
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import delete, insert, select

from safetynet.config import Config
from safetynet.progress import Stage, stage
from safetynet.sources.conform import Conformed, KeyHashes, Seen, conform
from safetynet.sources.drops import Delivery, DeliveryError, complete_deliveries
from safetynet.sources.readers import iter_xlsx, read_db_table, read_text_file
from safetynet.sources.specs import DB_SPECS, FILE_SPECS, TableSpec
from safetynet.sources.staged import RowSink, delivered_json, take_rows
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
        newest = Newest(marks.get(spec.name), spec.watermark)
        chunks = newest.track(read_db_table(engine, spec, since=marks.get(spec.name)))
        with stage(f"extract {source}.{spec.name}") as st:
            merged, written = conform_stream(cfg, chunks, spec, out / f"{_stem(spec.name)}.rows.parquet",
                                             st, first_row=1)
        info = {"mode": "incremental" if spec.watermark else "full",
                "watermark_column": spec.watermark, "since": marks.get(spec.name),
                "watermark": _jsonable(newest.value)}
        check_unparsed_share(cfg, merged, f"table {spec.name}")
        items.append(_stage_item(out, spec.name, spec.target, merged, info, rows_written=written))
    return items


def conform_stream(cfg: Config, blocks: Iterable[pd.DataFrame], spec: TableSpec, path: Path, st: Stage,
                   first_row: int = 2, finish: Callable[[Conformed], None] | None = None,
                   ) -> tuple[Conformed, int]:
    """Conform an item block by block into a staged Parquet file; return its accounting.

    Rows go to disk as each block is conformed, so an item is never whole in
    memory; duplicates are found across blocks as within one (``conform.Seen``).
    ``finish`` may adjust each conformed block before it is written. The returned
    :class:`Conformed` holds the quarantine and counts, not the rows.
    """
    sink, parts = RowSink(path), []
    ahead = iter(blocks)
    first = list(itertools.islice(ahead, 2))  # one block alone needs no cross-block hashes
    seen = Seen() if len(first) > 1 else None
    try:
        for block in itertools.chain(first, ahead):
            part = conform(block, spec, cfg.address_prefixes, first_row=first_row, seen=seen)
            if finish is not None:
                finish(part)
            sink.write(part.rows)
            parts.append(Conformed(_empty_like(part.rows), part.quarantine, part.read, part.duplicates))
            first_row += len(block)
            st.advance(len(block))
    finally:
        written = sink.close()  # closed before a later check may refuse the item
    if seen is not None and spec.key:
        clashes = key_clashes(path, spec, seen.keys)
        parts.append(Conformed(pd.DataFrame(), clashes, 0, 0))
        written -= len(clashes)
    return _merge(parts), written


def _empty_like(rows: pd.DataFrame) -> pd.DataFrame:
    """No rows, same columns and types. Not ``rows.iloc[:0]``: that view keeps the whole
    block's buffers alive, and kept per block it held 440 bytes a row of a 2M-row snapshot."""
    return pd.DataFrame({c: pd.Series(dtype=t) for c, t in rows.dtypes.items()})


def key_clashes(path: Path, spec: TableSpec, keys: KeyHashes) -> pd.DataFrame:
    """Quarantine staged rows that share their key with a row of another block.

    Conform finds conflicting rows within a block; across blocks, ``keys`` holds
    every row's key as hashes. The staged rows among those sharing a key are moved
    out of the staged file with their reason; the others already are in the
    quarantine (as conflicting, or for a fault found first), as in an item
    conformed whole.
    """
    named = keys.shared()
    moved = take_rows(path, named.tolist()) if len(named) else pd.DataFrame({"_row": named})
    return pd.DataFrame({"row_number": moved["_row"].astype("int64").to_numpy(),
                         "column_name": ",".join(spec.key),
                         "reason": "conflicting rows for the same key",
                         "raw": delivered_json(moved) if len(moved) else []})


class Newest:
    """The newest watermark value in the chunks passing through (the committed one to start)."""

    def __init__(self, start: object, column: str | None) -> None:
        self.value, self.column = start, column

    def track(self, chunks: Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        """Pass ``chunks`` on, noting each one's newest watermark."""
        for chunk in chunks:
            if self.column and len(chunk):
                top = chunk[self.column].dropna().max()
                self.value = top if self.value is None else max(self.value, top)
            yield chunk


TEXT_BLOCK = 1_000_000  # rows conformed at once: ~1.1 GB peak (a city-scale month is one block)


def _slices(frame: pd.DataFrame, rows: int) -> Iterator[pd.DataFrame]:
    """``frame`` in consecutive blocks of ``rows`` (at least one block, maybe empty)."""
    for start in range(0, max(len(frame), 1), rows):
        yield frame.iloc[start : start + rows]


def _stem(item: str) -> str:
    return item.replace("/", "_")


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
                blocks = iter_xlsx(d.path, spec) if source == "property" else \
                    _slices(read_text_file(d.path, spec), TEXT_BLOCK)
                finish = functools.partial(_check_month, d=d, source=source)
                conformed, written = conform_stream(cfg, blocks, spec, out / f"{_stem(d.name)}.rows.parquet",
                                                    st, finish=finish)
                check_unparsed_share(cfg, conformed, d.name)
            except DeliveryError:
                _record_rejected(cfg, source, d)
                raise
        info = {"file_name": d.name, "size": d.size, "sha256": d.sha256, "tag": d.tag}
        items.append(_stage_item(out, d.name, spec.target, conformed, info, rows_written=written))
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


def _stage_item(out: Path, item: str, target: str, c: Conformed, info: dict,
                rows_written: int | None = None) -> dict:
    """Stage an item's rows (unless a :class:`RowSink` already did) and quarantine."""
    stem = _stem(item)
    if rows_written is None:
        c.rows.to_parquet(out / f"{stem}.rows.parquet", index=False)
    c.quarantine.astype({"row_number": "int64"}).to_parquet(
        out / f"{stem}.quarantine.parquet", index=False)
    loaded = c.loaded if rows_written is None else rows_written
    return {"item": item, "target": target, "read": c.read, "loaded": loaded,
            "quarantined": len(c.quarantine), "duplicates": c.duplicates, **info}
