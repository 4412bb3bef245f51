"""Planted H01 warnings (大额医疗费用负担) and near misses, each on one boundary of rules.md.

Every subject is a new person — a new household's member, an allowance holder, or
somebody only the medical-insurance bureau knows — whose whole medical history is
planted here (random settlements never touch planted people). Month indexes are
those of the utility files: 0..11 the delivered months before D's month (H01's
window covers 1..11 and starts on the first day of month 1), 12 D's own month
(delivered unfinished, without marker: never read).
"""

from __future__ import annotations

import calendar
from typing import Any

import pandas as pd

from safetynet.generate.planting import Planter

FUND_TIMES = {"住院": 3, "门诊慢特病": 2, "门诊": 1, "药店购药": 0}
"""Fund payment as a multiple of the out-of-pocket part, per visit kind (planted rows)."""
UNF = 12


def settle(p: Planter, who: dict, k: int, day: int, self_paid: float, kind: str = "住院",
           id_dirt: str = "safe", file_k: int | None = None, dup: bool = False,
           num_dirt: str = "") -> None:
    """A settlement of ``who`` paid ``self_paid`` yuan out of pocket, dated ``day`` of month
    index ``k`` (-1: its last day; month 12 is always dated D), delivered in the file of month
    index ``file_k`` (default: its own), ``dup``: delivered twice (a whole-row duplicate)."""
    labels = [*p.ctx.world.months, p.ctx.world.d_month]
    y, m = divmod(labels[k], 100)
    last = calendar.monthrange(y, m)[1]
    on = p.ctx.D if k == UNF else pd.Timestamp(y, m, last if day == -1 else min(day, last))
    own = round(self_paid * 100)
    fund = own * FUND_TIMES[kind]
    p.rows.setdefault("medical", []).append({
        "pid": who["pid"], "birth": who["birth"], "name": who["name"], "kind": kind,
        "settled_on": on, "total": own + fund, "fund": fund, "self": own,
        "file_month": labels[k if file_k is None else file_k], "dup": dup, "num_dirt": num_dirt,
        "id_dirt": id_dirt})


def plant_h01(p: Planter) -> None:
    """Out-of-pocket sums around the thresholds, the window's edges and what must not count."""
    def member(status: str = "ACTIVE", left: int | None = None, who: dict | None = None) -> dict:
        h = p.household(status=status)
        head = p.member(h, who=who if left is None else None)
        return p.member(h, who=who, relation="配偶", left=left) if left is not None else head

    def holder(end: int | None = None) -> dict:
        a = p.person()
        p.allowance(a, kind="DISABILITY_LIVING", end=end)
        return a

    def plant(what: str, ck: str, who: dict, *rows: tuple, **kw: Any) -> None:
        for k, day, amount, *kind in rows:
            settle(p, who, k, day, amount, *kind, **kw)
        p.note("H01", ck, what, f"H01:{who['pid']}")

    plant("beneficiary at exactly 10,000.00 out of pocket in the window", "warning", member(),
          (2, 10, 6000.00), (6, 3, 3500.00, "门诊慢特病"), (11, 25, 500.00, "门诊"))
    plant("allowance holder (no household) at 12,000.00", "warning", holder(), (4, 15, 12000.00))
    plant("non-beneficiary at exactly 26,000.00", "warning", p.person(), (3, 8, 20000.00),
          (9, 19, 6000.00))
    plant("beneficiary whose 10,000.00 is dated on the window's first day", "warning", member(),
          (1, 1, 10000.00))
    plant("beneficiary, 10,000.00 typed with a thousands separator", "warning", member(),
          (7, 14, 10000.00), num_dirt="num_thousands")
    x = member(who=p.person_ending_x())
    for dirt in ("id_spaces", "id_fullwidth", "id_legacy15", "id_lower_x"):
        settle(p, x, 8, 12, 2500.00, "门诊", id_dirt=dirt)
    p.note("H01", "warning", "beneficiary at 4 × 2,500.00 under spaced, full-width, 15-digit and "
           "lower-case-x IDs", f"H01:{x['pid']}")
    plant("beneficiary at 9,999.99", "near_miss", member(), (2, 10, 6000.00), (5, 6, 3999.99))
    plant("non-beneficiary at 25,999.99", "near_miss", p.person(), (3, 8, 20000.00),
          (9, 19, 5999.99))
    plant("non-beneficiary at 15,000.00 (between the thresholds)", "near_miss", p.person(),
          (6, 2, 15000.00))
    plant("beneficiary whose 12,000.00 fell on the last day of the month before the window",
          "near_miss", member(), (0, -1, 12000.00), (5, 5, 500.00, "门诊"))
    plant("beneficiary at 8,000.00 plus 3,000.00 settled on D (unfinished month, never read)",
          "near_miss", member(), (4, 4, 8000.00), (UNF, 0, 3000.00))
    w = member()
    settle(p, w, 4, 4, 8000.00)
    plant("beneficiary at 8,000.00 plus 3,000.00 under an ID with a wrong check character",
          "near_miss", w, (7, 7, 3000.00), id_dirt="id_wrong_check")
    d = member()
    settle(p, d, 3, 3, 6000.00)
    plant("beneficiary at 9,000.00 whose 3,000.00 settlement is delivered twice", "near_miss", d,
          (9, 9, 3000.00), dup=True)
    q = member()
    settle(p, q, 4, 4, 8000.00)
    plant("beneficiary at 8,000.00 plus 2,500.00 delivered in the next month's file "
          "(quarantined)", "near_miss", q, (5, -1, 2500.00), file_k=6)
    plant("non-beneficiary at 30,000.00, every settlement under an impossible birth date",
          "near_miss", p.person(), (2, 2, 20000.00), (8, 8, 10000.00), id_dirt="id_bad_date")
    plant("member of a SUSPENDED household at 12,000.00", "near_miss", member("SUSPENDED"),
          (5, 5, 12000.00))
    plant("member who left the household 30 days before D, at 15,000.00", "near_miss",
          member(left=-30), (5, 5, 15000.00))
    plant("allowance ended 40 days before D, holder at 12,000.00", "near_miss", holder(end=-40),
          (5, 5, 12000.00))
