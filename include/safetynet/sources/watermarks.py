"""Incremental watermarks that a source clock in the future cannot poison (docs/over-time.md).

A table with ``updated_at`` is read from its last watermark, inclusive. The new
watermark is the newest ``updated_at`` read that is not after the extraction
cut-off — the earlier of now and the end of the report date, in local time — so
one row stamped in the future neither hides every later change nor is lost: it
is loaded, counted (``future``) and read again on each run until the cut-off
passes it. The watermark never moves backwards. Append-only tables keep their
id watermark (the newest id read).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import select

from safetynet.config import LOCAL_TIMEZONE, Config
from safetynet.warehouse.engine import get_engine, migrate
from safetynet.warehouse.schema import meta_watermark

TIMESTAMP = "updated_at"


def cutoff(report_date: date, now: datetime | None = None) -> pd.Timestamp:
    """The extraction cut-off for D: now (local time), but never after D's end (a back-fill)."""
    local = (now or datetime.now(ZoneInfo(LOCAL_TIMEZONE))).astimezone(ZoneInfo(LOCAL_TIMEZONE))
    end_of_day = datetime.combine(report_date + timedelta(days=1), time())
    return pd.Timestamp(min(local.replace(tzinfo=None), end_of_day))


def as_timestamps(values: pd.Series) -> pd.Series:
    """Source timestamps (text or datetimes) as naive datetimes; unreadable ones as NaT."""
    return pd.to_datetime(values.astype("string"), errors="coerce", format="mixed")


class Watermark:
    """Tracks the newest watermark value and the future-dated rows of the chunks passing through."""

    def __init__(self, start: object, column: str | None, cut: pd.Timestamp) -> None:
        self.value, self.column, self.cut = start, column, cut
        self.future = 0
        self.future_max: str | None = None
        self._at = as_timestamps(pd.Series([start])).iloc[0] if column == TIMESTAMP and start else None

    def track(self, chunks: Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        """Pass ``chunks`` on, noting each one's newest watermark."""
        for chunk in chunks:
            if self.column and len(chunk):
                if self.column == TIMESTAMP:
                    self._timestamps(chunk[self.column])
                else:
                    top = chunk[self.column].dropna().max()
                    if pd.notna(top):
                        self.value = top if self.value is None else max(self.value, top)
                        self.value = self.value.item() if hasattr(self.value, "item") else self.value
            yield chunk

    def _timestamps(self, column: pd.Series) -> None:
        stamps = as_timestamps(column)
        ahead = stamps > self.cut
        if ahead.any():
            self.future += int(ahead.sum())
            latest = str(column[stamps[ahead].idxmax()])
            if self.future_max is None or as_timestamps(pd.Series([latest])).iloc[0] > \
                    as_timestamps(pd.Series([self.future_max])).iloc[0]:
                self.future_max = latest
        usable = stamps[~ahead & stamps.notna()]
        if usable.empty:
            return
        at = usable.max()
        if self._at is None or pd.isna(self._at) or at > self._at:
            self._at, self.value = at, str(column[usable.idxmax()])


def read_watermarks(cfg: Config, source: str) -> dict[str, object]:
    """The last committed watermark per table of a database source."""
    engine = get_engine(cfg.warehouse_url)
    migrate(engine)
    with engine.connect() as conn:
        rows = conn.execute(select(meta_watermark.c.table_name, meta_watermark.c.value).where(
            meta_watermark.c.source == source)).all()
    return {name: json.loads(value) for name, value in rows}
