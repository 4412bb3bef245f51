"""Planted cases and near misses for R11 (vehicles) and R12 (market-entity roles).

Planted like ``scenarios``: each subject is a new person in a new household, each
vehicle and entity is new, so random data never touches them; every scenario sits
on one boundary of rules.md ("held"/"exempt", "operates"/"stands").
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from safetynet.generate.business import credit_codes, entity_names, role_ids
from safetynet.generate.planting import Day, Planter
from safetynet.generate.vehicles import DISABLED_TYPE, plates

CAPITAL = {"ENTERPRISE": 120000.0, "COOPERATIVE": 5000.0, "INDIVIDUAL": np.nan}
"""Registered capital in hundredths of 万元 (1,200 万元 for a planted company)."""


def vehicle(p: Planter, owner: dict, plate_kind: str = "小型汽车", vtype: str = "小型轿车",
            status: str = "正常", old: str | None = None, reg: Day = -1200,
            kind: str = "居民身份证", in_old: bool | None = None, in_new: bool = True,
            id_dirt: str = "safe") -> str:
    """A vehicle registered to ``owner``; ``old`` is its status in the older snapshot."""
    ctx = p.ctx
    plate = str(plates(ctx, np.array([plate_kind], dtype=object))[0])
    r = p.t(reg)
    assert r is not None
    p.rows["vehicles"].append({
        "plate": plate, "plate_kind": plate_kind, "vtype": vtype, "owner_kind": kind,
        "pid": owner["pid"], "birth": owner["birth"] if kind == "居民身份证" else pd.NaT,
        "name": owner["name"], "reg_on": r, "status": status, "status_old": old or status,
        "in_old": (r <= ctx.D - pd.Timedelta(days=7)) if in_old is None else in_old,
        "in_new": in_new, "id_dirt": id_dirt if kind == "居民身份证" else "clean"})
    return plate


def entity(p: Planter, kind: str = "ENTERPRISE", status: str = "OPERATING",
           established: Day = -2000, closed: Day = None) -> dict[str, Any]:
    """A new market entity; returns its row."""
    k = np.array([kind], dtype=object)
    row = {"credit_code": str(credit_codes(p.ctx, k)[0]), "entity_name": str(entity_names(p.ctx, k)[0]),
           "entity_kind": kind, "status": status, "established_on": p.t(established),
           "closed_on": p.t(closed), "capital100": CAPITAL[kind]}
    p.rows["entities"].append(row)
    return row


def add_role(p: Planter, who: dict, ent: dict, role: str, share: float | None = None,
             frm: Day = None, to: Day = None, id_dirt: str = "safe") -> None:
    """``who`` holds ``role`` in ``ent`` from ``frm`` (default: its establishment) to ``to``."""
    p.rows["roles"].append({
        "role_id": str(role_ids(p.ctx, 1)[0]), "credit_code": ent["credit_code"], **who,
        "role": role, "share100": np.nan if share is None else share,
        "from_on": ent["established_on"] if frm is None else p.t(frm), "to_on": p.t(to),
        "id_dirt": id_dirt})


def _subject(p: Planter, status: str, left: int | None) -> dict:
    """A new household's head, or a second member who left on ``left``."""
    h = p.household(status=status)
    head = p.member(h)
    return p.member(h, relation="配偶", left=left) if left is not None else head


