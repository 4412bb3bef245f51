"""The multi-day story the timeline tests replay, one function of events per day.

Each function changes the sources of a :class:`~safetynet.generate.timeline.Timeline`
the way the departments, the inspectors and the operator would on that day
(before the day's run), and returns the ``safetynet`` command lines the test
must run first (operator acceptances). Targets are found from the planted
inventory and the truth as it stands, so the same story replays on any
deployment generated with the default scenarios.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from safetynet.generate.timeline import FUTURE, Timeline

Step = Callable[[Timeline, date], list[list[str]]]


def _quiet(tl: Timeline, day: date, n: int) -> list[tuple[str, str]]:
    """``n`` (household, person) pairs of quiet active members, one per household."""
    q = tl.quiet_members(day).sort_values("pid").drop_duplicates("household_id")
    return list(zip(q["household_id"], q["pid"], strict=True))[:n]


def _hh(key: str) -> str:
    return key.split(":", 1)[1]


def day_1120(tl: Timeline, day: date) -> list[list[str]]:
    """The deployment as generated: nothing changes."""
    return []


def day_1121(tl: Timeline, day: date) -> list[list[str]]:
    """Corrections; a future timestamp; a corrected water month and a header-only
    electricity month on the same day; three dispositions files."""
    hh, pid = tl.record(tl.planted("active member, wrong check character"))
    tl.correct_member_id(hh, pid, day)  # R09 resolved
    owner = _hh(tl.planted("owns a 商业 unit"))
    tl.correct_member_name(tl.household_of(owner), owner, "李更正", day)  # nothing moves
    tl.terminate_household(_hh(tl.planted("two linked accounts (address + holder ID) sum to 550")),
                           day)  # R06 resolved
    quiet_hh, _ = _quiet(tl, day, 1)[0]
    tl.change_household_amount(quiet_hh, 1234.5, day, updated_at=FUTURE)  # skewed clock
    vacant = _hh(tl.planted("electricity and water zero in the window"))
    tl.correct_month("water", 202610, {a: 3.0 for a in tl.accounts_of("water", vacant)})  # R07 off
    tl.header_only_month("electricity", 202610)  # refused: electricity stale, 202610 stays
    tl.dispositions("dispositions_20261121_wps.csv", [
        (tl.planted("active member, impossible birth date"), "合理解释", "户籍系统已核实", "2026-11-22"),
        (tl.planted("death the day before D"), "属实", "已停发", ""),
    ], encoding="gb18030")
    tl.dispositions("dispositions_20261121_header.csv", [
        (tl.planted("active member, empty ID"), "EXPLAINED", "", ""),
    ], header=("case_key", "result", "note", "suppress_until"))
    tl.dispositions("dispositions_20261121_comma.csv", [
        (tl.planted("aged 75"), "EXPLAINED", "已核实, 出生日期登记错误", ""),
        (tl.planted("active allowance, wrong check character inside spaces (trimmed key)"),
         "EXPLAINED", "补贴系统待更正", "2026-12-31"),
    ], encoding="utf-8-sig", raw={0})
    return []


def day_1122(tl: Timeline, day: date) -> list[list[str]]:
    """A termination after the future timestamp; another future timestamp in sa_member;
    a new snapshot (a unit sold, one bought); hr_relative emptied; an allowance ends."""
    person = _hh(tl.planted("active in a DIBAO and a TEKUN household"))
    tekun = [h for h in tl.t["members"].loc[tl.t["members"]["pid"] == person, "household_id"]
             if h.startswith("TK")]
    tl.terminate_household(tekun[0], day)  # R08 resolved
    (hh, pid), (_, buyer) = _quiet(tl, day, 3)[1:3]
    tl.correct_member_name(hh, pid, "王未来", day, updated_at=FUTURE)
    office = _hh(tl.planted("owns a 办公 unit"))
    for unit in tl.units_of(office, "办公"):
        tl.sell_unit(unit, date(2026, 11, 21))  # R05 resolved from this snapshot on
    tl.buy_unit([buyer], "商业", date(2026, 11, 21))  # R05 new from this snapshot on
    tl.deliver_snapshot(day)
    tl.empty_personnel_table("hr_relative")  # refused: personnel stale, relatives stay
    aid = tl.t["allowances"].loc[tl.t["allowances"]["pid"] == _hh(tl.planted(
        "legacy 15-digit holder aged 79")), "allowance_id"].iat[0]
    tl.end_allowance(aid, day)  # R10 resolved
    return []


def day_1123(tl: Timeline, day: date) -> list[list[str]]:
    """A member moves (after the sa_member future timestamp); a death; the header-only
    month replaced by a corrected one; hr_relative accepted together with hr_staff
    corrections; a header-only snapshot."""
    (target, _), (_, dying) = _quiet(tl, day, 5)[3:5]
    two = _hh(tl.planted("two members each own a distinct 住宅 unit"))
    spouse = tl.members(two)
    spouse = str(spouse.loc[spouse["relation"] == "配偶", "pid"].iat[0])
    tl.move_member(spouse, two, target, day)  # R04 on `two` resolved
    tl.add_cremation(dying, day, death=date(2026, 11, 21))  # R01 new
    one_kwh = _hh(tl.planted("1 kWh in the last window month"))
    exact = _hh(tl.planted("mean exactly 500 kWh"))
    changes: dict[str, float | None] = {a: 0.0 for a in tl.accounts_of("electricity", one_kwh)}
    changes.update({a: 551.0 for a in tl.accounts_of("electricity", exact)})
    tl.correct_month("electricity", 202610, changes)  # R07 and R06 on
    accept = tl.accept("personnel", "hr_relative")  # R03 of declared relatives resolved
    staff = _hh(tl.planted("open-ended payroll"))
    tl.correct_staff_id(staff, tl.fresh_person("1987-05-24")["pid"], day)  # R02 resolved
    tl.correct_staff_employer(_hh(tl.planted("payroll starts on D")), "广丰区审计局", day)
    tl.header_only_snapshot(day)  # refused: property stale, 2026-11-22 stays in force
    return [accept]


def day_1124(tl: Timeline, day: date) -> list[list[str]]:
    """The refused snapshot replaced by the previous one byte for byte (a new version);
    a member ID corrected (R09 resolved, R08 new); a collapsed water month; a cremation
    record and a member row deleted at the source (no tombstones)."""
    tl.copy_snapshot("BDC_QLR_20261122.xlsx", date(2026, 11, 23))
    hh, pid = tl.record(tl.planted("second membership of a duplicate with a wrong check character"))
    tl.correct_member_id(hh, pid, day)
    tl.collapsed_month("water", 202609, keep=0.1)  # refused: water stale
    tl.withdraw_cremation(_hh(tl.planted("death 40 days before D, cremation ID as legacy 15 digits")))
    quiet_hh, quiet = _quiet(tl, day, 7)[6]
    tl.delete_member(quiet_hh, quiet)  # rows deleted at the source: R01 resolved, the member gone
    return []


def day_1202(tl: Timeline, day: date) -> list[list[str]]:
    """The collapsed month accepted; the complete November electricity month; a new
    snapshot (two homes bought, a co-owned home sold); a household terminated."""
    accept = tl.accept("water", "SS_202609.txt")
    tl.deliver_month("electricity", 202611)
    _, buyer = _quiet(tl, day, 6)[5]
    tl.buy_unit([buyer], "住宅", date(2026, 11, 28))
    tl.buy_unit([buyer], "住宅", date(2026, 11, 29))  # R04 new
    two_homes = _hh(tl.planted("head owns two 住宅 units, one co-owned with a non-member"))
    head = tl.members(two_homes)["pid"].iat[0]
    co_owned = [u for u in tl.units_of(head, "住宅")
                if (tl.registry["unit"] == u).sum() > 1]
    tl.sell_unit(co_owned[0], date(2026, 11, 30))  # R04 resolved
    tl.deliver_snapshot(date(2026, 12, 1))
    tl.terminate_household(_hh(tl.planted("zero electricity, no water account")), day,
                           on=date(2026, 12, 1))
    return [accept]


def no_events(tl: Timeline, day: date) -> list[list[str]]:
    """A back-fill or a re-run: nothing changes at the sources."""
    return []


def late_decision(tl: Timeline, day: date) -> list[list[str]]:
    """Inspectors return a decision after the latest report, and a back-fill reads it first:
    it applies from the day after the latest report, never to the back-filled day."""
    tl.dispositions("dispositions_20261203.csv", [
        (tl.planted("active member, impossible birth date"), "EXPLAINED", "核实无误", ""),
    ])
    return []


STORY: list[tuple[date, Step, str]] = [
    (date(2026, 11, 20), day_1120, "first run"),
    (date(2026, 11, 21), day_1121, "corrections, header-only + corrected re-sends, dispositions"),
    (date(2026, 11, 22), day_1122, "termination after a future timestamp, new snapshot, emptied table"),
    (date(2026, 11, 23), day_1123, "move, death, acceptance, header-only snapshot (CLI run)"),
    (date(2026, 11, 24), day_1124, "snapshot copy under a new date, collapsed month"),
    (date(2026, 12, 2), day_1202, "accepted collapse, November electricity, new snapshot"),
    (date(2026, 11, 21), late_decision, "back-fill of an earlier day, reading a late decision"),
    (date(2026, 11, 27), no_events, "back-fill of a gap day"),
    (date(2026, 12, 2), no_events, "re-run of the latest day"),
    (date(2026, 11, 27), no_events, "re-run of the back-filled day"),
    (date(2026, 12, 3), no_events, "the next day: the late decision applies from here"),
]
"""(report date, the day's events, what the day is about), in the order the runs happen."""
CLI_DAY = 3
"""Index in :data:`STORY` of the day run through ``safetynet run`` as a subprocess."""
