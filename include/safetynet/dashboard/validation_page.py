"""``/safetynet/validation``: every validation result of the warehouse, by source and batch.

The same offline, escaped report as the files under ``<work_dir>/data_docs``
(``validation.docs``), rendered from ``meta_validation`` so it needs no access to
the workers' disks; free text is masked like everything else on the monitor.
"""

from __future__ import annotations

from html import escape
from itertools import groupby
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, inspect, text

from safetynet.dashboard.health import short
from safetynet.validation.docs import page, results_table

BATCHES = 60  # the newest batches shown (every source together)


def validation_results(conn: Connection) -> list[dict[str, Any]]:
    """Stored results of the newest batches, newest first, free text masked."""
    if not inspect(conn).has_table("meta_validation"):
        return []
    rows = conn.execute(text(
        "SELECT v.source, v.batch_id, v.item, v.expectation, v.column_name AS column, v.level, "
        "v.outcome, v.observed, v.expected, v.unexpected_count FROM meta_validation v JOIN "
        "(SELECT DISTINCT source, batch_id FROM meta_validation ORDER BY batch_id DESC, source "
        f"LIMIT {BATCHES}) b ON b.source = v.source AND b.batch_id = v.batch_id "
        "ORDER BY v.batch_id DESC, v.source, v.item, v.expectation")).mappings()
    return [{k: short(v, 300) if isinstance(v, str) and k in ("observed", "expected") else v
             for k, v in r.items()} for r in rows]


def render_validation(results: list[dict[str, Any]]) -> str:
    """The page: one section per (batch, source), newest first."""
    sections = []
    for (batch, source), rows in groupby(results, key=lambda r: (r["batch_id"], r["source"])):
        sections.append(f"<h2>{escape(str(batch))} · {escape(str(source))}</h2>{results_table(rows)}")
    body = ('<p class="note"><a href="./">← 监测页 Monitor</a> · 最新批次在前 Newest batches first</p>'
            + ("".join(sections) or "<p>尚无校验记录 No validation results recorded yet</p>"))
    return page("校验结果 Validation results", body)


def load_validation_page(config_path: str | Path | None = None) -> str:
    """The page for the deployment named by ``config_path`` or ``SAFETYNET_CONFIG``."""
    from safetynet.config import load_config
    from safetynet.warehouse.engine import get_engine

    with get_engine(load_config(config_path).warehouse_url).connect() as conn:
        return render_validation(validation_results(conn))
