"""The page's case, trend, population and source figures against independent counts.

"Independent" means another code path: the extract files the pipeline published
(read as CSV), Python over the core tables' raw rows, and plain SQL sums.
"""

from __future__ import annotations

import csv
from collections import Counter
from datetime import date
from typing import Any

from sqlalchemy import text

from safetynet.dashboard.summary import build_summary
from safetynet.rules.catalog import RULES
from safetynet.sources.declarations import SOURCES
from tests.unit.dashboard.conftest import DATES, LAST, Monitored


def _summary(monitored: Monitored) -> dict[str, Any]:
    with monitored.engine.connect() as conn:
        return build_summary(conn, "test")


def _extract_rows(monitored: Monitored, d: date) -> list[dict[str, str]]:
    with monitored.extract_csv(d).open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_today_is_the_latest_report_date_and_counts_equal_the_published_extract(
        monitored: Monitored) -> None:
    s = _summary(monitored)
    rows = _extract_rows(monitored, LAST)
    assert s["report_date"] == LAST.isoformat()
    assert s["cases"]["total"] == len(rows) > 0
    assert s["cases"]["by_status"] == dict(Counter(r["status"] for r in rows))
    by_rule = {r["rule_code"]: r["cases"] for r in s["cases"]["by_rule"] if r["cases"]}
    assert by_rule == dict(Counter(r["rule_code"] for r in rows))
    by_town = {t["township_code"]: t["cases"] for t in s["cases"]["by_township"]}
    assert by_town == dict(Counter(r["township_code"] or None for r in rows))
    assert len(s["cases"]["by_rule"]) == len(RULES)  # every rule listed, zeros included


def test_trend_has_one_point_per_report_date_equal_to_that_days_extract(monitored: Monitored) -> None:
    trend = _summary(monitored)["trend"]
    assert trend["dates"] == [d.isoformat() for d in DATES]
    for i, d in enumerate(DATES):
        rows = _extract_rows(monitored, d)
        per_status = {k: v[i] for k, v in trend["cases_by_status"].items() if v[i]}
        assert per_status == dict(Counter(r["status"] for r in rows)), d
    assert trend["cases_by_status"]["NEW"][0] > 0 and trend["cases_by_status"]["OPEN"][1] > 0


def _active_persons(conn: Any, d: date) -> int:
    """rules.md's "active on D", in Python over the raw rows (not the page's SQL)."""
    day = d.isoformat()
    households = {h: (status, str(approved), str(terminated) if terminated else None)
                  for h, status, approved, terminated in conn.execute(text(
                      "SELECT household_id, status, approved_on, terminated_on FROM core_household"))}
    persons = set()
    for hid, id_norm, problem, raw, joined, left in conn.execute(text(
            "SELECT household_id, id_norm, id_problem, id_raw, joined_on, left_on FROM core_member")):
        status, approved, terminated = households.get(hid, (None, "9999", None))
        if (status == "ACTIVE" and approved <= day and (terminated is None or terminated > day)
                and str(joined) <= day and (left is None or str(left) > day)):
            persons.add(id_norm if problem is None else f"{hid}:{raw or ''}")
    for aid, id_norm, problem, start, end in conn.execute(text(
            "SELECT allowance_id, id_norm, id_problem, start_on, end_on FROM core_allowance")):
        if str(start) <= day and (end is None or str(end) > day):
            persons.add(id_norm if problem is None else aid)
    return len(persons)


def test_monitored_population_per_date_equals_a_python_count(monitored: Monitored) -> None:
    trend = _summary(monitored)["trend"]
    with monitored.engine.connect() as conn:
        expected = [_active_persons(conn, d) for d in DATES]
    assert trend["active_persons"] == expected
    assert min(expected) > 100


def test_sources_show_freshness_and_the_last_batch_accounting(monitored: Monitored) -> None:
    sources = {s["source"]: s for s in _summary(monitored)["sources"]}
    assert set(sources) == set(SOURCES)  # the generated deployment configures all of them
    with monitored.engine.connect() as conn:
        for name, s in sources.items():
            sums = conn.execute(text(
                "SELECT COUNT(*), SUM(rows_read), SUM(rows_loaded), SUM(rows_quarantined), "
                "SUM(rows_duplicate) FROM meta_load_log WHERE source = :s AND batch_id = :b"),
                {"s": name, "b": s["batch_id"]}).one()
            assert (s["items"], s["rows_read"], s["rows_loaded"], s["rows_quarantined"],
                    s["rows_duplicate"]) == tuple(int(v or 0) for v in sums), name
            assert s["balanced"] and s["last_outcome"] == "loaded" and not s["stale"]
            newest = conn.execute(text("SELECT newest_data FROM meta_source_state WHERE source = :s"),
                                  {"s": name}).scalar()
            assert s["newest_data"] == newest
    assert sources["civil_affairs"]["batch_id"] == LAST.isoformat()


def test_an_empty_warehouse_gives_empty_sections(tmp_path: Any) -> None:
    from sqlalchemy import create_engine

    with create_engine(f"sqlite:///{tmp_path / 'empty.db'}").connect() as conn:
        s = build_summary(conn)
    assert s["report_date"] is None and s["cases"] is None and s["sources"] == []
