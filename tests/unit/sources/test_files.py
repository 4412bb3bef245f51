"""File sources: which deliveries are in force, how each is read, and no row lost to a wrong month."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd

from safetynet.sources.conform import Conformed
from safetynet.sources.declarations import SOURCES
from safetynet.sources.drops import Delivery
from safetynet.sources.files import _mark_rows, in_force


def test_rows_of_another_month_or_none_are_quarantined_with_their_reason() -> None:
    rows = pd.DataFrame({"_row": [2, 3, 4, 5], "account_no": ["a", "b", "c", "d"],
                         "month": pd.array(["2026-10", None, "2026-09", "2026-10"], dtype="string")})
    empty_q = pd.DataFrame({"row_number": pd.Series(dtype="int64"), "column_name": [], "reason": [],
                            "raw": []})
    c = Conformed(rows, empty_q, read=4, duplicates=0)
    _mark_rows(c, Delivery(Path("DL_202610.csv"), "202610", 1, "0" * 64), SOURCES["electricity"])
    assert c.rows["account_no"].tolist() == ["a", "d"]
    assert c.quarantine[["row_number", "reason"]].values.tolist() == [
        [3, "reading month missing"], [4, "reading month differs from the file's month 2026-10"]]
    assert len(c.rows) + len(c.quarantine) == c.read  # read = loaded + quarantined


def _delivery(name: str, tag: str) -> Delivery:
    return Delivery(Path(name), tag, 1, "0" * 64)


def test_a_snapshot_source_reads_the_newest_version_dated_on_or_before_the_day() -> None:
    found = [_delivery(f"JDC_{t}.csv", t) for t in ("20261103", "20261110", "20261117", "20261124")]
    assert [d.tag for d in in_force(SOURCES["vehicles"], found, date(2026, 11, 20))] == ["20261117"]
    assert in_force(SOURCES["vehicles"], found, date(2026, 11, 1)) == []


def test_a_monthly_source_reads_every_month_up_to_the_days_month() -> None:
    found = [_delivery(f"DL_{t}.csv", t) for t in ("202609", "202610", "202611", "202612")]
    assert [d.tag for d in in_force(SOURCES["electricity"], found, date(2026, 11, 20))] == [
        "202609", "202610", "202611"]


def test_the_format_read_comes_from_the_declared_file_name_not_the_cadence() -> None:
    assert SOURCES["property"].is_xlsx and SOURCES["property"].cadence == "snapshot"
    assert not SOURCES["vehicles"].is_xlsx and SOURCES["vehicles"].cadence == "snapshot"
    assert SOURCES["electricity"].month_column == "month" and SOURCES["vehicles"].month_column is None
