"""Random traffic-police vehicle registry truth (one row per registered vehicle).

Many assistance members ride a motorcycle or a 低速车 (exempt), a few drive a car
(incidental R11 cases); the bulk of the registry belongs to the rest of the
county and to companies (owner ID kind 统一社会信用代码, their credit code). Rows
carry their status in both weekly snapshots: ``status`` in the newest (D),
``status_old`` in the older (D-7); ``in_old``/``in_new`` say which snapshot
lists the vehicle, as for property.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from safetynet.generate.world import Ctx

PLATE_KINDS = ["小型汽车", "大型汽车", "普通摩托车", "轻便摩托车", "低速车", "挂车"]
TYPES = {
    "小型汽车": ["小型轿车", "小型普通客车", "小型越野客车", "轻型普通货车", "微型普通货车"],
    "大型汽车": ["重型普通货车", "重型半挂牵引车", "中型普通客车", "大型普通客车"],
    "普通摩托车": ["普通二轮摩托车", "普通正三轮摩托车"],
    "轻便摩托车": ["轻便二轮摩托车"],
    "低速车": ["三轮汽车", "低速货车"],
    "挂车": ["重型仓栅式半挂车", "重型普通半挂车"],
}
DISABLED_TYPE = "残疾人专用小型自动挡载客汽车"
STATUSES = ["正常", "查封", "达到报废标准", "转出", "注销", "报废", "被盗抢"]
STATUS_P = [0.85, 0.01, 0.03, 0.03, 0.04, 0.035, 0.005]
GONE = ["转出", "注销", "报废", "被盗抢"]
PLATE_CHARS = np.frombuffer(b"0123456789ABCDEFGHJKLMNPQRSTUVWXYZ", dtype=np.uint8)
COLS = ["plate", "plate_kind", "vtype", "owner_kind", "pid", "birth", "name", "reg_on", "status",
        "status_old", "in_old", "in_new", "id_dirt"]


def _base34(values: np.ndarray, width: int) -> np.ndarray:
    """Serial numbers as fixed-width plate text (digits and letters without I and O), spread
    over the whole plate space by a bijection (× a prime mod 34**width) so they look random."""
    v = np.asarray(values, dtype=np.int64) * 7919 % 34 ** width
    digits = np.stack([(v // 34 ** (width - 1 - k)) % 34 for k in range(width)], axis=1)
    return np.ascontiguousarray(PLATE_CHARS[digits]).view(f"S{width}").ravel().astype(str) \
        .astype(object)


def plates(ctx: Ctx, kinds: np.ndarray) -> np.ndarray:
    """Unique plate numbers 赣E…: 5 characters, 挂车 4 plus 挂, some new-energy cars D/F + 5."""
    n = len(kinds)
    trailer = kinds == "挂车"
    out = np.empty(n, dtype=object)
    out[~trailer] = "赣E" + _base34(np.array(ctx.serials("plate", int((~trailer).sum())),
                                             dtype=np.int64), 5)
    out[trailer] = "赣E" + _base34(np.array(ctx.serials("trailer", int(trailer.sum()), width=6),
                                            dtype=np.int64), 4) + "挂"
    green = (kinds == "小型汽车") & (ctx.rng.random(n) < 0.1)
    out[green] = "赣E" + np.where(ctx.rng.random(int(green.sum())) < 0.8, "D", "F") + \
        pd.Series(out[green]).str[2:].to_numpy(dtype=object)
    return out


def vehicle_types(ctx: Ctx, kinds: np.ndarray, disabled: float = 0.0) -> np.ndarray:
    """A registered vehicle type per plate kind; ``disabled`` of the cars are 残疾人专用."""
    rng = ctx.rng
    out = np.empty(len(kinds), dtype=object)
    for kind, types in TYPES.items():
        sel = kinds == kind
        out[sel] = np.array(types, dtype=object)[rng.integers(0, len(types), int(sel.sum()))]
    out[(kinds == "小型汽车") & (rng.random(len(kinds)) < disabled)] = DISABLED_TYPE
    return out


def fleet(ctx: Ctx, owners: pd.DataFrame, kinds: np.ndarray, disabled: float = 0.002) -> pd.DataFrame:
    """One vehicle per owner row (``pid``, ``birth``, ``name``, optional ``owner_kind``)."""
    rng, D = ctx.rng, ctx.D
    n = len(owners)
    reg = ctx.rand_dates(n, pd.Timestamp("2000-01-01"), D - pd.Timedelta(days=8)).to_numpy().copy()
    new = rng.random(n) < 0.01
    reg[new] = ctx.rand_dates(int(new.sum()), D - pd.Timedelta(days=6), D).to_numpy()
    status = rng.choice(STATUSES, n, p=STATUS_P).astype(object)
    old = status.copy()
    changed = np.isin(status, GONE) & (rng.random(n) < 0.05)  # changed in the last week
    old[changed] = "正常"
    old[(status == "正常") & (rng.random(n) < 0.005)] = "查封"  # a seizure lifted
    in_old = reg <= (D - pd.Timedelta(days=7)).to_datetime64()
    kind = owners["owner_kind"].to_numpy() if "owner_kind" in owners else np.full(n, "居民身份证")
    return pd.DataFrame({
        "plate": plates(ctx, kinds), "plate_kind": kinds, "vtype": vehicle_types(ctx, kinds, disabled),
        "owner_kind": kind, "pid": owners["pid"].to_numpy(), "birth": owners["birth"].to_numpy(),
        "name": owners["name"].to_numpy(), "reg_on": pd.to_datetime(reg).as_unit("s"),
        "status": status, "status_old": old, "in_old": in_old,
        "in_new": ~(in_old & (rng.random(n) < 0.002)),  # a few corrected away in the last week
        "id_dirt": np.where(kind == "居民身份证", "", "clean"),
    })


def random_vehicles(ctx: Ctx, mem: pd.DataFrame, ent: pd.DataFrame, households: int) -> pd.DataFrame:
    """The whole registry (truth): members' vehicles, everybody else's, companies'."""
    rng, D = ctx.rng, ctx.D
    adult = mem[(mem["birth"] < D - pd.DateOffset(years=18)).to_numpy()]
    moto = adult[rng.random(len(adult)) < 0.22]
    car = adult[rng.random(len(adult)) < 0.02]
    dis = adult[rng.random(len(adult)) < 0.003]
    parts = [fleet(ctx, moto, rng.choice(["普通摩托车", "轻便摩托车", "低速车"], len(moto),
                                         p=[0.55, 0.25, 0.2])),
             fleet(ctx, car, np.full(len(car), "小型汽车"), disabled=0.0),
             fleet(ctx, dis, np.full(len(dis), "小型汽车"), disabled=1.0)]
    n_other = max(1, int(households * 1.6))
    pool = ctx.people(ctx.rand_dates(int(n_other * 0.8) + 1, pd.Timestamp("1945-01-01"),
                                     pd.Timestamp("2006-01-01")).to_numpy())
    own = pool.iloc[rng.integers(0, len(pool), n_other)].reset_index(drop=True)
    own["owner_kind"] = rng.choice(["居民身份证", "其他"], n_other, p=[0.995, 0.005])
    oth = (own["owner_kind"] == "其他").to_numpy()
    own.loc[oth, "pid"] = ("E" + pd.Series(ctx.serials("passport", int(oth.sum()), width=8))
                           .astype(str).str.zfill(8)).to_numpy(dtype=object)
    own.loc[oth, "birth"] = pd.NaT
    parts.append(fleet(ctx, own, rng.choice(PLATE_KINDS, n_other,
                                            p=[0.6, 0.03, 0.22, 0.07, 0.06, 0.02])))
    firms = ent[(ent["entity_kind"] == "ENTERPRISE").to_numpy()]
    n_org = int(len(firms) * 0.5)
    org = firms.iloc[rng.integers(0, max(len(firms), 1), n_org)] if n_org else firms.iloc[:0]
    org = pd.DataFrame({"pid": org["credit_code"].to_numpy(), "birth": pd.NaT,
                        "name": org["entity_name"].to_numpy(), "owner_kind": "统一社会信用代码"})
    parts.append(fleet(ctx, org, rng.choice(["小型汽车", "大型汽车", "挂车"], n_org, p=[0.6, 0.25, 0.15])))
    return pd.concat(parts, ignore_index=True)[COLS]
