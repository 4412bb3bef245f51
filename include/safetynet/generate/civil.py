"""Random civil-affairs truth: households, members, allowances, cremations.

Shares are plausible for a county's assistance roll; incidental rule hits
(a member who died and was not removed, an elderly allowance granted early)
occur at small rates so the reference has real work beyond the planted cases.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from safetynet.generate.world import Ctx

RELATION_OFFSETS = {  # relation → (min, max) years after the head's birth
    "配偶": (-6, 6), "子女": (20, 36), "父母": (-36, -20), "兄弟姐妹": (-9, 9),
    "孙子女": (44, 60), "其他": (-30, 30),
}
FUNERAL_HOMES = ["广丰区殡仪馆", "上饶市殡仪馆", "玉山县殡仪馆"]


def hh_id(program: str, serial: int) -> str:
    """Household number: programme prefix, county code, 7-digit serial."""
    return ("DB" if program == "DIBAO" else "TK") + "361103" + f"{serial:07d}"


def random_households(ctx: Ctx, n: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``n`` random households and their members (truth)."""
    rng, D = ctx.rng, ctx.D
    vill = ctx.world.vill
    program = np.where(rng.random(n) < 0.85, "DIBAO", "TEKUN")
    vidx = rng.integers(0, len(vill), n)
    urban = vill["urban"].to_numpy()[vidx]
    status = rng.choice(["ACTIVE", "SUSPENDED", "TERMINATED"], n, p=[0.88, 0.04, 0.08])
    approved = ctx.rand_dates(n, pd.Timestamp("2010-01-01"), D - pd.Timedelta(days=30))
    term = pd.Series(pd.NaT, index=range(n), dtype="datetime64[s]")
    t_idx = np.flatnonzero(status == "TERMINATED")
    span = (D - approved[t_idx]).days.to_numpy()
    term.iloc[t_idx] = approved[t_idx] + pd.to_timedelta(rng.integers(1, span), unit="D")
    fut = np.flatnonzero((status == "ACTIVE") & (rng.random(n) < 0.01))
    term.iloc[fut] = D + pd.to_timedelta(rng.integers(1, 90, len(fut)), unit="D")
    stale = np.flatnonzero((status == "ACTIVE") & (rng.random(n) < 0.005))
    term.iloc[stale] = D - pd.to_timedelta(rng.integers(0, 60, len(stale)), unit="D")
    size = np.where(program == "TEKUN", rng.choice([1, 2], n, p=[0.9, 0.1]),
                    rng.choice([1, 2, 3, 4, 5, 6], n, p=[.25, .25, .22, .15, .09, .04]))
    head_lo = np.where(program == "TEKUN", 1935, 1940)
    head_y = rng.integers(head_lo, np.where(program == "TEKUN", 1966, 1997))
    amount = np.where(program == "TEKUN", 1050.0,
                      np.where(urban, 850.0, 650.0) * size * rng.uniform(0.45, 1.0, n))
    serial = ctx.serials("household", n)
    hh = pd.DataFrame({
        "household_id": [hh_id(p, s) for p, s in zip(program, serial, strict=True)],
        "program": program, "area_type": np.where(urban, "URBAN", "RURAL"),
        "region_code": vill["code"].to_numpy()[vidx], "addr": ctx.dwell.allocate(vidx),
        "status": status, "approved_on": approved, "terminated_on": term.to_numpy(),
        "monthly_amount": np.round(amount, 0), "planted": False,
    })
    # members
    hix = np.repeat(np.arange(n), size)
    pos = np.concatenate([np.arange(s) for s in size]) if n else np.array([], int)
    m = len(hix)
    rel = np.full(m, "户主", dtype=object)
    others = pos > 0
    spouse = (pos == 1) & (rng.random(m) < 0.8)
    rel[others] = rng.choice(["子女", "父母", "孙子女", "兄弟姐妹", "其他"], int(others.sum()),
                             p=[0.62, 0.14, 0.12, 0.07, 0.05])
    rel[spouse] = "配偶"
    hb = pd.to_datetime([f"{y}-01-01" for y in head_y]).as_unit("s")
    hb = hb + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    lo = np.array([RELATION_OFFSETS.get(r, (0, 0))[0] for r in rel])
    hi = np.array([RELATION_OFFSETS.get(r, (0, 0))[1] for r in rel])
    off_days = (rng.uniform(lo, hi + 1e-9) * 365.25).astype(np.int64)
    birth = hb.to_numpy()[hix] + off_days.astype("timedelta64[D]")
    lo_b, hi_b = np.datetime64("1915-01-01", "D"), (D - pd.Timedelta(days=60)).to_datetime64()
    birth = birth.astype("datetime64[D]")
    low, high = birth < lo_b, birth > hi_b.astype("datetime64[D]")
    birth[low] = lo_b + rng.integers(0, 7300, int(low.sum())).astype("timedelta64[D]")
    birth[high] = hi_b.astype("datetime64[D]") - rng.integers(0, 5000, int(high.sum())).astype(
        "timedelta64[D]")
    ppl = ctx.people(birth.astype("datetime64[D]"))
    appr = approved.to_numpy()[hix]
    joined = np.maximum(appr, ppl["birth"].to_numpy() + np.timedelta64(30, "D"))
    late = rng.random(m) < 0.05
    jspan = np.maximum((D.to_datetime64() - joined) // np.timedelta64(1, "D"), 2)
    joined = np.where(late, joined + (rng.random(m) * jspan).astype("timedelta64[D]"), joined)
    left = np.full(m, np.datetime64("NaT"), dtype="datetime64[s]")
    lspan = np.maximum((D.to_datetime64() - joined) // np.timedelta64(1, "D"), 2)
    gone = (rng.random(m) < 0.04) & (pos > 0)
    left[gone] = (joined + (rng.random(m) * lspan).astype("timedelta64[D]"))[gone]
    soon = (rng.random(m) < 0.003) & ~gone
    left[soon] = D.to_datetime64() + rng.integers(1, 60, int(soon.sum())).astype("timedelta64[D]")
    mem = pd.DataFrame({
        "household_id": hh["household_id"].to_numpy()[hix], "pid": ppl["pid"],
        "birth": ppl["birth"], "name": ppl["name"], "relation": rel,
        "joined_on": pd.to_datetime(joined).as_unit("s"), "left_on": left, "id_dirt": "",
    })
    return hh, mem


def active_member_mask(hh: pd.DataFrame, mem: pd.DataFrame, D: pd.Timestamp) -> np.ndarray:
    """Which member rows are active on D (used to place incidental events)."""
    h = hh.set_index("household_id")
    act_h = (h["status"] == "ACTIVE") & (h["approved_on"] <= D) & (
        h["terminated_on"].isna() | (h["terminated_on"] > D))
    ok = mem["household_id"].map(act_h).fillna(False).to_numpy(dtype=bool)
    return ok & (mem["joined_on"] <= D).to_numpy() & (
        mem["left_on"].isna() | (mem["left_on"] > D)).to_numpy()


def random_allowances(ctx: Ctx, mem: pd.DataFrame, n_hh: int) -> pd.DataFrame:
    """Individual subsidies for members and non-members (truth)."""
    rng, D = ctx.rng, ctx.D
    vill = ctx.world.vill
    eighty = D - pd.DateOffset(years=80)
    n_old = int(n_hh * 0.12) + 1
    old = ctx.people(ctx.rand_dates(n_old, pd.Timestamp("1922-01-01"), eighty).to_numpy())
    early = rng.random(n_old) < 0.003  # granted before the 80th birthday: incidental R10
    eb = ctx.rand_dates(int(early.sum()), eighty + pd.Timedelta(days=1),
                        eighty + pd.Timedelta(days=700))
    old_e = ctx.people(eb.to_numpy())
    old.loc[early, ["pid", "birth", "name"]] = old_e[["pid", "birth", "name"]].to_numpy()
    old_m = mem[(mem["birth"] <= eighty) & (rng.random(len(mem)) < 0.7)][["pid", "birth", "name"]]
    n_dis = int(n_hh * 0.13) + 1
    dis_m = mem.sample(n=min(len(mem), n_dis // 2), random_state=rng)[["pid", "birth", "name"]]
    dis_o = ctx.people(ctx.rand_dates(n_dis - len(dis_m), pd.Timestamp("1940-01-01"),
                                      pd.Timestamp("2015-01-01")).to_numpy())
    a = pd.concat([old, old_m, dis_m, dis_o], ignore_index=True)
    k = len(a)
    n_el = len(old) + len(old_m)
    kind = np.array(["ELDERLY"] * n_el + list(rng.choice(
        ["DISABILITY_LIVING", "DISABILITY_CARE"], k - n_el, p=[0.6, 0.4])), dtype=object)
    b80 = a["birth"] + pd.DateOffset(years=80)
    start = ctx.rand_dates(k, pd.Timestamp("2015-01-01"), D - pd.Timedelta(days=20))
    el = kind == "ELDERLY"
    start_el = np.maximum(b80.to_numpy(), np.datetime64("2015-01-01")) + rng.integers(
        0, 120, k).astype("timedelta64[D]")
    start = np.where(el, start_el, start.to_numpy())
    start[np.isin(a["pid"], old_e["pid"])] = (D - pd.Timedelta(days=200)).to_datetime64()
    start = np.minimum(start, (D - pd.Timedelta(days=1)).to_datetime64())
    end = np.full(k, np.datetime64("NaT"), dtype="datetime64[s]")
    ended = rng.random(k) < 0.06
    span = np.maximum((D.to_datetime64() - start) // np.timedelta64(1, "D"), 2)
    end[ended] = (start + (rng.random(k) * span).astype("timedelta64[D]"))[ended]
    amt = np.where(el, rng.choice([50.0, 100.0, 200.0], k), 90.0)
    return pd.DataFrame({
        "allowance_id": ["BT361103" + f"{s:07d}" for s in ctx.serials("allowance", k)],
        "pid": a["pid"].to_numpy(), "birth": a["birth"].to_numpy(), "name": a["name"].to_numpy(),
        "kind": kind, "region_code": vill["code"].to_numpy()[rng.integers(0, len(vill), k)],
        "start_on": pd.to_datetime(start).as_unit("s"), "end_on": end,
        "monthly_amount": amt, "id_dirt": "",
    })


def random_cremations(ctx: Ctx, hh: pd.DataFrame, mem: pd.DataFrame,
                      allow: pd.DataFrame) -> pd.DataFrame:
    """Deaths: mostly people outside the rolls, some removed members, a few missed."""
    rng, D = ctx.rng, ctx.D
    n_hh = len(hh)
    outside = ctx.people(ctx.rand_dates(int(n_hh * 0.05) + 1, pd.Timestamp("1920-01-01"),
                                        pd.Timestamp("1975-01-01")).to_numpy())
    od = ctx.rand_dates(len(outside), pd.Timestamp("2023-01-01"), D - pd.Timedelta(days=1))
    left = mem[mem["left_on"].notna() & (mem["left_on"] < D) & (rng.random(len(mem)) < 0.3)]
    ld = left["left_on"] - pd.to_timedelta(rng.integers(3, 40, len(left)), unit="D")
    act = active_member_mask(hh, mem, D)
    missed = mem[act & (rng.random(len(mem)) < 0.004)]
    md = ctx.rand_dates(len(missed), D - pd.Timedelta(days=400), D - pd.Timedelta(days=2))
    am = allow[(rng.random(len(allow)) < 0.005) & allow["end_on"].isna()]
    ad = ctx.rand_dates(len(am), D - pd.Timedelta(days=300), D - pd.Timedelta(days=2))
    parts = [outside, left[["pid", "birth", "name"]], missed[["pid", "birth", "name"]],
             am[["pid", "birth", "name"]]]
    c = pd.concat(parts, ignore_index=True)
    death = np.concatenate([od.to_numpy(), ld.to_numpy(), md.to_numpy(), ad.to_numpy()])
    c = c.drop_duplicates("pid").copy()
    death = death[c.index.to_numpy()]
    k = len(c)
    c["death_date"] = pd.to_datetime(death).as_unit("s")
    cre = c["death_date"] + pd.to_timedelta(rng.integers(1, 5, k), unit="D")
    c["cremation_date"] = cre.where(cre <= D, D)
    c["funeral_home"] = rng.choice(FUNERAL_HOMES, k, p=[0.8, 0.15, 0.05])
    c["record_id"] = ["HH" + f"{s:07d}" for s in ctx.serials("cremation", k)]
    c["id_dirt"] = ""
    return c.reset_index(drop=True)
