"""Extract a database source's tables into the staged batch (docs/over-time.md).

Per table, by its declaration (``sources.specs``):

- **incremental** (``watermark``): the rows at or after the last watermark
  (``updated_at``, inclusive) or after the last loaded id, upserted by key at
  load. The new watermark is the newest value read that is not after the
  extraction cut-off (:func:`safetynet.sources.watermarks.cutoff`): rows from a
  source clock in the future are loaded and counted but never move it.
- **groups** (``replace_group``, ``sa_member``): the rows that changed name their
  groups (households), plus the groups the warehouse holds one of their ID
  numbers in (a member who moved); every row of those groups is read again and
  replaces the warehouse's rows of the groups.
- **deletions**: the replica has no tombstones, so the key columns of each
  incremental table are compared with the warehouse's on every read: a keyed row
  deleted at the source is deleted, a group that lost a member is re-read.
- **full** (no watermark): the whole table, replacing the warehouse's (under the
  volume guard) — unless its digest equals that of its last load: then it is not
  read again (the personnel register changes monthly; a daily run costs one pass).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine, select, text

from safetynet.config import Config
from safetynet.progress import stage
from safetynet.sources.batch import StagedItem, stem
from safetynet.sources.db_readers import read_db_groups, read_db_table
from safetynet.sources.declarations import DB_SPECS
from safetynet.sources.deletions import vanished_groups, vanished_keys
from safetynet.sources.itemstage import check_unparsed_share, conform_stream, stage_item
from safetynet.sources.specs import TableSpec
from safetynet.sources.watermarks import Watermark, cutoff, read_watermarks
from safetynet.warehouse.engine import get_engine
from safetynet.warehouse.schema import meta_load_log

log = logging.getLogger("safetynet")
GROUP_CHUNK = 5_000  # group keys per IN (...) lookup


def extract_database(cfg: Config, source: str, report_date: date, out: Path) -> list[StagedItem]:
    """Stage every table of a database source; return the items' accounting."""
    engine = get_engine(cfg.sources[source])
    marks = read_watermarks(cfg, source)
    last = loaded_fingerprints(cfg, source)
    cut = cutoff(report_date)
    items: list[StagedItem] = []
    for spec in DB_SPECS[source]:
        since = marks.get(spec.name)
        mark = Watermark(since, spec.watermark, cut)
        info: dict = {"mode": "incremental" if spec.watermark else "full",
                      "replace": _replace(spec, since), "watermark_column": spec.watermark,
                      "since": since}
        if spec.watermark is None:  # read whole: skip the work when nothing changed at the source
            info["digest"] = table_digest(engine, spec)
            if info["digest"] == last.get(spec.name):
                log.info("%s.%s: unchanged since its last load (digest %s…), not read again",
                         source, spec.name, info["digest"][:12])
                continue
        if info["replace"] == "keys" and spec.watermark == "updated_at":
            gone = vanished_keys(cfg, engine, spec)
            gone.to_frame("row_key").to_parquet(out / f"{stem(spec.name)}.vanished.parquet", index=False)
            info["removed"] = len(gone)
        if info["replace"] == "groups":
            groups = _changed_groups(cfg, engine, spec, mark, since)
            gone_from = vanished_groups(cfg, engine, spec)
            info["removed_from"] = len(gone_from - groups)
            groups |= gone_from
            pd.DataFrame({"group_key": sorted(groups)}, dtype="string").to_parquet(
                out / f"{stem(spec.name)}.groups.parquet", index=False)
            chunks: Iterator[pd.DataFrame] = read_db_groups(engine, spec, sorted(groups), GROUP_CHUNK)
            info.update(group_column=spec.columns[str(spec.replace_group)][0], groups=len(groups))
        else:
            chunks = mark.track(read_db_table(engine, spec, since=since))
        with stage(f"extract {source}.{spec.name}", unit="rows read") as st:
            merged, written = conform_stream(cfg, chunks, spec, out / f"{stem(spec.name)}.rows.parquet",
                                             st, first_row=1)
        info.update(watermark=mark.value, future_rows=mark.future, future_max=mark.future_max)
        check_unparsed_share(cfg, merged, f"table {spec.name}")
        items.append(stage_item(out, spec.name, spec.target, merged, info, rows_written=written))
    return items


def table_digest(engine: Engine, spec: TableSpec) -> str:
    """A digest of a whole source table as delivered (its contract columns in ``order_by`` order).

    One cheap pass (a fetch and a vectorised row hash, no normalising), so a table read
    in full is conformed, validated and loaded only when its content changed.
    """
    h = hashlib.sha256()
    for chunk in read_db_table(engine, spec):
        text_ = chunk.astype("string").fillna("\x00")
        h.update(pd.util.hash_pandas_object(text_, index=False).to_numpy().tobytes())
    return "digest " + h.hexdigest()


def loaded_fingerprints(cfg: Config, source: str) -> dict[str, str]:
    """The fingerprint of each table's last load (``meta_load_log``)."""
    with get_engine(cfg.warehouse_url).connect() as conn:
        rows = conn.execute(select(meta_load_log.c.item, meta_load_log.c.fingerprint).where(
            meta_load_log.c.source == source))
        return {item: str(f) for item, f in rows if f}


def _replace(spec: TableSpec, since: object) -> str:
    """What a load of this table replaces: its keys, its groups, or the whole table."""
    if spec.watermark is None or since is None:  # a full read, or a first (or forced full) read
        return "table"
    return "groups" if spec.replace_group else "keys"


def _changed_groups(cfg: Config, engine: Engine, spec: TableSpec, mark: Watermark,
                    since: object) -> set[str]:
    """Groups with a row changed since the watermark, and groups holding one of their IDs."""
    group, id_col = spec.replace_group, spec.group_id_column
    assert group is not None
    groups: set[str] = set()
    ids: set[str] = set()
    for chunk in mark.track(read_db_table(engine, spec, since=since)):
        groups.update(str(g).strip() for g in chunk[group].dropna())
        if id_col:
            ids.update(str(v).strip() for v in chunk[id_col].dropna() if str(v).strip())
    if ids:
        target, column = spec.target, spec.columns[id_col][0] + "_raw"  # type: ignore[index]
        ordered = sorted(ids)
        with get_engine(cfg.warehouse_url).connect() as conn:
            for start in range(0, len(ordered), GROUP_CHUNK):
                part = ordered[start:start + GROUP_CHUNK]
                marks = ", ".join(f":v{i}" for i in range(len(part)))
                rows = conn.execute(text(f"SELECT DISTINCT {spec.columns[group][0]} FROM {target} "
                                         f"WHERE {column} IN ({marks})"),
                                    {f"v{i}": v for i, v in enumerate(part)})
                groups.update(str(g) for (g,) in rows if g is not None)
    return groups

