"""Independent reference: who is covered on D, and which property rights stand (rules.md).

Shared by the rules (``reference``) and the hardship warnings (``reference_warnings``);
like them it must not import anything from ``safetynet``. Only valid delivered IDs
join: a row's true ID counts only where ``id_ok`` says the delivered value still
normalises to a valid number.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd


def valid_id(df: pd.DataFrame, pid: str = "pid", ok: str = "id_ok") -> pd.Series:
    """True ID where the delivered value is valid, else None (joins nothing)."""
    return df[pid].where(df[ok].astype(bool), None)


class Coverage(NamedTuple):
    """Who is covered on D (rules.md): active households, their active members (``vid``: the
    valid true ID or None, ``bstart``: the benefit interval's start), active allowances, and the
    beneficiaries' valid IDs."""

    households: pd.DataFrame
    members: pd.DataFrame
    allowances: pd.DataFrame
    beneficiaries: set[str]


def coverage(t: dict[str, pd.DataFrame], D: pd.Timestamp) -> Coverage:
    """Active households, active members, active allowances and beneficiaries on ``D``."""
    hh = t["households"][["household_id", "status", "approved_on", "terminated_on", "addr"]]
    act_hh = hh[(hh["status"] == "ACTIVE") & (hh["approved_on"] <= D)
                & (hh["terminated_on"].isna() | (hh["terminated_on"] > D))]
    m = t["members"][["household_id", "pid", "id_ok", "d_id", "joined_on", "left_on"]].merge(
        act_hh[["household_id", "approved_on"]], on="household_id")
    m = m[(m["joined_on"] <= D) & (m["left_on"].isna() | (m["left_on"] > D))].copy()
    m["vid"] = valid_id(m)
    m["bstart"] = np.maximum(m["approved_on"], m["joined_on"])
    al = t["allowances"]
    act_al = al[(al["start_on"] <= D) & (al["end_on"].isna() | (al["end_on"] > D))].copy()
    act_al["vid"] = valid_id(act_al)
    benef = set(m["vid"].dropna()) | set(act_al["vid"].dropna())
    return Coverage(act_hh, m, act_al, benef)


def standing_units(prop: pd.DataFrame, D: pd.Timestamp) -> pd.DataFrame:
    """Owner rows of units whose right stands on D in the newest snapshot, owner ID kind 身份证
    with a valid delivered ID (``pid`` joins)."""
    pr = prop[["unit", "owner_kind", "pid", "id_ok", "use", "reg_on", "cancel_on", "in_new"]]
    return pr[pr["in_new"].astype(bool) & (pr["owner_kind"] == "身份证")
              & pr["id_ok"].astype(bool) & (pr["reg_on"] <= D)
              & (pr["cancel_on"].isna() | (pr["cancel_on"] > D))]
