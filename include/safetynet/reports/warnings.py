"""The social-assistance unit's hardship warnings (outputs.md "Hardship warnings").

``warnings_YYYYMMDD.csv`` (the case CSV's conventions: UTF-8 with BOM,
spreadsheet-safe, no timestamps, so identical inputs give byte-identical files),
``warnings_YYYYMMDD.xlsx`` (``warnings_workbook``) and ``manifest.json``, built
from ``mart_warning_day`` only: the inspectors' reports never read that table,
and this module never reads the cases. Medical figures (H01's evidence) appear
in these files and nowhere else.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection

from safetynet.config import Config
from safetynet.dispositions_kinds import WARNING_DECISIONS
from safetynet.dispositions_report import disposition_report
from safetynet.localtime import local_iso
from safetynet.reports.csvsafe import write_safe_csv
from safetynet.reports.extract import day_items, file_entry, source_freshness
from safetynet.reports.warning_figures import warning_figures
from safetynet.reports.warnings_workbook import write_warnings_workbook
from safetynet.rules.catalog_warnings import WARNINGS
from safetynet.rules.engine import not_evaluated
from safetynet.warehouse.engine import get_engine, migrate

WARNING_COLUMNS = ["warning_key", "warning_code", "warning_name", "severity", "status", "first_seen",
                   "report_date", "township_code", "township_name", "household_id", "id_number", "name",
                   "address", "summary", "evidence", "disposition", "disposition_note", "rule_version",
                   "source_snapshot"]
THRESHOLDS = ("medical_window_months", "medical_burden_enrolled", "medical_burden_general",
              "silent_home_min_age", "breadwinner_window_days", "max_residential_units",
              "non_residential_uses", "vehicle_exempt_plate_kinds", "utility_window_months")
"""The configuration the warnings read (rules.md), listed in their manifest."""


def warning_frame(conn: Connection, d: date) -> pd.DataFrame:
    """D's warnings (those the bureau marked NOT_NEEDED left out while it holds), in the
    contract's columns, by severity, township and key."""
    items = day_items(conn, d, "mart_warning_day", WARNINGS).rename(
        columns={"case_key": "warning_key", "rule_code": "warning_code", "rule_name": "warning_name"})
    return items[WARNING_COLUMNS].reset_index(drop=True)


def build_warnings(cfg: Config, d: date, staged: Path) -> dict:
    """Write D's warnings CSV and manifest into ``staged``; return a summary."""
    engine = get_engine(cfg.warehouse_url)
    migrate(engine)
    needed = sorted({s for w in WARNINGS for s in w.sources} & set(cfg.sources))
    with engine.connect() as conn:
        warnings = warning_frame(conn, d)
        freshness = source_freshness(conn, d, [s for s in cfg.sources if s in needed])
        figures = warning_figures(conn, d)
        decisions = disposition_report(conn, d, WARNING_DECISIONS)  # the bureau's returned files
    csv_path, xlsx_path = staged / f"warnings_{d:%Y%m%d}.csv", staged / f"warnings_{d:%Y%m%d}.xlsx"
    thresholds = {k: cfg.rules[k] for k in THRESHOLDS if k in cfg.rules}
    files = [file_entry(csv_path, write_safe_csv(warnings, csv_path)),
             file_entry(xlsx_path, write_warnings_workbook(xlsx_path, d, warnings, freshness, thresholds,
                                                              decisions))]
    lacking = not_evaluated(cfg, WARNINGS)
    manifest = {
        "report_date": d.isoformat(), "generated_at": local_iso(), "files": files,
        "sources": freshness, "stale_sources": sorted(n for n, f in freshness.items() if f["stale"]),
        "warnings": [{"code": w.code, "name": w.label, "severity": w.severity, "subject": w.subject,
                      "version": w.version, "evaluated": w.code not in lacking,
                      "not_configured": lacking.get(w.code, [])} for w in WARNINGS],
        "thresholds": thresholds,
        "warnings_by_status": _counts(warnings["status"]),
        "warnings_by_code": _counts(warnings["warning_code"]),
        "figures": figures,
        "dispositions": decisions,
    }
    (staged / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n",
                                          encoding="utf-8")
    return {"report_date": d.isoformat(), "warnings": len(warnings),
            "files": [f["name"] for f in files] + ["manifest.json"]}


def _counts(column: pd.Series) -> dict[str, int]:
    return {str(k): int(v) for k, v in column.value_counts().sort_index().items()}
