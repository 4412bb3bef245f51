"""The inspectors' extract (outputs.md): ``mismatches_YYYYMMDD.csv`` and ``manifest.json``.

Case files hold no timestamps, so identical inputs give byte-identical files;
the generation time lives only in the manifest.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, func, select, text

from safetynet.config import Config
from safetynet.localtime import local_iso
from safetynet.reports.csvsafe import write_safe_csv
from safetynet.rules.catalog import RULES
from safetynet.rules.catalog_warnings import WARNING_THRESHOLDS
from safetynet.rules.engine import not_evaluated
from safetynet.rules.registry import SEVERITY_ORDER, Rule
from safetynet.sources.declarations import FILE_SPECS, SOURCES
from safetynet.transport.drop import match_name
from safetynet.warehouse.schema import meta_file, meta_load_log, meta_source_state, ref_region

EXTRACT_COLUMNS = ["case_key", "rule_code", "rule_name", "severity", "status", "first_seen",
                   "report_date", "township_code", "township_name", "household_id", "id_number",
                   "name", "address", "summary", "evidence", "disposition", "disposition_note",
                   "rule_version", "source_snapshot"]
SOURCE_NAMES = tuple(SOURCES)


def case_frame(conn: Connection, d: date) -> pd.DataFrame:
    """D's cases in the contract's columns and order."""
    return day_items(conn, d, "mart_case_day", RULES)[EXTRACT_COLUMNS].reset_index(drop=True)


def day_items(conn: Connection, d: date, table: str, rules: Iterable[Rule]) -> pd.DataFrame:
    """D's items of ``table`` (cases, or warnings) not suppressed by a decision, with their rule's
    name and severity and their township's name, by severity (high first), township and key."""
    items = pd.read_sql(text(f"SELECT * FROM {table} WHERE report_date = :d "
                             "AND (suppressed IS NULL OR suppressed = 0)"), conn,
                        params={"d": d.isoformat()})
    names = dict(conn.execute(select(ref_region.c.code, ref_region.c.name)).all())
    declared = {r.code: r for r in rules}
    items["rule_name"] = items["rule_code"].map(lambda c: declared[c].label)
    items["severity"] = items["rule_code"].map(lambda c: declared[c].severity)
    items["township_name"] = items["township_code"].map(names)
    items["report_date"] = d.isoformat()
    items["first_seen"] = items["first_seen"].astype(str).str[:10]
    items["_sev"] = items["severity"].map(SEVERITY_ORDER)
    return items.sort_values(["_sev", "township_code", "case_key"], na_position="last")


def case_thresholds(cfg: Config) -> dict:
    """The configured thresholds the inspectors' rules read (the warnings' own are not theirs)."""
    return {k: v for k, v in cfg.rules.items() if k not in WARNING_THRESHOLDS}


def write_case_csv(cases: pd.DataFrame, path: Path) -> int:
    """Write the CSV as UTF-8 with BOM (opens cleanly in Excel), LF line ends."""
    return write_safe_csv(cases, path)


def source_freshness(conn: Connection, d: date | None = None,
                     configured: Iterable[str] | None = None) -> dict[str, dict]:
    """Each source's newest data in force for D, when it was loaded, and whether it is stale.

    For a file source, the newest loaded delivery in force for D (a snapshot dated
    on or before D, a month up to D's month) and when that file was loaded; for a
    database source, the state as extracted. Without D, the newest overall. A source
    is stale when its last attempt failed or it never loaded. ``future_rows``
    counts rows of the last load dated after its extraction cut-off (a source clock
    ahead: loaded, but they never move the watermark). Only the ``configured``
    sources are listed (every declared one without it): an optional source a
    deployment does not have is neither fresh nor stale, its rules are not evaluated.
    """
    states = {r["source"]: r for r in conn.execute(select(meta_source_state)).mappings()}
    in_force = _files_in_force(conn, d)
    future = {source: (int(n or 0), at) for source, n, at in conn.execute(select(
        meta_load_log.c.source, func.sum(meta_load_log.c.future_rows),
        func.max(meta_load_log.c.future_max)).group_by(meta_load_log.c.source))}
    out = {}
    for name in configured if configured is not None else SOURCE_NAMES:
        s = states.get(name)
        stale = s is None or s["last_outcome"] != "loaded"
        newest, loaded_at = (s["newest_data"], s["loaded_at"]) if s else (None, None)
        if name in in_force:
            newest, loaded_at = in_force[name]
        out[name] = {
            "newest_data": newest,
            "loaded_at": loaded_at.isoformat() if loaded_at else None,
            "last_attempt_at": s["last_attempt_at"].isoformat() if s and s["last_attempt_at"] else None,
            "last_outcome": s["last_outcome"] if s else "never_loaded",
            "stale": stale,
            "last_error": s["last_error"] if s else None,
            "future_rows": future.get(name, (0, None))[0],
            "future_max": future.get(name, (0, None))[1],
        }
    return out


def _files_in_force(conn: Connection, d: date | None) -> dict[str, tuple[str, datetime]]:
    """Per file source, the newest loaded delivery in force for D: (its date or month, loaded at)."""
    out: dict[str, tuple[str, datetime]] = {}
    rows = conn.execute(select(meta_file.c.source, meta_file.c.file_name, meta_file.c.seen_at).where(
        meta_file.c.outcome == "loaded").order_by(meta_file.c.source, meta_file.c.file_name))
    for source, name, seen_at in rows:
        spec = FILE_SPECS.get(source)
        found = match_name(spec.extra["pattern"], name) if spec else None
        if not found:
            continue
        tag = found.group(1)
        if d is not None and tag > d.strftime("%Y%m%d")[: len(tag)]:
            continue
        label = f"{tag[:4]}-{tag[4:6]}" + (f"-{tag[6:]}" if len(tag) > 6 else "")
        if source not in out or label >= out[source][0]:
            out[source] = (label, seen_at)
    return out


def file_entry(path: Path, rows: int | None) -> dict:
    """A manifest entry: name, size, SHA-256 and row count."""
    data = path.read_bytes()
    return {"name": path.name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
            "rows": rows}


def write_manifest(path: Path, cfg: Config, d: date, files: list[dict],
                   freshness: dict[str, dict], cases: pd.DataFrame, dispositions: dict,
                   refused: list[dict] | None = None) -> None:
    """Write manifest.json as outputs.md lists it, plus the deliveries refused and pending."""
    lacking = not_evaluated(cfg)  # rule -> the optional sources this deployment does not have
    manifest = {
        "report_date": d.isoformat(),
        "generated_at": local_iso(),  # local time with its offset: 2026-12-07T06:11:02+08:00
        "files": files,
        "sources": freshness,
        "stale_sources": sorted(n for n, f in freshness.items() if f["stale"]),
        "refused": refused or [],
        "rules": [{"code": r.code, "name": r.label, "severity": r.severity,
                   "subject": r.subject, "version": r.version,
                   "evaluated": r.code not in lacking,
                   "not_configured": lacking.get(r.code, [])} for r in RULES],
        "thresholds": case_thresholds(cfg),
        "cases_by_status": {k: int(v) for k, v in cases["status"].value_counts().sort_index().items()},
        "cases_by_rule": {k: int(v) for k, v in cases["rule_code"].value_counts().sort_index().items()},
        "dispositions": dispositions,
    }
    path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=False) + "\n",
                    encoding="utf-8")
