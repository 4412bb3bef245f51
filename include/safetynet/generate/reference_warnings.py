"""Independent reference: the hardship warnings H01–H04 over the generator's truth (rules.md).

Like ``reference`` this module must not import anything from ``safetynet`` (only
its sibling reference modules, relatively): who is covered, which units stand,
which vehicles are held, which roles stand and how utility accounts link to
households are the reference's own definitions, shared with the rules. Ages are
whole years from the birth date in the valid ID. The readings it chose:

* H01 counts a settlement when its delivered ID is valid, it came in the file of
  its own month (any other row is quarantined), that month is loaded (D's own
  month is delivered unfinished and never read) and it is dated from the first
  day of the month ``medical_window_months`` - 1 before D's month to D. Sums are
  exact integer cents; both thresholds are inclusive.
* H02's "on a public payroll on D": ``payroll_from <= D`` and ``payroll_to`` open or
  ``>= D`` (the interval is inclusive, as for R02).
* H03: exactly one active member row (whatever its ID) with a valid ID; the
  latest loaded electricity month not after D's month and the calendar month
  before it, which must be loaded too; household consumption as for R06/R07.
* H04: ``D - breadwinner_window_days <= death_date < D``; membership on the death
  date and the other members by valid ID; "another" member is one with another ID.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from .reference import DEFAULTS, household_consumption, utility_window
from .reference_assets import held_vehicles, standing_roles
from .reference_coverage import Coverage, coverage, standing_units, valid_id

WARNINGS = ["H01", "H02", "H03", "H04"]
OPTIONAL = {"H01": ("medical",), "H02": ("vehicles", "entities", "roles")}
"""Warnings of optional sources → the truth tables they need (absent: not evaluated)."""


def warnings_evaluated(t: dict[str, pd.DataFrame]) -> list[str]:
    """The warnings :func:`evaluate` answers for these tables."""
    return [w for w in WARNINGS if all(k in t for k in OPTIONAL.get(w, ()))]


def age(pid: str, on: pd.Timestamp | date) -> int:
    """Whole years on ``on`` since the birth date in a valid ID."""
    y, m, d = int(pid[6:10]), int(pid[10:12]), int(pid[12:14])
    return on.year - y - ((on.month, on.day) < (m, d))


def _month_before(yyyymm: int, k: int = 1) -> int:
    t = (yyyymm // 100) * 12 + yyyymm % 100 - 1 - k
    return (t // 12) * 100 + t % 12 + 1


def medical_burden(med: pd.DataFrame, loaded: list[int], cov: Coverage, D: pd.Timestamp,
                   cfg: dict) -> set[str]:
    """H01 keys: out-of-pocket sums over the window at or above the person's threshold."""
    first = _month_before(D.year * 100 + D.month, cfg["medical_window_months"] - 1)
    start = pd.Timestamp(first // 100, first % 100, 1)
    month = med["settled_on"].dt.year * 100 + med["settled_on"].dt.month
    ok = (med["id_ok"].astype(bool) & (med["file_month"] == month) & month.isin(loaded)
          & (med["settled_on"] >= start) & (med["settled_on"] <= D))
    spent = med[ok].groupby("pid")["self"].sum()
    enrolled = round(cfg["medical_burden_enrolled"] * 100)
    general = round(cfg["medical_burden_general"] * 100)
    return {f"H01:{p}" for p, cents in spent.items()
            if cents >= (enrolled if p in cov.beneficiaries else general)}


def uncovered_disability(t: dict[str, pd.DataFrame], cov: Coverage, D: pd.Timestamp,
                         cfg: dict) -> set[str]:
    """H02 keys: active DISABILITY_CARE holders outside the rolls who hold nothing disqualifying."""
    care = cov.allowances[cov.allowances["kind"] == "DISABILITY_CARE"]["vid"].dropna()
    units = standing_units(t["property"], D)
    homes = units[units["use"] == "住宅"].groupby("pid")["unit"].nunique()
    barred = set(cov.members["vid"].dropna())
    barred |= set(units.loc[units["use"].isin(cfg["non_residential_uses"]), "pid"])
    barred |= set(homes[homes > cfg["max_residential_units"]].index)
    barred |= set(held_vehicles(t["vehicles"], D, cfg["vehicle_exempt_plate_kinds"])["pid"])
    barred |= set(standing_roles(t["entities"], t["roles"], D)["pid"])
    st = t["staff"]
    paid = st[(st["payroll_from"] <= D) & (st["payroll_to"].isna() | (st["payroll_to"] >= D))]
    barred |= set(valid_id(paid).dropna())
    return {f"H02:{p}" for p in set(care) - barred}


def silent_homes(elec: tuple, cov: Coverage, D: pd.Timestamp, cfg: dict) -> set[str]:
    """H03 keys: lone elders' households whose electricity stopped in the latest loaded month."""
    acc, read, labels, loaded = elec
    latest = utility_window(loaded, D.year * 100 + D.month, 1)
    if not latest or _month_before(latest[0]) not in loaded:
        return set()
    last, before = latest[0], _month_before(latest[0])
    use, _ = household_consumption(acc, read, labels, [before, last], cov.members, cov.households)
    silent = set(use.index[(use[last] == 0) & (use[before] > 0)])
    size = cov.members.groupby("household_id").size()
    lone = cov.members[cov.members["household_id"].isin(size[size == 1].index)].dropna(subset=["vid"])
    return {f"H03:{h}" for h, v in zip(lone["household_id"], lone["vid"], strict=True)
            if h in silent and age(v, D) >= cfg["silent_home_min_age"]}


def breadwinner_died(t: dict[str, pd.DataFrame], cov: Coverage, D: pd.Timestamp,
                     cfg: dict) -> set[str]:
    """H04 keys: active households whose working-age member died in the window, with a child or
    an elder among the other active members."""
    cr = t["cremations"].assign(vid=lambda x: valid_id(x)).dropna(subset=["vid"])
    lo = D - pd.Timedelta(days=cfg["breadwinner_window_days"])
    dead = cr[(cr["death_date"] >= lo) & (cr["death_date"] < D)]
    mem = t["members"].assign(vid=lambda x: valid_id(x)).dropna(subset=["vid"])
    j = dead[["vid", "death_date"]].merge(mem[["vid", "household_id", "joined_on", "left_on"]],
                                          on="vid")
    j = j[(j["joined_on"] <= j["death_date"])
          & (j["left_on"].isna() | (j["left_on"] >= j["death_date"]))
          & j["household_id"].isin(set(cov.households["household_id"]))]
    others = cov.members.dropna(subset=["vid"]).groupby("household_id")["vid"].apply(list)
    out = set()
    for v, died, h in zip(j["vid"], j["death_date"], j["household_id"], strict=True):
        if 18 <= age(v, died) <= 59 and any(o != v and (age(o, D) < 18 or age(o, D) >= 60)
                                            for o in others.get(h, [])):
            out.add(f"H04:{h}")
    return out


def evaluate(t: dict[str, pd.DataFrame], elec: tuple, medical_months: list[int],
             report_date: date, rules: dict | None = None) -> dict[str, list[str]]:
    """Warning keys per evaluated warning on ``report_date`` (see :func:`warnings_evaluated`).

    ``t`` holds the truth tables (``medical``: the settlements, ``pid``/``id_ok``/
    ``settled_on``/``self`` in cents/``file_month``); ``elec`` is (accounts, readings
    matrix, month labels, loaded months) as for ``reference.evaluate``;
    ``medical_months`` the loaded medical months.
    """
    cfg = {**DEFAULTS, **(rules or {})}
    D = pd.Timestamp(report_date)
    cov = coverage(t, D)
    on = warnings_evaluated(t)
    out = {"H03": silent_homes(elec, cov, D, cfg), "H04": breadwinner_died(t, cov, D, cfg)}
    if "H01" in on:
        out["H01"] = medical_burden(t["medical"], medical_months, cov, D, cfg)
    if "H02" in on:
        out["H02"] = uncovered_disability(t, cov, D, cfg)
    return {w: sorted(out[w]) for w in on}