def plant_r11(p: Planter) -> None:
    """Vehicles of active members: held or not, exempt or not."""
    def owns(what: str, ck: str, hh_status: str = "ACTIVE", left: int | None = None,
             **veh: Any) -> dict:
        who = _subject(p, hh_status, left)
        vehicle(p, who, **veh)
        p.note("R11", ck, what, f"R11:{who['pid']}")
        return who

    owns("小型轿车 (小型汽车, 正常) owned by an active member", "case")
    owns("小型汽车 in status 查封 (still held)", "case", status="查封")
    owns("小型汽车 in status 达到报废标准 (still held)", "case", status="达到报废标准")
    owns("大型汽车 owned by an active member, owner ID as legacy 15 digits", "case",
         plate_kind="大型汽车", vtype="重型普通货车", id_dirt="id_legacy15")
    owns("小型汽车, owner ID full-width with spaces", "case", id_dirt="id_fullwidth+id_spaces")
    owns("小型汽车 first registered on D", "case", reg=0)
    owns("小型汽车 转出 in the older snapshot, 正常 in the newest", "case", old="转出")
    w = owns("owns an exempt 普通摩托车 and a 小型轿车", "case")
    vehicle(p, w, plate_kind="普通摩托车", vtype="普通二轮摩托车")
    owns("残疾人专用 vehicle under a 小型汽车 plate (exempt)", "near_miss", vtype=DISABLED_TYPE)
    for kind, vtype in (("普通摩托车", "普通二轮摩托车"), ("轻便摩托车", "轻便二轮摩托车"),
                        ("低速车", "三轮汽车")):
        owns(f"{vtype} under a {kind} plate (exempt)", "near_miss", plate_kind=kind, vtype=vtype)
    for status in ("注销", "报废", "转出", "被盗抢"):
        owns(f"小型汽车 in status {status}", "near_miss", status=status)
    owns("小型汽车 first registered the day after D", "near_miss", reg=1)
    owns("小型汽车 under ID kind 统一社会信用代码 with the member's ID number", "near_miss",
         kind="统一社会信用代码")
    owns("小型汽车 under ID kind 其他 with the member's ID number", "near_miss", kind="其他")
    owns("小型汽车 of a member who left the household 30 days before D", "near_miss", left=-30)
    owns("小型汽车 正常 in the older snapshot, 转出 in the newest", "near_miss", status="转出",
         old="正常")
    owns("小型汽车 only in the older snapshot", "near_miss", in_old=True, in_new=False)
    owns("小型汽车 whose owner ID has a wrong check character", "near_miss",
         id_dirt="id_wrong_check")
    owns("小型汽车 of a member of a SUSPENDED household", "near_miss", hh_status="SUSPENDED")


def plant_r12(p: Planter) -> None:
    """Roles of active members in market entities: standing or not, operating or not."""
    def holds(what: str, ck: str, role: str = "LEGAL_REP", kind: str = "ENTERPRISE",
              status: str = "OPERATING", established: int = -2000, closed: int | None = None,
              hh_status: str = "ACTIVE", left: int | None = None, **r: Any) -> None:
        who = _subject(p, hh_status, left)
        add_role(p, who, entity(p, kind, status, established, closed), role, **r)
        p.note("R12", ck, what, f"R12:{who['pid']}")

    holds("LEGAL_REP of an OPERATING company (capital 1,200 万元)", "case")
    holds("OPERATOR of an OPERATING 个体工商户 (no capital)", "case", role="OPERATOR",
          kind="INDIVIDUAL")
    holds("SHAREHOLDER (35.5%) of an OPERATING company", "case", role="SHAREHOLDER", share=3550)
    holds("LEGAL_REP of an OPERATING cooperative", "case", kind="COOPERATIVE")
    holds("OPERATOR of a 个体工商户 whose closed_on is the day after D", "case", role="OPERATOR",
          kind="INDIVIDUAL", closed=1)
    holds("SHAREHOLDER whose role ends the day after D", "case", role="SHAREHOLDER", share=5000,
          to=1)
    holds("LEGAL_REP from D, ID in mr_role as legacy 15 digits", "case", frm=0,
          id_dirt="id_legacy15")
    holds("LEGAL_REP of a company established on D", "case", established=0)
    holds("DIRECTOR of an OPERATING company", "near_miss", role="DIRECTOR")
    holds("SUPERVISOR of an OPERATING company", "near_miss", role="SUPERVISOR")
    holds("LEGAL_REP of a REVOKED company", "near_miss", status="REVOKED", closed=-100)
    holds("OPERATOR of a CANCELLED 个体工商户", "near_miss", role="OPERATOR", kind="INDIVIDUAL",
          status="CANCELLED", closed=-40)
    holds("LEGAL_REP of an OPERATING company whose closed_on is D", "near_miss", closed=0)
    holds("SHAREHOLDER whose role ended on D", "near_miss", role="SHAREHOLDER", share=2000, to=0)
    holds("LEGAL_REP whose role starts the day after D", "near_miss", frm=1)
    holds("LEGAL_REP from D of a company established the day after D", "near_miss",
          established=1, frm=0)
    holds("OPERATOR in a SUSPENDED household", "near_miss", role="OPERATOR", kind="INDIVIDUAL",
          hh_status="SUSPENDED")
    holds("LEGAL_REP who left the household 30 days before D", "near_miss", left=-30)
    holds("LEGAL_REP whose ID in mr_role has a wrong check character", "near_miss",
          id_dirt="id_wrong_check")


ALL = [plant_r11, plant_r12]


def plant_assets(p: Planter, reps: int) -> None:
    """Plant the R11 and R12 scenarios ``reps`` times (after ``scenarios.plant_all``)."""
    for _ in range(reps):
        for f in ALL:
            f(p)
