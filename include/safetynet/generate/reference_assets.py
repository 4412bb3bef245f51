"""Independent reference, R11 and R12: active members' vehicles and market-entity roles.

Like ``reference`` this module must not import anything from ``safetynet``; it
implements rules.md ("Who is covered on D": a vehicle is held / exempt, a market
entity operates, a role stands) over the generator's truth. Only valid delivered
IDs join (``id_ok``); ``members`` are the valid true IDs of the active members.

* ``vehicles`` holds the rows of the snapshot in force on D (rows with ``in_new``
  false are not in it), each with the status that snapshot shows (``status``).
* ``entities`` and ``roles`` hold the market registry as it stands (credit codes
  are delivered clean and join as they are).
"""

from __future__ import annotations

import pandas as pd

NOT_HELD = ("转出", "注销", "报废", "被盗抢")
"""Vehicle statuses under which a vehicle is no longer held."""
OWNER_ID_KIND = "居民身份证"
EXEMPT_TYPE = "残疾人专用"
HOLDER_ROLES = ("LEGAL_REP", "OPERATOR", "SHAREHOLDER")


def held_vehicles(veh: pd.DataFrame, D: pd.Timestamp, exempt_plate_kinds: list[str]) -> pd.DataFrame:
    """Vehicles held on D that are not exempt, with a valid owner ID (``pid`` joins)."""
    v = veh[veh["in_new"].astype(bool) & (veh["owner_kind"] == OWNER_ID_KIND)
            & veh["id_ok"].astype(bool) & (veh["reg_on"] <= D) & ~veh["status"].isin(NOT_HELD)]
    exempt = v["vtype"].astype(str).str.contains(EXEMPT_TYPE, regex=False) | v["plate_kind"].isin(
        list(exempt_plate_kinds))
    return v[~exempt]


def vehicle_owners(veh: pd.DataFrame, members: set[str], D: pd.Timestamp,
                   exempt_plate_kinds: list[str]) -> set[str]:
    """R11 case keys: active members holding on D a vehicle that is not exempt."""
    held = held_vehicles(veh, D, exempt_plate_kinds)["pid"].unique()
    return {f"R11:{p}" for p in set(held.tolist()) & members}


def standing_roles(entities: pd.DataFrame, roles: pd.DataFrame, D: pd.Timestamp) -> pd.DataFrame:
    """Standing LEGAL_REP/OPERATOR/SHAREHOLDER roles, valid ID, in entities operating on D."""
    e = entities
    operating = e[(e["status"] == "OPERATING") & (e["established_on"] <= D)
                  & (e["closed_on"].isna() | (e["closed_on"] > D))]
    r = roles
    r = r[r["id_ok"].astype(bool) & r["role"].isin(HOLDER_ROLES) & (r["from_on"] <= D)
          & (r["to_on"].isna() | (r["to_on"] > D))]
    return r.merge(operating[["credit_code"]], on="credit_code")


def business_registrants(entities: pd.DataFrame, roles: pd.DataFrame, members: set[str],
                         D: pd.Timestamp) -> set[str]:
    """R12 case keys: active members holding a standing role of R12's kinds in an operating entity."""
    holders = standing_roles(entities, roles, D)["pid"].unique()
    return {f"R12:{p}" for p in set(holders.tolist()) & members}
