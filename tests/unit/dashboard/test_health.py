"""Quarantine counts, optional ``meta_validation`` / ``meta_task_failure``, and failed sources.

Each test adds rows or tables to a private copy of the pipeline's warehouse,
with an ID number inside the free text, and checks both the counts and the masking.
"""

from __future__ import annotations

import json
import re

from sqlalchemy import Engine, text

from safetynet.dashboard.page import render
from safetynet.dashboard.summary import build_summary

PERSON = "361103196001010017"
MASKED = "361103********0017"


def _summary(engine: Engine) -> dict:
    with engine.connect() as conn:
        return build_summary(conn)


def test_quarantine_is_counted_by_source_item_and_reason_without_rows(scratch: Engine) -> None:
    rows = [("water", "SS_202610.txt", "b1", n, "id", f"bad id {PERSON}", f"{PERSON},张三") for n in range(3)]
    rows += [("personnel", "hr_staff", "b2", 1, "name", "empty name", "x")]
    with scratch.begin() as conn:
        conn.execute(text("DELETE FROM meta_quarantine"))
        conn.execute(text("INSERT INTO meta_quarantine (source, item, batch_id, row_number, column_name, "
                          "reason, raw) VALUES (:s, :i, :b, :n, :c, :r, :raw)"),
                     [dict(zip(["s", "i", "b", "n", "c", "r", "raw"], r, strict=True)) for r in rows])
    s = _summary(scratch)
    assert [(q["source"], q["item"], q["rows"]) for q in s["quarantine"]] == [
        ("water", "SS_202610.txt", 3), ("personnel", "hr_staff", 1)]
    assert s["quarantine"][0]["reason"] == f"bad id {MASKED}"
    dumped = json.dumps(s, ensure_ascii=False)
    assert PERSON not in dumped and "张三" not in dumped


def test_validation_failures_are_read_only_when_the_table_exists(scratch: Engine) -> None:
    with scratch.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS meta_validation"))
    assert _summary(scratch)["validation"] is None
    with scratch.begin() as conn:
        conn.execute(text(
            "CREATE TABLE meta_validation (source TEXT, item TEXT, batch_id TEXT, expectation TEXT, "
            "column_name TEXT, level TEXT, success BOOLEAN, outcome TEXT, observed TEXT, expected TEXT, "
            "unexpected_count INTEGER, validated_at DATETIME)"))
        conn.execute(text(
            "INSERT INTO meta_validation VALUES ('water', 'SS_202610.txt', 'b1', 'expect_x', 'id', 'row', "
            ":f, :o, :obs, 'ok', :n, '2026-11-20 08:00:00')"),
            [{"f": False, "o": "quarantined", "obs": f"samples {PERSON}", "n": 3},
             {"f": True, "o": "passed", "obs": "0 unexpected", "n": 0}])
    checks = _summary(scratch)["validation"]
    failures = checks["failures"]
    assert checks["checked"] == 2 and len(failures) == 1 and failures[0]["outcome"] == "quarantined"
    assert failures[0]["unexpected_count"] == 3 and failures[0]["observed"] == f"samples {MASKED}"
    assert failures[0]["validated_at"] == "2026-11-20 16:00:00 +08:00"
    html = render(_summary(scratch))
    card = html[html.index("校验未通过"):]
    assert "校验时间" in card and "不符行数" in card and "validated_at" not in card


def test_failed_sources_are_listed_with_their_masked_error(scratch: Engine) -> None:
    assert _summary(scratch)["failed_sources"] == []
    with scratch.begin() as conn:
        conn.execute(text("UPDATE meta_source_state SET last_outcome = 'failed', "
                          "last_error = :e WHERE source = 'water'"), {"e": f"ValueError: row {PERSON}"})
    s = _summary(scratch)
    assert [(r["source"], r["last_outcome"]) for r in s["failed_sources"]] == [("water", "failed")]
    assert s["failed_sources"][0]["last_error"] == f"ValueError: row {MASKED}"
    assert {x["source"]: x["stale"] for x in s["sources"]}["water"] is True


def test_task_failures_are_read_only_when_the_table_exists(scratch: Engine) -> None:
    with scratch.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS meta_task_failure"))
    assert _summary(scratch)["task_failures"] is None
    with scratch.begin() as conn:  # the columns the alert callback writes, plus one never to show
        conn.execute(text("CREATE TABLE meta_task_failure (id INTEGER PRIMARY KEY, dag_id TEXT, "
                          "task_id TEXT, run_id TEXT, try_number INTEGER, error_class TEXT, message TEXT, "
                          "failed_at DATETIME, holder_name TEXT)"))
        conn.execute(text("INSERT INTO meta_task_failure (dag_id, task_id, run_id, try_number, error_class, "
                          "message, failed_at, holder_name) VALUES ('ingest_water', :t, 'r1', 1, "
                          "'ValueError', :e, :at, '张三')"),
                     [{"t": "load", "at": "2026-11-19 07:00:00", "e": "old"},
                      {"t": "extract", "at": "2026-11-20 07:00:00", "e": f"bad {PERSON}"}])
    failures = _summary(scratch)["task_failures"]
    assert failures["columns"] == ["failed_at", "dag_id", "task_id", "run_id", "try_number",
                                   "error_class", "message"]
    assert [r["task_id"] for r in failures["rows"]] == ["extract", "load"]  # newest first
    assert failures["rows"][0]["message"] == f"bad {MASKED}"
    assert failures["rows"][0]["try_number"] == 1
    # Stored as naive UTC with microseconds (as SQLite gives it back): shown in local time, to the second
    assert [r["failed_at"] for r in failures["rows"]] == ["2026-11-20 15:00:00 +08:00",
                                                          "2026-11-19 15:00:00 +08:00"]
    html = render(_summary(scratch))
    card = html[html.index("近期失败"):html.index("失败数据源")]
    for header in ("失败时间", "Failed at", "流程", "任务", "运行", "尝试次数", "错误类型", "错误信息"):
        assert header in card, header
    for raw in ("failed_at", "dag_id", "task_id", "run_id", "try_number", "error_class", ".000000"):
        assert raw not in card, raw
    assert "2026-11-20 15:00:00 +08:00" in card


def test_every_time_on_the_page_is_local_with_its_zone(scratch: Engine) -> None:
    """generated_at, loaded_at and the failed sources' attempts: Asia/Shanghai, to the second, +08:00."""
    with scratch.begin() as conn:
        conn.execute(text("UPDATE meta_source_state SET last_outcome = 'failed', last_error = 'x', "
                          "last_attempt_at = '2026-12-06 20:09:28.123456' WHERE source = 'water'"))
    s = _summary(scratch)
    local = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+08:00")
    assert local.fullmatch(s["generated_at"]), s["generated_at"]
    assert s["failed_sources"][0]["last_attempt_at"] == "2026-12-07 04:09:28 +08:00"
    for source in s["sources"]:
        for key in ("loaded_at", "last_attempt_at"):
            assert source[key] is None or local.fullmatch(source[key]), (source["source"], key, source[key])
    assert any(source["loaded_at"] for source in s["sources"]), "no source loaded: vacuous"
    html = render(s)
    assert "2026-12-07 04:09:28 +08:00" in html and "Times are Beijing time (UTC+8)" in html
    assert ".123456" not in html and "(UTC)" not in html
