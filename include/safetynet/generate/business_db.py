"""Write the market-regulation registry ``sources/business.db`` (sources.md §7).

Tables ``mr_entity`` and ``mr_role`` in contract column order, dates as text in
every contract style, ``updated_at`` derived from the row's own dates (as
``dbwriter`` does), registered capital in 万元 — about a third of those of
1,000 万元 and more typed with a thousands separator — and ``share_pct`` as numbers
(at most 100, and SQLite's NUMERIC affinity turns padded text back into a number,
so it carries no number dirt). Both tables are keyed, so hold no duplicate rows.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from safetynet.generate.dbwriter import amounts, updated_at, write_db
from safetynet.generate.world import World

PATH = Path("sources") / "business.db"


def business_tables(world: World, dirt: Counter) -> dict[str, pd.DataFrame]:
    """The two delivered tables (credit_code / role_id order), the rows appended last
    (``World.late``) after the others, drawn on a stream of their own."""
    out = delivered(world, world.parts("entities")[0], world.parts("roles")[0],
                    np.random.default_rng([world.seed, 7]), dirt)
    late = delivered(world, world.parts("entities")[1], world.parts("roles")[1],
                     np.random.default_rng([world.seed, 7, 1]), dirt)
    return {k: pd.concat([v, late[k]], ignore_index=True) if len(late[k]) else v
            for k, v in out.items()}


def delivered(world: World, entities: pd.DataFrame, roles: pd.DataFrame, rng: np.random.Generator,
              dirt: Counter) -> dict[str, pd.DataFrame]:
    """``mr_entity`` and ``mr_role`` as delivered for these truth rows."""
    D = pd.Timestamp(world.report_date)
    e = entities.sort_values("credit_code", kind="stable")
    capital = amounts(e["capital100"] / 100, rng, dirt, share=0.35)
    ent = pd.DataFrame({
        "credit_code": e["credit_code"].to_numpy(), "entity_name": e["entity_name"].to_numpy(),
        "entity_kind": e["entity_kind"].to_numpy(), "status": e["status"].to_numpy(),
        "established_on": e["d_established_on"].to_numpy(), "closed_on": e["d_closed_on"].to_numpy(),
        "registered_capital": capital,
        "updated_at": updated_at(e, ["established_on", "closed_on"], D, rng)})
    r = roles.sort_values("role_id", kind="stable")
    share = (r["share100"] / 100).round(2).to_numpy(dtype=float)
    pct = share.astype(object)
    pct[np.isnan(share)] = None
    role = pd.DataFrame({
        "role_id": r["role_id"].to_numpy(), "credit_code": r["credit_code"].to_numpy(),
        "id_number": r["d_id"].to_numpy(), "name": r["d_name"].to_numpy(), "role": r["role"].to_numpy(),
        "share_pct": pct,
        "from_on": r["d_from_on"].to_numpy(), "to_on": r["d_to_on"].to_numpy(),
        "updated_at": updated_at(r, ["from_on", "to_on"], D, rng)})
    return {"mr_entity": ent, "mr_role": role}


def write_business(world: World, out: Path, dirt: Counter) -> dict[str, int]:
    """Write ``sources/business.db``; returns row counts per table."""
    tables = business_tables(world, dirt)
    write_db(out / PATH, tables)
    return {k: len(v) for k, v in tables.items()}
