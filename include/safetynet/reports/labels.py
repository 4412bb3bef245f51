"""Chinese labels for everything a person reads in the workbook: no English codes there.

One place, so the workbook, its summary sheet and the inspectors' returned
decisions use the same words (outcomes come back as these labels).
"""

from __future__ import annotations

from safetynet.dispositions_kinds import CASE_DECISIONS
from safetynet.localtime import local_time as shared_local_time
from safetynet.sources.declarations import SOURCES

SEVERITY_ZH = {"high": "高", "medium": "中", "low": "低"}
STATUS_ZH = {"NEW": "新增", "OPEN": "持续", "RESOLVED": "已消除"}
OUTCOME_ZH = CASE_DECISIONS.labels  # the inspectors' decisions; the bureau's: WARNING_DECISIONS.labels
SOURCE_ZH = {name: source.label_zh for name, source in SOURCES.items()}
THRESHOLD_ZH = {  # configuration key -> (what it is, unit)
    "electricity_high_kwh": ("用电量异常偏高的月均阈值", "千瓦时"),
    "utility_window_months": ("用电、用水比对的最近月数", "个月"),
    "elderly_allowance_min_age": ("高龄津贴发放最低年龄", "岁"),
    "max_residential_units": ("家庭现存住宅套数上限", "套"),
    "non_residential_uses": ("经营性房产用途", ""),
    "vehicle_exempt_plate_kinds": ("不计入的号牌种类", ""),
    "medical_window_months": ("医疗费用统计月数", "个月"),
    "medical_burden_enrolled": ("在保人员个人自付预警线", "元"),
    "medical_burden_general": ("其他人员个人自付预警线", "元"),
    "silent_home_min_age": ("独居老人最低年龄", "岁"),
    "breadwinner_window_days": ("主要劳动力死亡追溯天数", "天"),
}


def threshold_text(key: str, value: object) -> tuple[str, str]:
    """(Chinese name, value with its unit) of one configured threshold."""
    name, unit = THRESHOLD_ZH.get(key, (key, ""))
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    shown = "、".join(map(str, value)) if isinstance(value, list) else f"{value}{unit}"
    return name, shown


def local_time(iso_utc: str | None) -> str:
    """A stored UTC time (ISO, naive) as Beijing time, to the minute: ``2026-12-06 05:27（北京时间）``
    (:func:`safetynet.localtime.local_time`, the one conversion every people-facing time uses)."""
    return shared_local_time(iso_utc, minutes=True, zone="zh")
