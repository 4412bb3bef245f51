"""Planted H02–H04 warnings and near misses (rules.md, "Hardship warnings"), one boundary each.

Planted like ``scenarios``: new people in new households at new addresses, new
units, vehicles and entities. None of them raises a case of R01–R12: a deceased
member has left the household by D, a disability-care holder with a car or a
second home is no member, and no silent home is vacant for the whole R07 window.
Electricity month indexes as in ``scenarios``: 11 is the latest loaded month,
10 the month before it, 12 D's own (unfinished) month.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from safetynet.generate.planting import Planter
from safetynet.generate.scenarios_assets import add_role, entity, vehicle
from safetynet.generate.vehicles import DISABLED_TYPE

LIVED = {k: 60.0 for k in range(11)}
"""A lone elder's usual readings (kWh) up to the month before the latest."""
UNF = 12


def born(p: Planter, years: int, days: int = 0, at: pd.Timestamp | None = None) -> pd.Timestamp:
    """The birth date of someone exactly ``years`` old on ``at`` (default D), shifted by ``days``."""
    base = p.ctx.D if at is None else at
    return base - pd.DateOffset(years=years) + pd.Timedelta(days=days)


def plant_h02(p: Planter) -> None:
    """Active DISABILITY_CARE holders outside the rolls, and what rules them out."""
    def holder(what: str, ck: str, kind: str = "DISABILITY_CARE", start: int = -800,
               end: int | None = None, member: str | None = None, left: int | None = None) -> dict:
        who = p.person()
        if member is not None:
            h = p.household(status=member)
            p.member(h, who=who, left=left)
        p.allowance(who, kind=kind, start=start, end=end)
        p.note("H02", ck, what, f"H02:{who['pid']}")
        return who

    holder("DISABILITY_CARE holder in no household, holding nothing", "warning")
    w = holder("owns only a 残疾人专用 car and a 普通摩托车 (both exempt)", "warning")
    vehicle(p, w, vtype=DISABLED_TYPE)
    vehicle(p, w, plate_kind="普通摩托车", vtype="普通二轮摩托车")
    p.unit([holder("owns one standing 住宅 unit", "warning")])
    w = holder("owns two 住宅 units, one cancelled on D", "warning")
    p.unit([w])
    p.unit([w], cancel=0)
    p.unit([holder("owns a 商业 unit under 营业执照 with the holder's ID number", "warning")],
           use="商业", kind="营业执照")
    add_role(p, holder("LEGAL_REP role that ended 30 days before D", "warning"), entity(p),
             "LEGAL_REP", to=-30)
    add_role(p, holder("DIRECTOR of an operating company", "warning"), entity(p), "DIRECTOR")
    p.staff(holder("payroll ended the day before D", "warning"), -6000, -1)
    holder("left their household 60 days before D", "warning", member="ACTIVE", left=-60)
    holder("member of a SUSPENDED household", "warning", member="SUSPENDED")
    holder("allowance ends the day after D", "warning", end=1)
    holder("active member of an active household", "near_miss", member="ACTIVE")
    vehicle(p, holder("owns a 小型轿车 (not exempt)", "near_miss"))
    w = holder("owns two standing 住宅 units", "near_miss")
    p.unit([w])
    p.unit([w, p.person()])
    p.unit([holder("owns a standing 商业 unit", "near_miss")], use="商业")
    p.staff(holder("open public payroll", "near_miss"), -3000)
    p.staff(holder("payroll ends on D", "near_miss"), -3000, 0)
    add_role(p, holder("standing LEGAL_REP role in an operating company", "near_miss"), entity(p),
             "LEGAL_REP")
    add_role(p, holder("OPERATOR of an operating 个体工商户", "near_miss"), entity(p, "INDIVIDUAL"),
             "OPERATOR")
    holder("allowance ended on D", "near_miss", end=0)
    holder("allowance ended 10 days before D", "near_miss", end=-10)
    holder("DISABILITY_LIVING allowance only", "near_miss", kind="DISABILITY_LIVING")
    holder("allowance starts the day after D", "near_miss", start=1)


