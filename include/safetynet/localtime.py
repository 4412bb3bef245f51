"""Times shown to people: the deployment's local time (Asia/Shanghai), always with its zone.

The warehouse stores instants as naive UTC (``loaded_at``, ``failed_at``, …); the
schedules, report dates and cut-offs run in Asia/Shanghai. Whatever a person
reads — ``safetynet status``, the monitoring page, alert emails, the workbook —
goes through :func:`local_time`, so no screen mixes UTC and local times, and none
shows a time without saying which clock it is.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from safetynet.config import LOCAL_TIMEZONE

ZONE = ZoneInfo(LOCAL_TIMEZONE)


def to_local(value: Any) -> datetime | None:
    """An instant as an aware local datetime, or None.

    ``value`` is a ``datetime`` or ISO text (``2026-12-06 20:09:28.000000``,
    ``2026-12-06T20:09:28+00:00``); naive values are UTC, as the warehouse stores
    them. Empty values and plain dates (no instant) give None.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        return None
    else:
        text = str(value).strip().replace("Z", "+00:00")
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ZONE)


def local_time(value: Any, *, minutes: bool = False, zone: str = "offset") -> str:
    """An instant as local wall-clock text with its zone; ``""`` for nothing.

    ``zone="offset"`` (the default, for the monitoring page, ``safetynet status`` and
    alerts): ``2026-12-07 04:09:28 +08:00``; ``zone="zh"`` (the workbook):
    ``2026-12-07 04:09（北京时间）``. ``minutes=True`` drops the seconds. Text that is
    not a time is returned as it is.
    """
    moment = to_local(value)
    if moment is None:
        return "" if value is None or value == "" else str(value)
    shown = moment.strftime("%Y-%m-%d %H:%M" if minutes else "%Y-%m-%d %H:%M:%S")
    if zone == "zh":
        return f"{shown}（北京时间）"
    offset = moment.strftime("%z")
    return f"{shown} {offset[:3]}:{offset[3:]}"


def local_iso(value: Any = None) -> str:
    """An instant (default: now) as ISO 8601 local time with its offset, to the second:
    ``2026-12-07T06:11:02+08:00`` (for files read by machines and people, the manifest)."""
    moment = to_local(value) if value is not None else datetime.now(ZONE)
    if moment is None:
        raise ValueError(f"not a time: {value!r}")
    return moment.replace(microsecond=0).isoformat()
