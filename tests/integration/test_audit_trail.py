"""Every publication lands in the append-only audit trail, with its kind and checksums."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

from sqlalchemy import text

from safetynet.config import load_config
from safetynet.pipeline import run
from safetynet.warehouse.engine import get_engine

D = date(2026, 11, 20)


def test_publish_rerun_and_backfill_are_recorded(deployment: Callable[..., Path], tmp_path: Path) -> None:
    config = deployment(tmp_path, households=200)
    assert run(D, config)["audit"] == "extract_published"
    assert run(D, config)["audit"] == "extract_republished"
    assert run(date(2026, 11, 19), config)["audit"] == "extract_backfilled"
    with get_engine(load_config(config).warehouse_url).connect() as conn:
        rows = conn.execute(text("SELECT action, report_date, run_id, detail FROM meta_audit "
                                 "WHERE action LIKE 'extract_%' ORDER BY id")).all()
    assert [(a, str(d)[:10], r) for a, d, r, _ in rows] == [
        ("extract_published", "2026-11-20", "cli"), ("extract_republished", "2026-11-20", "cli"),
        ("extract_backfilled", "2026-11-19", "cli")]
    files = json.loads(rows[1].detail)["files"]
    folder = config.parent / "outbox" / D.isoformat()
    assert files == {n: hashlib.sha256((folder / n).read_bytes()).hexdigest() for n in files}
    assert set(files) == {"mismatches_20261120.csv", "mismatches_20261120.xlsx", "monitoring_20261120.csv"}