def plant_h03(p: Planter) -> None:
    """Lone elders whose electricity stopped in the latest loaded month."""
    def home(what: str, ck: str, reads: dict[int, float], age: tuple[int, int] = (80, 0),
             status: str = "ACTIVE", link: str = "both", **kw: Any) -> None:
        h = p.household(status=status, program="TEKUN")
        m = p.member(h, who=p.person(born(p, *age)))
        for extra in kw.pop("others", ()):
            p.member(h, who=p.person(born(p, extra)), relation="配偶")
        if "left" in kw:
            p.member(h, relation="子女", left=kw.pop("left"))
        addr = h["addr"] if link != "id" else p.ctx.dwell.allocate(p.ctx.rng.integers(0, 5, 1))[0]
        p.account("elec", None if link == "address" else m, addr, reads, **kw)
        p.note("H03", ck, what, f"H03:{h['household_id']}")

    home("lone member aged 80: 60 kWh, then 0 in the latest month", "warning", {**LIVED, 11: 0})
    home("lone member exactly 75 on D", "warning", {**LIVED, 11: 0}, age=(75, 0))
    home("linked only by a dirty address (holder unknown)", "warning", {**LIVED, 11: 0},
         link="address", addr_dirt="addr_cn_numeral")
    home("linked only by the member's ID (account at another address)", "warning",
         {**LIVED, 11: 0}, link="id")
    home("consumption again in D's own month (unfinished, never read)", "warning",
         {**LIVED, 11: 0, UNF: 40.0})
    home("0.5 kWh in the month before, then 0", "warning", {**LIVED, 10: 0.5, 11: 0})
    home("a second member left the household 90 days before D", "warning", {**LIVED, 11: 0},
         left=-90)
    home("lone member aged 74 (75th birthday the day after D)", "near_miss", {**LIVED, 11: 0},
         age=(75, 1))
    home("two active members aged 80 and 78", "near_miss", {**LIVED, 11: 0}, others=(78,))
    home("0 in the latest two months (60 kWh before)", "near_miss", {**LIVED, 10: 0, 11: 0})
    home("no reading in the month before the latest", "near_miss",
         {**{k: 60.0 for k in range(10)}, 11: 0})
    home("no reading in the latest month", "near_miss", {**LIVED, UNF: 0})
    home("0.5 kWh in the latest month", "near_miss", {**LIVED, 11: 0.5})
    home("SUSPENDED household", "near_miss", {**LIVED, 11: 0}, status="SUSPENDED")


def plant_h04(p: Planter) -> None:
    """Deaths of working-age members of households with children or elders left behind."""
    def family(what: str, ck: str, death: int = -30, age: tuple[int, int] = (45, 0),
               others: tuple = ((10, 0),), status: str = "ACTIVE", left: int = 5,
               crem_dirt: str = "safe", gone: tuple = ()) -> None:
        h = p.household(status=status, approved=-2000,
                        terminated=-20 if status == "TERMINATED" else None)
        dd = p.ctx.day(death)
        who = p.person(born(p, *age, at=dd))
        p.member(h, who=who, left=min(death + left, 0))
        for a, days in others:
            rel = "子女" if a < 18 else "父母" if a >= 60 else "配偶"
            p.member(h, who=p.person(born(p, a, days)), relation=rel)
        for a in gone:
            p.member(h, who=p.person(born(p, a)), relation="子女", left=-10)
        p.cremation(who, death, id_dirt=crem_dirt)
        p.note("H04", ck, what, f"H04:{h['household_id']}")

    family("member aged 45 died 30 days before D; a child of 10 remains", "warning")
    family("death exactly 90 days before D", "warning", death=-90)
    family("death the day before D", "warning", death=-1)
    family("aged 59 at death (60th birthday the day after)", "warning", age=(60, 1),
           others=((70, 0),))
    family("aged 18 at death (18th birthday on the death date)", "warning", age=(18, 0),
           others=((65, 0),))
    family("remaining member exactly 60 on D", "warning", others=((60, 0), (35, 0)))
    family("remaining member aged 17 (18th birthday the day after D)", "warning",
           others=((18, 1),))
    family("cremation ID as legacy 15 digits", "warning", crem_dirt="id_legacy15")
    family("deceased left the household on the death date", "warning", left=0)
    family("death 91 days before D", "near_miss", death=-91)
    family("death on D", "near_miss", death=0)
    family("aged 60 at death (60th birthday on the death date)", "near_miss", age=(60, 0),
           others=((70, 0),))
    family("aged 17 at death", "near_miss", age=(18, 100), others=((70, 0),))
    family("aged 65 at death", "near_miss", age=(65, 0), others=((70, 0),))
    family("remaining members all aged 18–59", "near_miss", others=((40, 0), (19, 0)))
    family("household TERMINATED 20 days before D", "near_miss", status="TERMINATED")
    family("deceased left the household the day before the death", "near_miss", left=-1)
    family("cremation ID with a wrong check character", "near_miss", crem_dirt="id_wrong_check")
    family("the only child left the household 10 days before D", "near_miss",
           others=((35, 0),), gone=(10,))


ALL = [plant_h02, plant_h03, plant_h04]
