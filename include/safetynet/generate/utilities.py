"""Random electricity and water accounts for the whole county, and their readings.

Readings are a dense matrix (accounts × months) of integer tenths with -1 for
"no reading", which keeps a million accounts × 13 months cheap and lets the
reference sum exactly (no float rounding at the 500 kWh boundary).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from safetynet.generate.world import Ctx

ACC_COLS = ["account", "pid", "birth", "name", "addr", "id_dirt", "planted"]
SEASON = np.array([1.0, 1.1, 1.35, 1.4, 1.15, 0.95, 0.9, 1.0, 1.3, 1.6, 1.55, 1.1, 0.95])


def _accounts(ctx: Ctx, prefix: str, owners: pd.DataFrame, addrs: np.ndarray,
              id_share: float) -> pd.DataFrame:
    """Account rows for owners at addresses; only ``id_share`` of them carry the holder ID."""
    n = len(owners)
    acc = [prefix + f"{s:08d}" for s in ctx.serials("acc" + prefix, n, width=8)]
    keep = ctx.rng.random(n) < id_share
    return pd.DataFrame({
        "account": acc, "pid": owners["pid"].to_numpy(), "birth": owners["birth"].to_numpy(),
        "name": owners["name"].to_numpy(), "addr": addrs,
        "id_dirt": np.where(keep, "", "id_absent"), "planted": False,
    })


def random_accounts(ctx: Ctx, hh: pd.DataFrame, mem: pd.DataFrame, per_hh: float,
                    home_share: float, id_share: float, prefix: str) -> tuple[pd.DataFrame, int]:
    """Accounts for a source: households' homes, a few second accounts, everybody else."""
    rng = ctx.rng
    n_hh = len(hh)
    heads = mem[mem["relation"] == "户主"].drop_duplicates("household_id")
    heads = heads.merge(hh[["household_id", "addr"]], on="household_id")
    home = heads[rng.random(len(heads)) < home_share]
    parts = [_accounts(ctx, prefix, home, home["addr"].to_numpy(), id_share)]
    vill = ctx.world.vill
    adult = mem[mem["birth"] < ctx.D - pd.DateOffset(years=20)]
    second = adult[rng.random(len(adult)) < 0.04]
    a2 = _accounts(ctx, prefix, second, ctx.dwell.allocate(rng.integers(0, len(vill), len(second))), 1.0)
    parts.append(a2)
    n_other = max(1, int(per_hh * n_hh) - len(home) - len(second))
    pool = ctx.people(ctx.rand_dates(n_other, pd.Timestamp("1935-01-01"),
                                     pd.Timestamp("2005-01-01")).to_numpy())
    parts.append(_accounts(ctx, prefix, pool, ctx.dwell.allocate(rng.integers(0, len(vill), n_other)),
                           id_share))
    return pd.concat(parts, ignore_index=True), len(home)


def random_readings(ctx: Ctx, acc: pd.DataFrame, months: int, median_tenths: float,
                    n_home: int, decimals: bool) -> np.ndarray:
    """Monthly readings (tenths) per account; -1 where the account has no reading."""
    rng = ctx.rng
    n = len(acc)
    base = rng.lognormal(np.log(median_tenths), 0.55, n)
    base[:n_home] *= 0.7  # assistance homes consume less
    hi = rng.random(n) < 0.02
    base[hi] *= 4.0
    season = SEASON[:months] if months <= len(SEASON) else np.ones(months)
    noise = rng.lognormal(0.0, 0.18, (n, months))
    val = base[:, None] * season[None, :] * noise
    if decimals:
        r = np.round(val).astype(np.int64)
    else:
        r = np.round(val / 10).astype(np.int64) * 10
        half = rng.random((n, months)) < 0.02
        r[half] += 5
    vacant = rng.random(n) < np.where(np.arange(n) < n_home, 0.012, 0.02)
    r[vacant] = 0
    start = np.where(rng.random(n) < 0.03, rng.integers(1, months, n), 0)
    end = np.where(rng.random(n) < 0.02, rng.integers(1, months, n), months)
    idx = np.arange(months)[None, :]
    r[(idx < start[:, None]) | (idx >= end[:, None])] = -1
    gap = rng.random((n, months)) < 0.004
    r[gap] = -1
    return r


def month_frame(acc: pd.DataFrame, read: np.ndarray, k: int) -> pd.DataFrame:
    """Delivered rows of month index ``k``: accounts with a reading, in account order."""
    has = read[:, k] >= 0
    df = acc.loc[has, ["account", "d_name", "d_id", "d_addr"]].copy()
    df["tenths"] = read[has, k]
    return df  # accounts are kept sorted by account number (see world.sort_accounts)
