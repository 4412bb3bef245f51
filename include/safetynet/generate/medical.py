"""Random medical-insurance settlements (sources.md §8) for part of the county, in integer cents.

Settlements fall on the 12 delivered months before D's month and on D's own month
up to D (the unfinished delivery). Assistance members and allowance holders see
the doctor more often and get more back from the funds (medical assistance), the
rest of the county less; a few people are seriously ill (several 住院 stays), so
incidental H01 warnings occur besides the planted ones. Amounts are integer cents
and ``self = total - fund`` holds exactly, so the reference sums without rounding.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from safetynet.generate.world import Ctx, World, month_add

KINDS = ["药店购药", "门诊", "门诊慢特病", "住院"]
KIND_P = [0.4, 0.35, 0.13, 0.12]
MEDIAN_YUAN = np.array([60.0, 180.0, 450.0, 8000.0])
SIGMA = np.array([0.7, 0.8, 0.6, 0.9])
FUND_SHARE = np.array([[0.0, 0.5], [0.3, 0.6], [0.55, 0.75], [0.5, 0.8]])
"""Per kind: the range the funds pay of the total (assistance members get 0.1 more)."""
JOIN_P = {"member": 0.35, "allowance": 0.5, "other": 0.25}
VISITS = {"member": 3.0, "allowance": 4.0, "other": 2.0}
COLS = ["pid", "birth", "name", "kind", "settled_on", "total", "fund", "self", "file_month",
        "dup", "num_dirt", "id_dirt"]
"""Truth columns: ``total``/``fund``/``self`` in cents, ``file_month`` the YYYYMM of the file
that delivers the row, ``dup`` a forced whole-row duplicate, ``num_dirt`` a forced number style."""


def month_start(yyyymm: int) -> pd.Timestamp:
    """The first day of a YYYYMM month."""
    return pd.Timestamp(yyyymm // 100, yyyymm % 100, 1)


def population(world: World) -> pd.DataFrame:
    """Everyone the truth knows by a personal ID, once, with a group: member, allowance, other."""
    t = world.tables
    people = [t["members"].assign(group="member"), t["allowances"].assign(group="allowance")]
    for name, kind in (("elec", None), ("water", None), ("property", "身份证"), ("vehicles", "居民身份证"),
                       ("roles", None), ("staff", None)):
        df = t[name]
        if kind is not None:
            df = df[df["owner_kind"] == kind]
        people.append(df.assign(group="other"))
    cols = ["pid", "birth", "name", "group"]
    pool = pd.concat([p[cols] for p in people], ignore_index=True).dropna(subset=["pid", "birth"])
    return pool.drop_duplicates("pid").reset_index(drop=True)  # members first, then allowances


def amounts(rng: np.random.Generator, kinds: np.ndarray, assisted: np.ndarray,
            scale: np.ndarray | float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(total, fund, self) in cents for settlements of kind indices ``kinds`` (median × ``scale``)."""
    n = len(kinds)
    total = np.round(rng.lognormal(np.log(MEDIAN_YUAN[kinds] * scale), SIGMA[kinds]) * 100)
    total = np.maximum(total, 100).astype(np.int64)
    share = rng.uniform(FUND_SHARE[kinds, 0], FUND_SHARE[kinds, 1], n) + np.where(assisted, 0.1, 0.0)
    fund = np.floor(total * np.minimum(share, 0.9)).astype(np.int64)
    return total, fund, total - fund


def random_settlements(ctx: Ctx) -> pd.DataFrame:
    """Settlements (truth, ``COLS``) for a random part of :func:`population`, in date order."""
    rng, world = ctx.rng, ctx.world
    pool = population(world)
    group = pool["group"].to_numpy()
    join = rng.random(len(pool)) < pd.Series(group).map(JOIN_P).to_numpy()
    who = pool[join].reset_index(drop=True)
    g = who["group"].to_numpy()
    visits = 1 + rng.poisson(pd.Series(g).map(VISITS).to_numpy())
    ill = rng.random(len(who)) < 0.01  # seriously ill: three more 住院 stays, dearer ones
    idx = np.concatenate([np.repeat(np.arange(len(who)), visits), np.repeat(np.flatnonzero(ill), 3)])
    kinds = np.concatenate([rng.choice(len(KINDS), int(visits.sum()), p=KIND_P),
                            np.full(3 * int(ill.sum()), 3)])
    scale = np.where(np.arange(len(idx)) < int(visits.sum()), 1.0, 3.5)
    total, fund, own = amounts(rng, kinds, g[idx] != "other", scale)
    lo = month_start(world.months[0])
    dates = ctx.rand_dates(len(idx), lo, ctx.D)
    out = pd.DataFrame({
        "pid": who["pid"].to_numpy()[idx], "birth": who["birth"].to_numpy()[idx],
        "name": who["name"].to_numpy()[idx], "kind": np.array(KINDS, dtype=object)[kinds],
        "settled_on": dates, "total": total, "fund": fund, "self": own,
        "file_month": (dates.year * 100 + dates.month).to_numpy(), "dup": False, "num_dirt": "",
        "id_dirt": ""})
    died = world.tables["cremations"].drop_duplicates("pid").set_index("pid")["death_date"]
    alive = ~(out["settled_on"] > out["pid"].map(died)).to_numpy()  # nobody settles after death
    return out[alive].sort_values("settled_on", kind="stable").reset_index(drop=True)


def number(settlements: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Give every settlement its unique 结算流水号 (``YB`` + county + date + serial), in date order."""
    s = settlements.assign(_tie=rng.random(len(settlements)))
    s = s.sort_values(["settled_on", "_tie"], kind="stable").drop(columns="_tie").reset_index(drop=True)
    day = s["settled_on"].dt.strftime("%Y%m%d").to_numpy(dtype=object)
    serial = pd.Series(np.arange(1, len(s) + 1)).astype(str).str.zfill(8).to_numpy(dtype=object)
    s.insert(0, "settlement_no", "YB361103" + day + serial)
    return s


def window_start(world: World) -> pd.Timestamp:
    """First day of H01's window: the month ``medical_window_months - 1`` (11) before D's month."""
    return month_start(month_add(world.d_month, -11))
