"""Random real-estate registry truth (one row per owner of a unit).

Assistance households mostly own their own home (often co-owned by the couple);
a few own a second home or a shop (incidental R04/R05). The bulk of the rows
belong to the rest of the county, including organisations and foreigners.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from safetynet.generate.world import Ctx

USES = ["住宅", "车位", "商业", "办公", "工业", "储藏室", "其他"]
USE_P = [0.68, 0.12, 0.07, 0.02, 0.01, 0.06, 0.04]
AREA = {"住宅": (50, 180), "车位": (12, 16), "商业": (20, 3000), "办公": (50, 2000),
        "工业": (200, 9000), "储藏室": (5, 20), "其他": (10, 100)}
ORG_KINDS = ["贸易有限公司", "建材有限公司", "农业开发有限公司", "置业有限公司", "食品厂"]
COLS = ["unit", "owner_kind", "pid", "birth", "name", "share", "addr", "use", "area100",
        "reg_on", "cancel_on", "in_old", "in_new", "id_dirt"]


def unit_numbers(ctx: Ctx, region_codes: np.ndarray) -> np.ndarray:
    """28-character unit numbers: county, village, parcel (JC…), building/room (F…)."""
    s = np.array(ctx.serials("unit", len(region_codes)), dtype=np.int64)
    rc = pd.Series(region_codes).str[6:12].to_numpy(dtype=object)
    par = pd.Series(s // 10000 % 100000).astype(str).str.zfill(5).to_numpy(dtype=object)
    fb = pd.Series(s % 10000).astype(str).str.zfill(4).to_numpy(dtype=object)
    return "361103" + rc + "JC" + par + "F" + fb + "0001"


def areas(ctx: Ctx, uses: np.ndarray) -> np.ndarray:
    """Floor area in hundredths of m² by use."""
    lo = np.array([AREA[u][0] for u in uses])
    hi = np.array([AREA[u][1] for u in uses])
    return (ctx.rng.uniform(lo, hi) * 100).astype(np.int64)


def _units(ctx: Ctx, owners: pd.DataFrame, uses: np.ndarray, addrs: np.ndarray,
           vcodes: np.ndarray, co: pd.DataFrame | None = None) -> pd.DataFrame:
    """Rows for one unit per owner row, with an optional co-owner row each (NaN pid: none)."""
    rng, D = ctx.rng, ctx.D
    n = len(owners)
    unit = unit_numbers(ctx, vcodes)
    reg = ctx.rand_dates(n, pd.Timestamp("2001-01-01"), D - pd.Timedelta(days=8))
    new = rng.random(n) < 0.01
    reg = np.where(new, ctx.rand_dates(n, D - pd.Timedelta(days=6), D).to_numpy(), reg.to_numpy())
    canc = np.full(n, np.datetime64("NaT"), dtype="datetime64[s]")
    gone = rng.random(n) < 0.06
    span = np.maximum((D.to_datetime64() - reg) // np.timedelta64(1, "D"), 2)
    canc[gone] = (reg + (rng.random(n) * span).astype("timedelta64[D]"))[gone]
    base = pd.DataFrame({
        "unit": unit, "owner_kind": owners.get("owner_kind", "身份证"), "pid": owners["pid"].to_numpy(),
        "birth": owners["birth"].to_numpy(), "name": owners["name"].to_numpy(), "share": "单独所有",
        "addr": addrs, "use": uses, "area100": areas(ctx, uses), "reg_on": reg, "cancel_on": canc,
    })
    if co is None:
        return base
    has = co["pid"].notna().to_numpy()
    base.loc[has, "share"] = "共同共有"
    second = base[has].copy()
    second["pid"] = co["pid"].to_numpy()[has]
    second["birth"] = co["birth"].to_numpy()[has]
    second["name"] = co["name"].to_numpy()[has]
    second["owner_kind"] = "身份证"
    return pd.concat([base, second], ignore_index=True)


def random_property(ctx: Ctx, hh: pd.DataFrame, mem: pd.DataFrame, target_rows: int) -> pd.DataFrame:
    """All registry rows (truth) before planting: members' and everybody else's."""
    rng = ctx.rng
    heads = mem[mem["relation"] == "户主"].drop_duplicates("household_id")
    heads = heads.merge(hh[["household_id", "addr", "region_code"]], on="household_id")
    home = heads[rng.random(len(heads)) < 0.6]
    sp = mem[mem["relation"] == "配偶"].drop_duplicates("household_id")
    sp = sp.set_index("household_id").reindex(home["household_id"])
    sp.loc[rng.random(len(sp)) < 0.5, "pid"] = np.nan
    parts = [_units(ctx, home, np.full(len(home), "住宅"), home["addr"].to_numpy(),
                    home["region_code"].to_numpy(), co=sp.reset_index())]
    vill = ctx.world.vill
    vc = vill["code"].to_numpy()
    for share, uses in ((0.02, ["住宅"]), (0.01, ["商业", "办公", "工业"]), (0.03, ["车位"]),
                        (0.02, ["储藏室"])):
        who = mem[rng.random(len(mem)) < share]
        vi = rng.integers(0, len(vill), len(who))
        parts.append(_units(ctx, who, rng.choice(uses, len(who)), ctx.dwell.allocate(vi), vc[vi]))
    sold = heads[rng.random(len(heads)) < 0.05]
    vi = rng.integers(0, len(vill), len(sold))
    s = _units(ctx, sold, np.full(len(sold), "住宅"), ctx.dwell.allocate(vi), vc[vi])
    s["cancel_on"] = ctx.rand_dates(len(s), pd.Timestamp("2018-01-01"), ctx.D - pd.Timedelta(days=30))
    s["cancel_on"] = np.maximum(s["cancel_on"], s["reg_on"] + pd.Timedelta(days=30))
    s.loc[s["cancel_on"] > ctx.D, "cancel_on"] = ctx.D - pd.Timedelta(days=1)
    parts.append(s)
    done = sum(len(p) for p in parts)
    n_units = max(1, int((target_rows - done) / 1.25))
    pool = ctx.people(ctx.rand_dates(int(n_units * 0.7) + 1, pd.Timestamp("1940-01-01"),
                                     pd.Timestamp("2004-01-01")).to_numpy())
    own = pool.iloc[rng.integers(0, len(pool), n_units)].reset_index(drop=True)
    kind = rng.choice(["身份证", "营业执照", "护照", "其他"], n_units, p=[0.912, 0.08, 0.003, 0.005])
    own["owner_kind"] = kind
    org = kind == "营业执照"
    own.loc[org, "pid"] = ["91361103" + f"{s:09d}" + "X" for s in ctx.serials("org", int(org.sum()))]
    own.loc[org, "name"] = ["广丰区" + n[:2] + ORG_KINDS[i % 5] for i, n in
                            enumerate(own.loc[org, "name"])]
    pas = kind == "护照"
    own.loc[pas, "pid"] = ["E" + f"{s:08d}" for s in ctx.serials("passport", int(pas.sum()))]
    oth = kind == "其他"
    own.loc[oth, "pid"] = ["军" + f"{s:07d}" for s in ctx.serials("other_id", int(oth.sum()))]
    own.loc[~(kind == "身份证"), "birth"] = pd.NaT
    unit_uses = rng.choice(USES, n_units, p=USE_P)
    vi = rng.integers(0, len(vill), n_units)
    co = pool.iloc[rng.integers(0, len(pool), n_units)].reset_index(drop=True)
    co.loc[(rng.random(n_units) > 0.25) | (kind != "身份证"), "pid"] = np.nan
    parts.append(_units(ctx, own, unit_uses, ctx.dwell.allocate(vi), vc[vi], co=co))
    prop = pd.concat(parts, ignore_index=True)
    prop["in_new"] = True
    prop["in_old"] = prop["reg_on"] <= ctx.D - pd.Timedelta(days=7)
    gone = rng.random(len(prop)) < 0.003  # corrected away between the two snapshots
    prop.loc[gone & prop["in_old"], "in_new"] = False
    prop["id_dirt"] = np.where(prop["owner_kind"] == "身份证", "", "clean")
    return prop[COLS]
