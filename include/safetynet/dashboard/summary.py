"""Everything the monitor page shows, as one JSON-ready dict with personal data masked.

The HTML page and ``/api/summary`` are both rendered from this dict, so what the
API returns is exactly what the page shows: no second code path that could
leak a field the page hides.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, inspect

from safetynet.dashboard import health, queries
from safetynet.localtime import local_time

STATUS_ORDER = ("NEW", "OPEN", "RESOLVED")
UNKNOWN_TOWNSHIP = "未知乡镇 Unknown"


def _rules() -> dict[str, Any]:
    from safetynet.rules.catalog import RULES  # pulls in pandas: only when a page is built

    return {r.code: r for r in RULES}


def case_section(conn: Connection, d: Any, configured: Iterable[str] | None = None) -> dict[str, Any]:
    """D's cases by rule (every rule, zeros included; a rule whose source is not configured is
    marked not evaluated, never shown as 0 cases), township and status."""
    counts = queries.case_counts(conn, d)
    rules = _rules()
    by_rule: Counter[str] = Counter()
    by_town: Counter[tuple[str | None, str | None]] = Counter()
    by_status: Counter[str] = Counter()
    for c in counts:
        by_rule[c["rule_code"]] += c["cases"]
        by_town[(c["township_code"], c["township_name"])] += c["cases"]
        by_status[c["status"]] += c["cases"]
    codes = sorted(set(rules) | set(by_rule))
    return {
        "total": sum(by_status.values()),
        "suppressed": queries.suppressed_count(conn, d),
        "by_status": {s: by_status[s] for s in _statuses(by_status)},
        "by_rule": [{"rule_code": code, "rule_name": rules[code].label if code in rules else code,
                     "name_zh": rules[code].name_zh if code in rules else "",
                     "severity": rules[code].severity if code in rules else None,
                     "cases": by_rule[code],
                     "evaluated": code not in rules or configured is None
                     or set(rules[code].sources) <= set(configured)} for code in codes],
        "by_township": [{"township_code": code, "township_name": name or UNKNOWN_TOWNSHIP, "cases": n}
                        for (code, name), n in sorted(by_town.items(),
                                                      key=lambda kv: (-kv[1], kv[0][0] or "~"))],
    }


def warning_section(conn: Connection, d: Any) -> dict[str, Any] | None:
    """The bureau's warning figures for D (``reports.warning_figures``), every code listed."""
    from safetynet.reports.warning_figures import warning_figures
    from safetynet.rules.catalog_warnings import WARNINGS

    if not inspect(conn).has_table("mart_warning_day"):
        return None
    figures = warning_figures(conn, d)
    counted = {c["rule_code"]: c for c in figures["by_code"]}
    figures["by_code"] = [{"rule_code": w.code, "name": w.label,
                           "open": counted.get(w.code, {}).get("open", 0),
                           "closed": counted.get(w.code, {}).get("closed", 0)} for w in WARNINGS]
    return figures


def trend_section(conn: Connection, d: Any) -> dict[str, Any]:
    """Per report date in the window: cases per status and the monitored population."""
    cases = queries.case_trend(conn, d)
    population = {p["report_date"]: p["active_persons"] for p in queries.population_trend(conn, d)}
    dates = sorted({c["report_date"] for c in cases} | set(population))
    statuses = _statuses(Counter(c["status"] for c in cases))
    grid = {s: dict.fromkeys(dates, 0) for s in statuses}
    for c in cases:
        grid[c["status"]][c["report_date"]] = c["cases"]
    start, end = queries.window(d)
    return {"window": {"from": start, "to": end}, "dates": dates,
            "cases_by_status": {s: [grid[s][x] for x in dates] for s in statuses},
            "active_persons": [population.get(x, 0) for x in dates]}


def _statuses(seen: Counter[str]) -> list[str]:
    """Known statuses in life-cycle order, then any others alphabetically."""
    return [s for s in STATUS_ORDER if s in seen] + sorted(s for s in seen if s not in STATUS_ORDER)


def build_summary(conn: Connection, deployment: str = "",
                  configured: Iterable[str] | None = None) -> dict[str, Any]:
    """The page's data for the warehouse behind ``conn`` (an empty warehouse gives empty sections)."""
    now = local_time(datetime.now(UTC))  # local, to the second, with its offset
    out: dict[str, Any] = {"deployment": deployment, "generated_at": now, "report_date": None,
                           "cases": None, "trend": None, "recent_cases": [], "sources": [],
                           "quarantine": [], "validation": None,
                           "task_failures": None, "failed_sources": [], "dispositions": None,
                           "refused": [], "warnings": None}
    if not inspect(conn).has_table("mart_case_day"):
        return out
    d = queries.latest_report_date(conn)
    if d is not None:
        out.update(report_date=d.isoformat(), cases=case_section(conn, d, configured),
                   trend=trend_section(conn, d), recent_cases=queries.recent_cases(conn, d),
                   warnings=warning_section(conn, d))
    out.update(sources=health.sources(conn, configured), quarantine=health.quarantine(conn),
               validation=health.validation(conn),
               task_failures=health.task_failures(conn), failed_sources=health.failed_sources(conn),
               dispositions=health.dispositions(conn), refused=health.refused(conn))
    return out


def load_summary(config_path: str | Path | None = None) -> dict[str, Any]:
    """Open the warehouse of the deployment named by ``config_path`` or ``SAFETYNET_CONFIG``."""
    from safetynet.config import load_config
    from safetynet.warehouse.engine import get_engine

    cfg = load_config(config_path)
    with get_engine(cfg.warehouse_url).connect() as conn:
        return build_summary(conn, f"{cfg.province}{cfg.city}{cfg.county}", list(cfg.sources))
