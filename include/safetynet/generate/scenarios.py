"""Planted cases and near misses for every rule, each at the rule's boundary.

Month indexes for utilities: 0..11 are the 12 delivered months before D's month
(the window is 9, 10, 11), 12 is D's own month (delivered unfinished, without
marker, so it must be ignored).
"""

from __future__ import annotations

import pandas as pd

from safetynet.generate.planting import Planter

W = (9, 10, 11)
UNF = 12


def _flat(v: float, months: tuple = W, **extra: float) -> dict[int, float]:
    d = {k: v for k in months}
    d.update({int(k[1:]): x for k, x in extra.items()})
    return d


def plant_r01(p: Planter) -> None:
    """Deceased beneficiaries around D."""
    def member_dies(what: str, kind: str, death: int, status: str = "ACTIVE", left: int | None = None,
                    crem_dirt: str = "safe", mem_dirt: str = "safe") -> None:
        h = p.household(status=status)
        head = p.member(h)
        who = p.member(h, relation="子女", left=left, id_dirt=mem_dirt) if left is not None else head
        if left is None and mem_dirt != "safe":
            p.rows["members"][-1]["id_dirt"] = mem_dirt
        p.cremation(who, death, id_dirt=crem_dirt)
        p.note("R01", kind, what, f"R01:{who['pid']}")

    member_dies("death the day before D", "case", -1)
    member_dies("death 40 days before D, cremation ID as legacy 15 digits", "case", -40,
                crem_dirt="id_legacy15")
    member_dies("death 10 days before D, member ID full-width in sa_member", "case", -10,
                mem_dirt="id_fullwidth")
    a = p.person("1962-05-01")
    p.allowance(a, start=-1000)
    p.cremation(a, -95)
    p.note("R01", "case", "allowance holder only (no household), died 95 days before D",
           f"R01:{a['pid']}")
    member_dies("death on D", "near_miss", 0)
    member_dies("death 2 days after D", "near_miss", 2)
    member_dies("member left 30 days before D and died 10 days before D", "near_miss", -10, left=-30)
    member_dies("cremation record ID has a wrong check character", "near_miss", -20,
                crem_dirt="id_wrong_check")
    member_dies("member of a SUSPENDED household died", "near_miss", -50, status="SUSPENDED")
    b = p.person("1958-02-11")
    p.allowance(b, start=-900, end=-40)
    p.cremation(b, -20)
    p.note("R01", "near_miss", "allowance ended 40 days before D, death 20 days before D",
           f"R01:{b['pid']}")


def plant_r02(p: Planter) -> None:
    """Payroll intervals against benefit intervals (benefit starts on joined_on here)."""
    def payroll(what: str, kind: str, frm: int, to: int | None, status: str = "ACTIVE",
                left: int | None = None, staff_dirt: str = "safe") -> None:
        h = p.household(status=status, approved=-2000)
        p.member(h)
        who = p.member(h, relation="配偶", joined=-400, left=left)
        p.staff(who, frm, to, id_dirt=staff_dirt)
        p.note("R02", kind, what, f"R02:{who['pid']}")

    payroll("payroll ends on the benefit interval's first day", "case", -3000, -400)
    payroll("open-ended payroll", "case", -3000, None)
    payroll("payroll starts on D", "case", 0, None)
    payroll("open payroll, staff ID with spaces in hr_staff", "case", -200, None,
            staff_dirt="id_spaces")
    payroll("payroll ends the day before the benefit interval starts", "near_miss", -3000, -401)
    payroll("SUSPENDED household, open payroll", "near_miss", -3000, None, status="SUSPENDED")
    payroll("payroll starts the day after D", "near_miss", 1, None)
    payroll("member left the household on D, open payroll", "near_miss", -3000, None, left=0)


