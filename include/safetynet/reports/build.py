"""Build the day's report files into a staging folder, ready to publish (outputs.md)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pandas as pd
from sqlalchemy import Engine

from safetynet.config import Config
from safetynet.dispositions import disposition_report
from safetynet.reports.extract import (
    case_frame,
    case_thresholds,
    file_entry,
    source_freshness,
    write_case_csv,
    write_manifest,
)
from safetynet.reports.monitoring import monitoring_frame, write_monitoring_csv
from safetynet.reports.refusals import pending_refusals
from safetynet.reports.workbook import write_workbook
from safetynet.rules.engine import not_evaluated
from safetynet.sources.declarations import SOURCES
from safetynet.warehouse.engine import get_engine, migrate


def _monitoring(engine: Engine, d: date) -> pd.DataFrame:
    with engine.connect() as conn:
        return monitoring_frame(conn, d)


def build_reports(cfg: Config, d: date, staged: Path) -> dict:
    """Write the case CSV and workbook, the monitoring CSV and the manifest for D."""
    engine = get_engine(cfg.warehouse_url)
    migrate(engine)
    with ThreadPoolExecutor(1) as pool, engine.connect() as conn:
        # The monitoring aggregates run in the database while this thread writes the
        # workbook (pure Python): at city scale each takes seconds.
        monitoring_job = pool.submit(_monitoring, engine, d)
        cases = case_frame(conn, d)
        inspected = [s for s in cfg.sources if not SOURCES[s].warnings_only]  # never medical data
        freshness = source_freshness(conn, d, inspected)  # in force for D: a back-fill shows its own
        dispositions = disposition_report(conn, d)  # files and rows rejected, for manifest and workbook
        refused = pending_refusals(conn)
        stamp = d.strftime("%Y%m%d")
        csv_path = staged / f"mismatches_{stamp}.csv"
        xlsx_path = staged / f"mismatches_{stamp}.xlsx"
        mon_path = staged / f"monitoring_{stamp}.csv"
        files = [file_entry(csv_path, write_case_csv(cases, csv_path)),
                 file_entry(xlsx_path, write_workbook(xlsx_path, d, cases, freshness, case_thresholds(cfg),
                                                      dispositions=dispositions, refused=refused,
                                                      not_evaluated=not_evaluated(cfg))),
                 file_entry(mon_path, write_monitoring_csv(monitoring_job.result(), mon_path))]
    write_manifest(staged / "manifest.json", cfg, d, files, freshness, cases, dispositions, refused)
    stale = sorted(n for n, f in freshness.items() if f["stale"])
    return {"report_date": d.isoformat(), "cases": len(cases), "stale_sources": stale,
            "files": [f["name"] for f in files] + ["manifest.json"]}
