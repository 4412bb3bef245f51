"""Independent reference: the twelve rules over the generator's clean truth.

This module must not import anything from ``safetynet`` — it checks the pipeline,
so it may not share its code (only its sibling reference modules, relatively).
It works on true IDs, true dates and canonical addresses; dirt is visible to it
only as ``id_ok`` (does the delivered ID still normalise to a valid number?) and
``d_id`` (the value as delivered, for R09). Utility readings come as a matrix
(accounts × months, tenths, -1 = none) so every sum is exact integer arithmetic.

Optional sources (outputs.md: a deployment without them runs the rules that do
not need them): R11 is evaluated only when ``t`` holds ``vehicles`` and R12 only
when it holds ``entities`` and ``roles`` (see :data:`OPTIONAL`). A rule whose
tables are absent is **absent from the result** — not an empty list, which
would claim "evaluated, no cases".
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from .reference_assets import business_registrants, vehicle_owners
from .reference_coverage import coverage, standing_units
from .reference_coverage import valid_id as _vid

RULES = [f"R{i:02d}" for i in range(1, 13)]
OPTIONAL = {"R11": ("vehicles",), "R12": ("entities", "roles")}
"""Rules of optional sources → the truth tables they need (absent tables: rule not evaluated)."""
DEFAULTS = {"electricity_high_kwh": 500, "utility_window_months": 3,
            "elderly_allowance_min_age": 80, "max_residential_units": 1,
            "non_residential_uses": ["商业", "办公", "工业"],
            "vehicle_exempt_plate_kinds": ["普通摩托车", "轻便摩托车", "低速车"],
            "medical_window_months": 12, "medical_burden_enrolled": 10000,
            "medical_burden_general": 26000, "silent_home_min_age": 75,
            "breadwinner_window_days": 90}
"""Every threshold of rules.md with its default (the hardship warnings' too, see
``reference_warnings``)."""


def evaluated(t: dict[str, pd.DataFrame]) -> list[str]:
    """The rules ``evaluate`` answers for these tables: all but those of absent optional sources."""
    return [r for r in RULES if all(k in t for k in OPTIONAL.get(r, ()))]


def _trim(v: object) -> str:
    """The delivered ID trimmed with str.strip(); a missing value is the empty string."""
    return v.strip() if isinstance(v, str) else ""


def utility_window(loaded: list[int], d_month: int, k: int) -> list[int]:
    return sorted(m for m in loaded if m <= d_month)[-k:]


def _linked(acc: pd.DataFrame, act_mem: pd.DataFrame, act_hh: pd.DataFrame) -> pd.DataFrame:
    """(account row, household_id) pairs: holder is an active member, or same address."""
    a = pd.DataFrame({"row": np.arange(len(acc)), "vid": _vid(acc), "addr": acc["addr"]})
    by_id = a.dropna(subset=["vid"]).merge(act_mem[["vid", "household_id"]].dropna(), on="vid")
    by_addr = a.merge(act_hh[["addr", "household_id"]], on="addr")
    return pd.concat([by_id[["row", "household_id"]], by_addr[["row", "household_id"]]]) \
        .drop_duplicates()


def household_consumption(acc: pd.DataFrame, read: np.ndarray, labels: list[int], window: list[int],
                 act_mem: pd.DataFrame, act_hh: pd.DataFrame) -> tuple[pd.DataFrame, set]:
    """Per household and window month: summed tenths (NaN = no reading); linked households."""
    links = _linked(acc, act_mem, act_hh)
    cols = [labels.index(m) for m in window]
    vals = read[links["row"].to_numpy()][:, cols].astype(float)
    vals[vals < 0] = np.nan
    df = pd.DataFrame(vals, columns=window)
    df["household_id"] = links["household_id"].to_numpy()
    return df.groupby("household_id").sum(min_count=1), set(links["household_id"])


def evaluate(t: dict[str, pd.DataFrame], elec: tuple, water: tuple, report_date: date,
             rules: dict | None = None) -> dict[str, list[str]]:
    """Case keys per evaluated rule on ``report_date`` (see :func:`evaluated`).

    ``t`` holds truth tables (``vehicles``: the snapshot in force, see
    ``reference_assets``); ``elec``/``water`` are (accounts, readings matrix,
    month labels of the matrix columns, loaded months).
    """
    cfg = {**DEFAULTS, **(rules or {})}
    D = pd.Timestamp(report_date)
    out: dict[str, set[str]] = {r: set() for r in RULES}
    act_hh, m, act_al, benef = coverage(t, D)
    mv = m.dropna(subset=["vid"])

    cr = t["cremations"]
    dead = cr[(cr["death_date"] < D)]
    out["R01"] = {f"R01:{v}" for v in _vid(dead).dropna() if v in benef}

    st = t["staff"].assign(vid=lambda x: _vid(x)).dropna(subset=["vid"])
    j = mv.merge(st[["vid", "payroll_from", "payroll_to"]], on="vid")
    j = j[(j["payroll_from"] <= D) & (j["payroll_to"].isna() | (j["payroll_to"] >= j["bstart"]))]
    out["R02"] = {f"R02:{v}" for v in j["vid"]}

    ca = t["cadres"].assign(vid=lambda x: _vid(x)).dropna(subset=["vid"])
    jc = mv.merge(ca[["vid", "term_from", "term_to"]], on="vid")
    jc = jc[(jc["term_from"] <= D) & (jc["term_to"].isna() | (jc["term_to"] >= jc["bstart"]))]
    rel = t["relatives"]
    declarers = set(st["vid"]) | set(ca["vid"])
    rv = rel[rel["id_ok"].astype(bool) & rel["staff_id_ok"].astype(bool)]
    declared = set(rv.loc[rv["staff_pid"].isin(declarers), "relative_pid"])
    fl = t["filings"]
    filed = set(_vid(fl[fl["filed_on"] <= D]).dropna())
    cand = set(jc["vid"]) | (set(mv["vid"]) & declared)
    out["R03"] = {f"R03:{v}" for v in cand - filed}

    stand = standing_units(t["property"], D)
    res = mv.merge(stand[stand["use"] == "住宅"][["pid", "unit"]], left_on="vid", right_on="pid")
    units = res.groupby("household_id")["unit"].nunique()
    out["R04"] = {f"R04:{h}" for h in units[units >= cfg["max_residential_units"] + 1].index}
    nonres = stand[stand["use"].isin(cfg["non_residential_uses"])]
    out["R05"] = {f"R05:{v}" for v in set(mv["vid"]) & set(nonres["pid"])}

    d_month = D.year * 100 + D.month
    k = cfg["utility_window_months"]
    e_acc, e_read, e_lab, e_loaded = elec
    w_acc, w_read, w_lab, w_loaded = water
    ew, ww = utility_window(e_loaded, d_month, k), utility_window(w_loaded, d_month, k)
    ecs, _e_linked = household_consumption(e_acc, e_read, e_lab, ew, m, act_hh)
    wcs, w_linked = household_consumption(w_acc, w_read, w_lab, ww, m, act_hh)
    cnt = ecs.notna().sum(axis=1)
    tot = ecs.sum(axis=1, min_count=1)
    high = (cnt >= 2) & (tot > cfg["electricity_high_kwh"] * 10 * cnt)
    out["R06"] = {f"R06:{h}" for h in ecs.index[high]}
    ezero = ecs.index[(ecs.notna().sum(axis=1) == len(ew)) & (ecs.fillna(1) == 0).all(axis=1)]
    wzero = set(wcs.index[(wcs.notna().sum(axis=1) == len(ww)) & (wcs.fillna(1) == 0).all(axis=1)])
    out["R07"] = {f"R07:{h}" for h in ezero if h not in w_linked or h in wzero}

    dup = mv.groupby("vid")["household_id"].nunique()
    out["R08"] = {f"R08:{v}" for v in dup[dup >= 2].index}

    bad_m = m[~m["id_ok"].astype(bool)]
    bad_a = act_al[~act_al["id_ok"].astype(bool)]
    out["R09"] = {f"R09:{h}:{_trim(v)}" for h, v in zip(
        bad_m["household_id"], bad_m["d_id"], strict=True)} | {
        f"R09:{a}:{_trim(v)}" for a, v in zip(bad_a["allowance_id"], bad_a["d_id"], strict=True)}

    eld = act_al[(act_al["kind"] == "ELDERLY")].dropna(subset=["vid"])
    for v in eld["vid"]:
        b = date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
        age = D.year - b.year - ((D.month, D.day) < (b.month, b.day))
        if age < cfg["elderly_allowance_min_age"]:
            out["R10"].add(f"R10:{v}")

    rules_on = evaluated(t)
    members = set(mv["vid"])
    if "R11" in rules_on:
        out["R11"] = vehicle_owners(t["vehicles"], members, D, cfg["vehicle_exempt_plate_kinds"])
    if "R12" in rules_on:
        out["R12"] = business_registrants(t["entities"], t["roles"], members, D)
    return {r: sorted(out[r]) for r in rules_on}