def plant_r03(p: Planter) -> None:
    """Cadres and declared relatives with and without filings."""
    def mem(status: str = "ACTIVE", approved: int = -1500) -> dict:
        h = p.household(status=status, approved=approved)
        return p.member(h)

    m = mem()
    p.cadre(m, "2021-03-15")
    p.note("R03", "case", "member is a current village cadre, no filing", f"R03:{m['pid']}")
    m, s = mem(), p.person()
    p.staff(s, -5000)
    p.relative(s, m)
    p.filing(m, s, 1)
    p.note("R03", "case", "declared relative of staff, filed the day after D", f"R03:{m['pid']}")
    m, c = mem(), p.person()
    p.cadre(c, "2021-03-15")
    p.relative(c, m)
    p.note("R03", "case", "declared relative of a village cadre, no filing", f"R03:{m['pid']}")
    m, s = mem(), p.person()
    p.staff(s, -4000, -100)
    p.relative(s, m, id_dirt="id_fullwidth")
    p.note("R03", "case", "declared relative (full-width ID in hr_relative) of former staff",
           f"R03:{m['pid']}")
    m, s = mem(), p.person()
    p.staff(s, -5000)
    p.relative(s, m)
    p.filing(m, s, 0)
    p.note("R03", "near_miss", "declared relative of staff, filed on D", f"R03:{m['pid']}")
    m = mem(approved=-1500)
    p.cadre(m, -4000, -1501)
    p.note("R03", "near_miss", "cadre term ended the day before the benefit started",
           f"R03:{m['pid']}")
    m = mem()
    p.cadre(m, "2021-03-15")
    p.filing(m, m, -300, id_dirt="id_spaces")
    p.note("R03", "near_miss", "cadre-member filed 300 days before D (filing ID with spaces)",
           f"R03:{m['pid']}")
    m, s = mem(status="TERMINATED"), p.person()
    p.staff(s, -5000)
    p.relative(s, m)
    p.note("R03", "near_miss", "declared relative in a TERMINATED household", f"R03:{m['pid']}")


def plant_r04(p: Planter) -> None:
    """Residential units of a household's active members."""
    def two(what: str, ck: str, **second: object) -> None:
        h = p.household()
        a = p.member(h)
        b = p.member(h, relation="配偶")
        p.unit([a], addr=h["addr"])
        owner = second.pop("owner", "b")
        left = second.pop("left", None)
        if left is not None:
            b = p.member(h, relation="子女", left=left)
        p.unit([b if owner == "b" else a], **second)  # type: ignore[arg-type]
        p.note("R04", ck, what, f"R04:{h['household_id']}")

    two("two members each own a distinct 住宅 unit", "case")
    two("second 住宅 unit registered on D, owner ID full-width", "case", reg=0,
        id_dirt="id_fullwidth")
    h = p.household()
    a = p.member(h)
    p.unit([a], addr=h["addr"])
    p.unit([a, p.person()])
    p.note("R04", "case", "head owns two 住宅 units, one co-owned with a non-member",
           f"R04:{h['household_id']}")
    h = p.household()
    a, b = p.member(h), p.member(h, relation="配偶")
    p.unit([a, b], addr=h["addr"])
    p.note("R04", "near_miss", "two members co-own one unit", f"R04:{h['household_id']}")
    two("second unit cancelled on D", "near_miss", cancel=0)
    two("second unit registered the day after D", "near_miss", reg=1)
    two("second unit owned under 护照 with the member's ID number", "near_miss", kind="护照")
    two("second unit is a 车位", "near_miss", use="车位")
    two("second unit owned by a member who left before D", "near_miss", left=-60)
    two("second unit only in the older snapshot", "near_miss", in_old=True, in_new=False,
        reg=-900)


def plant_r05(p: Planter) -> None:
    """Non-residential units of active members."""
    def owns(what: str, ck: str, **unit: object) -> None:
        h = p.household()
        a = p.member(h)
        p.unit([a], **unit)  # type: ignore[arg-type]
        p.note("R05", ck, what, f"R05:{a['pid']}")

    owns("owns a 商业 unit", "case", use="商业")
    owns("owns a 办公 unit", "case", use="办公")
    owns("owns a 工业 unit, owner ID with spaces", "case", use="工业", id_dirt="id_spaces")
    owns("owns a 车位", "near_miss", use="车位")
    owns("owns a 储藏室", "near_miss", use="储藏室")
    owns("商业 unit cancelled the day before D", "near_miss", use="商业", cancel=-1)
    owns("商业 unit cancelled on D", "near_miss", use="商业", cancel=0)
    owns("商业 unit under 营业执照 with the member's ID number", "near_miss", use="商业",
         kind="营业执照")
    owns("商业 unit only in the older snapshot", "near_miss", use="商业", in_old=True,
         in_new=False, reg=-900)


