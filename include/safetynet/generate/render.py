"""Turn truth into deliveries: add the ``d_*`` columns with dirt, and ``id_ok`` flags.

The flags (does the delivered ID still normalise to the true one?) are the only
thing the reference needs from here; dirt that keeps identity changes nothing
for it by construction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from safetynet.generate.ids import INVALID_KINDS, choose_kinds, render_column
from safetynet.generate.textdirt import (
    dirty_address,
    render_addresses,
    render_dates,
    render_names,
)

DATE_COLS = {
    "households": ["approved_on", "terminated_on"],
    "members": ["joined_on", "left_on"],
    "allowances": ["start_on", "end_on"],
    "cremations": ["death_date", "cremation_date"],
    "filings": ["filed_on"],
    "staff": ["payroll_from", "payroll_to"],
    "cadres": ["term_from", "term_to"],
    "relatives": ["declared_on"],
}
ASSET_DATE_COLS = {"vehicles": ["reg_on"], "entities": ["established_on", "closed_on"],
                   "roles": ["from_on", "to_on"]}


def render_ids(df: pd.DataFrame, rng: np.random.Generator, dirt: Counter, pid: str = "pid",
               birth: str = "birth", preset_col: str = "id_dirt", out: str = "d_id",
               ok: str = "id_ok") -> None:
    """Add delivered IDs and validity flags to ``df`` in place, counting dirt kinds."""
    n = len(df)
    if n == 0:
        df[out] = pd.Series(dtype=object)
        df[ok] = pd.Series(dtype=bool)
        return
    ids = df[pid].astype(str).to_numpy(dtype=object)
    births = df[birth].to_numpy()
    preset = df[preset_col].fillna("").to_numpy(dtype=object) if preset_col in df else np.full(n, "")
    auto = choose_kinds(ids, births, rng)
    auto_safe = ~np.isin(auto.astype(str), list(INVALID_KINDS))
    kinds = np.where(preset == "", auto, preset).astype(object)
    kinds[(preset == "safe") & auto_safe] = auto[(preset == "safe") & auto_safe]
    kinds[(preset == "safe") & ~auto_safe] = ""
    kinds[preset == "clean"] = ""
    delivered, valid = render_column(ids, kinds, rng)
    if "id_fixed" in df and out == "d_id":
        fx = df["id_fixed"].to_numpy(dtype=object)
        has = pd.notna(fx)
        delivered[has] = fx[has]
    df[out] = delivered
    df[ok] = valid
    count_into(dirt, kinds)


def count_into(dirt: Counter, kinds: np.ndarray) -> None:
    """Add the non-empty kinds (combined ones split on '+') to ``dirt``."""
    vc = pd.Series(np.asarray(kinds, dtype=object)).value_counts()
    for k, c in vc.items():
        for part in str(k).split("+"):
            if part:
                dirt[part] += int(c)


def render_world(tables: dict[str, pd.DataFrame], rng: np.random.Generator, dirt: Counter) -> None:
    """Render every truth table in a fixed order (determinism depends on it)."""
    for name in ("members", "allowances", "cremations", "filings", "staff", "cadres", "relatives",
                 "property", "elec", "water"):
        df = tables[name]
        if name == "relatives":
            render_ids(df, rng, dirt, pid="relative_pid", birth="relative_birth")
            render_ids(df, rng, dirt, pid="staff_pid", birth="staff_birth",
                       preset_col="staff_id_dirt", out="d_staff_id", ok="staff_id_ok")
        else:
            render_ids(df, rng, dirt)
        if name == "filings":
            render_ids(df, rng, dirt, pid="staff_pid", birth="staff_birth",
                       preset_col="staff_id_dirt", out="d_staff_id", ok="staff_id_ok")
        ncol = "relative_name" if name == "relatives" else "name"
        if ncol in df:
            df["d_name"], kinds = render_names(df[ncol].to_numpy(dtype=object), rng)
            count_into(dirt, kinds)
    _render_date_columns(tables, DATE_COLS, rng, dirt)
    prefix_p = {"households": (0.2, 0.1, 0.4, 0.3), "property": (0.7, 0.1, 0.1, 0.1),
                "elec": (0.5, 0.1, 0.2, 0.2), "water": (0.3, 0.2, 0.2, 0.3)}
    for name, pp in prefix_p.items():
        df = tables[name]
        canon = df["addr"].to_numpy(dtype=object)
        d_addr, kinds, pidx = render_addresses(canon, rng, prefix_p=pp)
        if "addr_dirt" in df:
            pre = df["addr_dirt"].fillna("").to_numpy(dtype=object)
            for i in np.flatnonzero(pre != ""):
                d_addr[i] = "江西省上饶市广丰区" + dirty_address(canon[i], pre[i], rng)
                kinds[i] = pre[i]
                pidx[i] = 0
        df["d_addr"] = d_addr
        count_into(dirt, kinds)
        for k, label in enumerate(("addr_prefix_full", "addr_prefix_city", "addr_prefix_county",
                                   "addr_no_prefix")):
            dirt[label] += int((pidx == k).sum())


def render_assets(tables: dict[str, pd.DataFrame], rng: np.random.Generator, dirt: Counter) -> None:
    """Render the vehicle and market-registry truth (own RNG: the other tables stay as they were)."""
    for name in ("vehicles", "roles"):
        df = tables[name]
        render_ids(df, rng, dirt)
        df["d_name"], kinds = render_names(df["name"].to_numpy(dtype=object), rng)
        count_into(dirt, kinds)
    _render_date_columns(tables, ASSET_DATE_COLS, rng, dirt)


def _render_date_columns(tables: dict[str, pd.DataFrame], columns: Mapping[str, Sequence[str]],
                         rng: np.random.Generator, dirt: Counter) -> None:
    """Each named date column rendered with dirt into its ``d_`` column."""
    for name, cols in columns.items():
        df = tables[name]
        for c in cols:
            df["d_" + c], kinds = render_dates(df[c], rng)
            count_into(dirt, kinds)
