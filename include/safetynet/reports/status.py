"""``safetynet status``: per source, the newest data loaded, when, and the last accounting;
then the inspectors' disposition files and rows that were rejected."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from safetynet.config import load_config
from safetynet.dispositions_report import recent_rejections
from safetynet.localtime import local_time
from safetynet.privacy import mask_text
from safetynet.reports.extract import source_freshness
from safetynet.reports.refusals import pending_refusals
from safetynet.warehouse.engine import get_engine, migrate
from safetynet.warehouse.schema import meta_load_log

DISPOSITION_LINES = 10
"""Rejected disposition files, and rows, listed at most (the counts cover all)."""


def status_lines(config_path: str | Path | None = None) -> list[str]:
    """Human-readable status, one block per source (counts only, no personal data); times are
    local (Asia/Shanghai) with their offset, ``2026-12-07 04:09:28 +08:00``."""
    cfg = load_config(config_path)
    engine = get_engine(cfg.warehouse_url)
    migrate(engine)
    log = meta_load_log.c
    with engine.connect() as conn:
        fresh = source_freshness(conn, configured=cfg.sources)
        totals = {r.source: r for r in conn.execute(select(
            log.source, func.count().label("items"), func.sum(log.rows_read).label("read"),
            func.sum(log.rows_loaded).label("loaded"),
            func.sum(log.rows_quarantined).label("quarantined"),
            func.sum(log.rows_duplicate).label("duplicates")).group_by(log.source))}
        rejections = recent_rejections(conn, DISPOSITION_LINES)
        refused = pending_refusals(conn)
    lines = [f"warehouse: {engine.url.render_as_string(hide_password=True)}"]
    for name in cfg.sources:
        f, t = fresh[name], totals.get(name)
        flag = "STALE" if f["stale"] else "ok"
        lines.append(f"{name:<14} {flag:<5} newest={f['newest_data'] or '-'} "
                     f"loaded_at={local_time(f['loaded_at']) or '-'} last={f['last_outcome']}")
        if t is not None:
            lines.append(f"{'':<14} {t.items} items: read={t.read} loaded={t.loaded} "
                         f"quarantined={t.quarantined} duplicates={t.duplicates}")
        if f["last_error"]:
            lines.append(f"{'':<14} error: {f['last_error']}")
        for r in (r for r in refused if r["source"] == name):
            lines.append(f"{'':<14} refused {r['item']} (for {r['refused_for']}): {r['reason']}")
            lines.append(f"{'':<14}   genuine drop? {r['accept']}")
        if f.get("future_rows"):
            lines.append(f"{'':<14} {f['future_rows']} rows dated after their extraction cut-off (future, "
                         f"latest {f['future_max']}): loaded; the watermark did not move past them")
    return lines + disposition_lines(rejections)


def disposition_lines(rejections: dict) -> list[str]:
    """The ``dispositions`` block: rejected files and rows, newest first (file names masked)."""
    lines = [f"{'dispositions':<14} files rejected={rejections['files_rejected_total']} "
             f"rows rejected={rejections['rows_rejected_total']}"]
    for f in rejections["files_rejected"]:
        lines.append(mask_text(f"{'':<14} file {f['file']} for {f['report_date']}: {f['reason']}"))
    for r in rejections["rows_rejected"]:
        lines.append(mask_text(f"{'':<14} row {r['file']}:{r['row']} for {r['report_date']}: {r['reason']}"))
    return lines
