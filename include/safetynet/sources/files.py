"""Extract a file source: the deliveries in force for the report date, read and conformed.

What is in force (docs/over-time.md): for a ``snapshot`` source the newest
complete snapshot dated on or before D (each snapshot is a version of its own);
for a ``monthly`` source every month up to D's month whose delivery is new. Each
file is size-checked (and, for workbooks, unpacking-checked) before it is read,
read in blocks, conformed and staged; a refused file is recorded and fails the
source. A monthly file's rows must fall in the file's month.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pandas as pd

from safetynet.config import Config
from safetynet.progress import stage
from safetynet.sources.batch import StagedItem, stem
from safetynet.sources.conform import Conformed
from safetynet.sources.declarations import SOURCES
from safetynet.sources.drops import Delivery, DeliveryError, complete_deliveries
from safetynet.sources.itemstage import check_unparsed_share, conform_stream, stage_item
from safetynet.sources.limits import check_size, check_zip
from safetynet.sources.readers import read_text_file
from safetynet.sources.specs import Source
from safetynet.sources.xlsx_reader import iter_xlsx
from safetynet.thresholds import load_thresholds
from safetynet.transport import delivery_folder
from safetynet.warehouse.engine import get_engine, migrate
from safetynet.warehouse.file_registry import known_files, record_duplicate, record_refusal

TEXT_BLOCK = 1_000_000  # rows conformed at once: ~1.1 GB peak (a city-scale month is one block)


def _slices(frame: pd.DataFrame, rows: int) -> Iterator[pd.DataFrame]:
    """``frame`` in consecutive blocks of ``rows`` (at least one block, maybe empty)."""
    for start in range(0, max(len(frame), 1), rows):
        yield frame.iloc[start : start + rows]


def in_force(declared: Source, deliveries: list[Delivery], report_date: date) -> list[Delivery]:
    """The deliveries a run for ``report_date`` reads (see the module docstring)."""
    if declared.cadence == "snapshot":
        return [d for d in deliveries if d.tag <= report_date.strftime("%Y%m%d")][-1:]
    return [d for d in deliveries if d.tag <= report_date.strftime("%Y%m")]


def extract_files(cfg: Config, source: str, report_date: date, out: Path) -> list[StagedItem]:
    """Stage every new delivery of file source ``source`` in force for ``report_date``."""
    declared = SOURCES[source]
    spec = declared.layout
    versions = declared.cadence == "snapshot"
    folder = delivery_folder(cfg.sources[source], declared.pattern, cfg.work_dir / "landing" / source)
    engine = get_engine(cfg.warehouse_url)
    migrate(engine)
    seen, loaded = known_files(engine, source, versions)
    limits = load_thresholds(cfg)
    items: list[StagedItem] = []
    for d in in_force(declared, complete_deliveries(folder, declared.pattern), report_date):
        if seen.get(d.name) == d.sha256:
            continue  # the same file seen again (loaded, or known as a duplicate) is a no-op
        original = loaded.get(d.sha256)
        if original is not None and original != d.name:
            record_duplicate(engine, source, d.name, d.size, d.sha256, original)
            continue
        with stage(f"extract {source} {d.name}", unit="rows read") as st:
            try:
                check_size(d.path, limits.max_file_mb)
                if declared.is_xlsx:
                    check_zip(d.path, limits.max_unpacked_mb, limits.max_unpack_ratio)
                blocks = iter_xlsx(d.path, spec) if declared.is_xlsx else \
                    _slices(read_text_file(d.path, spec), TEXT_BLOCK)
                finish = functools.partial(_mark_rows, d=d, declared=declared)
                conformed, written = conform_stream(cfg, blocks, spec, out / f"{stem(d.name)}.rows.parquet",
                                                    st, finish=finish)
                check_unparsed_share(cfg, conformed, d.name)
            except DeliveryError as exc:
                record_refusal(engine, source, d.name, d.sha256, d.size, str(exc), report_date.isoformat())
                raise
        info = {"file_name": d.name, "size": d.size, "sha256": d.sha256, "tag": d.tag}
        items.append(stage_item(out, d.name, spec.target, conformed, info, rows_written=written))
        if not versions:  # a later file of this batch with the same content is a copy
            loaded.setdefault(d.sha256, d.name)
    return items


def _mark_rows(c: Conformed, d: Delivery, declared: Source) -> None:
    """Date a snapshot's rows, or tag a monthly file's rows and quarantine those of another month."""
    if declared.cadence == "snapshot":
        c.rows["snapshot_date"] = f"{d.tag[:4]}-{d.tag[4:6]}-{d.tag[6:]}"
        return
    c.rows["source"] = declared.name
    c.rows["file_name"] = d.name
    column = declared.month_column
    if column is None:
        return
    month = f"{d.tag[:4]}-{d.tag[4:]}"
    found = c.rows[column].astype("string")
    wrong = (found != month).fillna(True).astype(bool)  # an empty month is wrong too, never dropped
    if wrong.any():
        origin, _ = declared.tables[0].derived.get(column, (None, None))  # a month taken from a date
        what = f"{origin} (its month)" if origin else "reading month"
        moved = pd.DataFrame({"row_number": c.rows.loc[wrong, "_row"], "column_name": origin or column,
                              "reason": found[wrong].map(lambda m: f"{what} missing" if pd.isna(m)
                                                         else f"{what} differs from the file's "
                                                              f"month {month}"),
                              "raw": found[wrong].fillna("").astype(str)})
        c.quarantine = pd.concat([c.quarantine, moved], ignore_index=True)
        c.rows = c.rows[~wrong].reset_index(drop=True)