def plant_r06(p: Planter) -> None:
    """Electricity means around 500 kWh over the window."""
    early = {k: 300.0 for k in range(9)}

    def hh(status: str = "ACTIVE") -> tuple[dict, dict]:
        h = p.household(status=status)
        return h, p.member(h)

    h, m = hh()
    p.account("elec", m, h["addr"], {**early, **_flat(500.1), UNF: 0.0})
    p.note("R06", "case", "mean 500.1 kWh (unfinished month would shift it below)",
           f"R06:{h['household_id']}")
    h, _ = hh()
    p.account("elec", None, h["addr"], {**early, 9: 700, 10: 650, 11: 800},
              addr_dirt="addr_cn_numeral")
    p.note("R06", "case", "linked only by a dirty address (landlord holder, no ID)",
           f"R06:{h['household_id']}")
    h, m = hh()
    p.account("elec", None, h["addr"], {**early, **_flat(300.0)})
    p.account("elec", m, p.ctx.dwell.allocate(p.ctx.rng.integers(0, 5, 1))[0],
              {**early, **_flat(250.0)})
    p.note("R06", "case", "two linked accounts (address + holder ID) sum to 550",
           f"R06:{h['household_id']}")
    h, m = hh()
    p.account("elec", m, h["addr"], {**early, 10: 600, 11: 700})
    p.note("R06", "case", "only two window months present, mean 650", f"R06:{h['household_id']}")
    h, m = hh()
    p.account("elec", m, h["addr"], {**early, 9: 450, 10: 500, 11: 550})
    p.note("R06", "near_miss", "mean exactly 500 kWh", f"R06:{h['household_id']}")
    h, m = hh()
    p.account("elec", m, h["addr"], {8: 900, 11: 900, UNF: 900})
    p.note("R06", "near_miss", "one window month only (high before window and in unfinished month)",
           f"R06:{h['household_id']}")
    h, m = hh()
    p.account("elec", m, h["addr"], {**{k: 900.0 for k in range(9)}, **_flat(100.0)})
    p.note("R06", "near_miss", "high only before the window", f"R06:{h['household_id']}")
    h, m = hh(status="SUSPENDED")
    p.account("elec", m, h["addr"], {**early, **_flat(900.0)})
    p.note("R06", "near_miss", "SUSPENDED household", f"R06:{h['household_id']}")
    h = p.household()
    p.member(h)
    gone = p.member(h, relation="子女", left=-60)
    p.account("elec", gone, p.ctx.dwell.allocate(p.ctx.rng.integers(0, 5, 1))[0],
              {**early, **_flat(900.0)})
    p.note("R06", "near_miss", "high account held by a member who left (not linked)",
           f"R06:{h['household_id']}")


def plant_r07(p: Planter) -> None:
    """Zero electricity (and water) over the windows."""
    early = {k: 80.0 for k in range(9)}

    def hh() -> tuple[dict, dict]:
        h = p.household()
        return h, p.member(h)

    h, m = hh()
    p.account("elec", m, h["addr"], {**early, **_flat(0.0), UNF: 40.0})
    p.account("water", None, h["addr"], {**{k: 6.0 for k in range(9)}, **_flat(0.0)})
    p.note("R07", "case", "electricity and water zero in the window", f"R07:{h['household_id']}")
    h, m = hh()
    p.account("elec", None, h["addr"], {**early, **_flat(0.0), UNF: 35.0}, addr_dirt="addr_hash")
    p.note("R07", "case", "zero electricity, no water account", f"R07:{h['household_id']}")
    h, m = hh()
    p.account("elec", m, h["addr"], _flat(0.0, tuple(range(12))))
    p.account("water", None, h["addr"], _flat(0.0, tuple(range(12))), addr_dirt="addr_fullwidth")
    p.note("R07", "case", "zero electricity, water linked by address only and zero",
           f"R07:{h['household_id']}")
    h, m = hh()
    p.account("elec", m, h["addr"], {**early, 9: 0, 11: 0})
    p.note("R07", "near_miss", "one electricity window month missing", f"R07:{h['household_id']}")
    h, m = hh()
    p.account("elec", m, h["addr"], {**early, **_flat(0.0)})
    p.account("water", m, h["addr"], {9: 0, 10: 0.5, 11: 0})
    p.note("R07", "near_miss", "water 0.5 m³ in one window month", f"R07:{h['household_id']}")
    h, m = hh()
    p.account("elec", m, h["addr"], {**early, 9: 0, 10: 0, 11: 1})
    p.note("R07", "near_miss", "1 kWh in the last window month", f"R07:{h['household_id']}")
    h, m = hh()
    p.account("water", m, h["addr"], _flat(0.0))
    p.note("R07", "near_miss", "no linked electricity account, water zero",
           f"R07:{h['household_id']}")


