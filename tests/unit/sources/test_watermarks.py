"""Watermarks a source clock in the future cannot poison (docs/over-time.md)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pandas as pd

from safetynet.sources.watermarks import Watermark, cutoff

D = date(2026, 11, 21)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _chunks(*values: list[object]) -> list[pd.DataFrame]:
    return [pd.DataFrame({"updated_at": v}, dtype=object) for v in values]


def test_the_cutoff_is_now_in_local_time_but_never_after_the_report_day() -> None:
    morning = datetime(2026, 11, 21, 6, 30, tzinfo=SHANGHAI)
    assert cutoff(D, morning) == pd.Timestamp("2026-11-21 06:30")
    utc = datetime(2026, 11, 20, 22, 30, tzinfo=ZoneInfo("UTC"))  # the same moment in UTC
    assert cutoff(D, utc) == pd.Timestamp("2026-11-21 06:30")
    weeks_later = datetime(2026, 12, 6, 21, 0, tzinfo=SHANGHAI)  # a back-fill of the 21st
    assert cutoff(D, weeks_later) == pd.Timestamp("2026-11-22 00:00")


def test_a_future_row_is_counted_and_never_moves_the_watermark() -> None:
    mark = Watermark("2026-11-20 13:00:00", "updated_at", pd.Timestamp("2026-11-22 00:00"))
    seen = list(mark.track(_chunks(["2026-11-20 13:00:00", "2099-01-01 00:00:00"],
                                   ["2026-11-21 08:00:00", "2030-05-01 10:00:00", None])))
    assert sum(len(c) for c in seen) == 5  # every row passes on: future rows are loaded
    assert mark.value == "2026-11-21 08:00:00"
    assert (mark.future, mark.future_max) == (2, "2099-01-01 00:00:00")


def test_the_watermark_never_moves_backwards() -> None:
    mark = Watermark("2026-11-21 08:00:00", "updated_at", pd.Timestamp("2026-11-22 00:00"))
    list(mark.track(_chunks(["2026-11-21 08:00:00", "2026-11-19 09:00:00"])))  # the inclusive boundary
    assert mark.value == "2026-11-21 08:00:00"
    only_future = Watermark("2026-11-21 08:00:00", "updated_at", pd.Timestamp("2026-11-22 00:00"))
    list(only_future.track(_chunks(["2027-01-01 00:00:00"])))
    assert only_future.value == "2026-11-21 08:00:00" and only_future.future == 1


def test_timestamps_as_datetimes_and_a_first_read() -> None:
    mark = Watermark(None, "updated_at", pd.Timestamp("2026-11-22 00:00"))
    list(mark.track(_chunks([datetime(2026, 11, 20, 9, 0), datetime(2026, 11, 21, 23, 59, 59)])))
    assert mark.value == "2026-11-21 23:59:59" and mark.future == 0


def test_id_watermarks_of_append_only_tables_are_plain_maxima() -> None:
    mark = Watermark(10, "payment_id", pd.Timestamp("2026-11-22 00:00"))
    list(mark.track([pd.DataFrame({"payment_id": [11, 15, 12]})]))
    assert mark.value == 15 and isinstance(mark.value, int) and mark.future == 0
