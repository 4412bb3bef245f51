"""The monitor page's rejected disposition files and rows (issue 15): newest first, masked, optional."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, Engine, text

from safetynet.dashboard.page import render
from safetynet.dashboard.summary import build_summary

PERSON = "361103196001010017"
MASKED = "361103********0017"


def _summary(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        return build_summary(conn, "test")


def _audit(conn: Connection, at: str, action: str, day: str, detail: dict) -> None:
    conn.execute(text("INSERT INTO meta_audit (at, action, report_date, run_id, detail) "
                      "VALUES (:at, :a, :d, 'test', :detail)"),
                 {"at": at, "a": action, "d": day, "detail": json.dumps(detail, ensure_ascii=False)})


def test_rejected_files_and_rows_are_listed_newest_first_and_masked(scratch: Engine) -> None:
    bad, old, rows = f"dispositions_{PERSON}.csv", "dispositions_old.csv", "dispositions_rows.csv"
    with scratch.begin() as conn:
        _audit(conn, "2026-11-19 07:00:00", "disposition_file_rejected", "2026-11-19",
               {"file": old, "sha256": "0", "reason": "not UTF-8 or GB18030 text"})
        _audit(conn, "2026-11-20 07:00:00", "disposition_file_applied", "2026-11-20",
               {"file": old, "sha256": "1"})  # corrected since: no longer listed
        _audit(conn, "2026-11-20 07:00:01", "disposition_file_rejected", "2026-11-20",
               {"file": bad, "sha256": "2", "reason": "header must be case_key,outcome,note,suppress_until"})
        _audit(conn, "2026-11-20 07:00:02", "disposition_file_applied", "2026-11-20", {"file": rows})
        conn.execute(text("INSERT INTO meta_quarantine (source, item, batch_id, row_number, column_name, "
                          "reason, raw) VALUES ('dispositions', :f, '2026-11-20', 3, 'outcome', "
                          "'unknown outcome', :raw)"), {"f": rows, "raw": f"R01:{PERSON},BOGUS,张三,"})
    s = _summary(scratch)["dispositions"]
    assert s["files_rejected_total"] == 1 and s["rows_rejected_total"] == 1
    assert [(f["file"], f["report_date"], f["at"]) for f in s["files_rejected"]] == [
        (f"dispositions_{MASKED}.csv", "2026-11-20", "2026-11-20 15:00:01 +08:00")]  # UTC kept, local shown
    assert s["rows_rejected"] == [{"file": rows, "row": 3, "reason": "unknown outcome",
                                   "report_date": "2026-11-20", "at": "2026-11-20 15:00:02 +08:00"}]
    html = render(_summary(scratch))
    assert f"dispositions_{MASKED}.csv" in html and "拒收文件 Rejected files (1)" in html
    assert PERSON not in html and "张三" not in html and old not in html


def test_a_warehouse_without_the_audit_trail_shows_no_panel_data(scratch: Engine) -> None:
    with scratch.begin() as conn:
        conn.execute(text("DROP TABLE meta_audit"))
    summary = _summary(scratch)
    assert summary["dispositions"] is None
    assert "No disposition processing recorded here" in render(summary)