def plant_r08(p: Planter) -> None:
    """One person in two households."""
    def twice(what: str, kind: str, prog2: str = "DIBAO", status2: str = "ACTIVE",
              left2: int | None = None, joined2: int | None = None, dirt2: str = "safe") -> None:
        h1 = p.household()
        who = p.member(h1)
        h2 = p.household(status=status2, program=prog2)
        p.member(h2)
        if dirt2 not in ("safe", "clean") and "wrong" in dirt2:
            fx = p.fixed(who["pid"], dirt2)
            p.member(h2, who=who, relation="其他", left=left2, joined=joined2, **fx)
            p.note("R09", "case", "second membership of a duplicate with a wrong check character",
                   f"R09:{h2['household_id']}:{(fx['id_fixed'] or '').strip()}")
        else:
            p.member(h2, who=who, relation="其他", left=left2, joined=joined2, id_dirt=dirt2)
        p.note("R08", kind, what, f"R08:{who['pid']}")

    twice("active in two ACTIVE DIBAO households", "case")
    twice("active in a DIBAO and a TEKUN household", "case", prog2="TEKUN")
    twice("second membership delivered full-width with spaces", "case",
          dirt2="id_fullwidth+id_spaces")
    twice("second household SUSPENDED", "near_miss", status2="SUSPENDED")
    twice("left the second household on D", "near_miss", left2=0)
    twice("joined the second household the day after D", "near_miss", joined2=1)
    twice("second household TERMINATED", "near_miss", status2="TERMINATED")
    twice("second membership has a wrong check character", "near_miss", dirt2="id_wrong_check")


def plant_r09(p: Planter) -> None:
    """Invalid delivered IDs on active and inactive records."""
    def member(what: str, kind: str, dirt: str, status: str = "ACTIVE", left: int | None = None,
               who: dict | None = None) -> None:
        h = p.household(status=status)
        p.member(h)
        w = who or p.person("1961-07-09")
        fx = p.fixed(w["pid"], dirt)
        p.member(h, who=w, relation="配偶", left=left, **fx)
        p.note("R09", kind, what, f"R09:{h['household_id']}:{(fx['id_fixed'] or '').strip()}")

    member("active member, wrong check character", "case", "id_wrong_check")
    member("active member, impossible birth date", "case", "id_bad_date")
    member("active member, empty ID", "case", "id_empty")
    a = p.person("1955-03-03")
    fx = p.fixed(a["pid"], "id_wrong_check+id_spaces")
    aid = p.allowance(a, **fx)
    p.note("R09", "case", "active allowance, wrong check character inside spaces (trimmed key)",
           f"R09:{aid}:{fx['id_fixed'].strip()}")
    member("TERMINATED household's member, wrong check character", "near_miss", "id_wrong_check",
           status="TERMINATED")
    member("legacy 15-digit ID on an active member (valid)", "near_miss", "id_legacy15")
    member("full-width digits and lower-case x (valid)", "near_miss", "id_lower_x+id_fullwidth",
           who=p.person_ending_x())
    member("member who left before D, impossible birth date", "near_miss", "id_bad_date", left=-10)
    b = p.person("1950-03-03")
    fx = p.fixed(b["pid"], "id_wrong_check")
    aid = p.allowance(b, end=-5, **fx)
    p.note("R09", "near_miss", "allowance ended before D, wrong check character",
           f"R09:{aid}:{fx['id_fixed'].strip()}")


def plant_r10(p: Planter) -> None:
    """Elderly allowance holders around their 80th birthday."""
    y, md = p.ctx.D.year - 80, p.ctx.D.strftime("%m-%d")
    on_d = f"{y}-{md}"
    after = p.ctx.D - pd.DateOffset(years=80) + pd.Timedelta(days=1)

    def eld(what: str, kind: str, birth: object, a_kind: str = "ELDERLY", start: int = -60,
            end: int | None = None, dirt: str = "safe") -> None:
        w = p.person(birth)  # type: ignore[arg-type]
        p.allowance(w, kind=a_kind, start=start, end=end, id_dirt=dirt)
        p.note("R10", kind, what, f"R10:{w['pid']}")

    eld("80th birthday the day after D", "case", after)
    eld("aged 75", "case", f"{y + 5}-01-15")
    eld("legacy 15-digit holder aged 79", "case", f"{y + 1}-03-01", dirt="id_legacy15")
    eld("80th birthday on D", "near_miss", on_d)
    eld("aged 79, allowance ended on D", "near_miss", f"{y + 1}-02-01", end=0)
    eld("aged 30, DISABILITY_LIVING allowance", "near_miss", f"{y + 50}-06-01",
        a_kind="DISABILITY_LIVING")
    eld("legacy 15-digit holder aged 85", "near_miss", f"{y - 5}-04-04", dirt="id_legacy15")
    eld("aged 79, allowance starts the day after D", "near_miss", f"{y + 1}-05-05", start=1)


ALL = [plant_r01, plant_r02, plant_r03, plant_r04, plant_r05, plant_r06, plant_r07, plant_r08,
       plant_r09, plant_r10]


def plant_all(p: Planter, reps: int) -> None:
    """Plant every scenario ``reps`` times."""
    for _ in range(reps):
        for f in ALL:
            f(p)
