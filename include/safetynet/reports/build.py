"""Build the day's report files into a staging folder, ready to publish."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from safetynet.config import Config
from safetynet.reports.extract import (
    case_frame,
    file_entry,
    source_freshness,
    write_case_csv,
    write_manifest,
)
from safetynet.warehouse.engine import get_engine, migrate


def build_reports(cfg: Config, d: date, staged: Path) -> dict:
    """Write the case CSV and the manifest for D into ``staged``; return counts."""
    engine = get_engine(cfg.warehouse_url)
    migrate(engine)
    with engine.connect() as conn:
        cases = case_frame(conn, d)
        freshness = source_freshness(conn)
    stamp = d.strftime("%Y%m%d")
    csv_path = staged / f"mismatches_{stamp}.csv"
    files = [file_entry(csv_path, write_case_csv(cases, csv_path))]
    write_manifest(staged / "manifest.json", cfg, d, files, freshness, cases)
    stale = sorted(n for n, f in freshness.items() if f["stale"])
    return {"report_date": d.isoformat(), "cases": len(cases), "stale_sources": stale,
            "files": [f["name"] for f in files] + ["manifest.json"]}
