"""Build stage for the hardship warnings: the medical truth and the planted H01–H04 scenarios.

Runs after every other source's truth is drawn, planted and rendered, on random
streams of its own (:data:`STREAM` for drawing and planting, :data:`RENDER` for
dirt), so every earlier truth row and its delivered values stay exactly what they
were: the planted households, members, allowances, cremations, staff, units,
accounts, vehicles and roles are appended to the truth tables after them (the
writers deliver them last, see ``World.late``), and the settlements go to a new
table ``medical``.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from safetynet.generate import medical, scenarios_warnings
from safetynet.generate.planting import Planter
from safetynet.generate.render import count_into, render_assets, render_ids, render_world
from safetynet.generate.scenarios_medical import plant_h01
from safetynet.generate.textdirt import render_dates, render_names
from safetynet.generate.world import Ctx, World, concat_truth

STREAM = 8
RENDER = 9
RENDERED = ("id_ok", "staff_id_ok")
"""Columns rendering adds besides the ``d_*`` ones (dropped before rendering planted rows again)."""


def _truth_columns(df: pd.DataFrame) -> list[str]:
    return [c for c in df.columns if not c.startswith("d_") and c not in RENDERED]


def append_planted(world: World, rows: dict[str, pd.DataFrame], reads: dict[str, list[np.ndarray]],
                   rng: np.random.Generator, dirt: Counter) -> None:
    """Render planted rows (``Planter.frames``) on ``rng`` and append them to the truth tables
    (utility readings too), marking where they start (:attr:`World.late`)."""
    t = world.tables
    new = {name: concat_truth(t[name].iloc[:0][_truth_columns(t[name])], df)
           for name, df in rows.items()}
    render_world(new, rng, dirt)
    render_assets(new, rng, dirt)
    for name, df in new.items():
        if len(df):
            world.late[name] = len(t[name])
            t[name] = pd.concat([t[name], df], ignore_index=True)
    for source in ("elec", "water"):
        if reads[source]:
            read = world.elec_read if source == "elec" else world.water_read
            assert read is not None and len(read) == world.late[source]
            stacked = np.vstack([read, *reads[source]])
            if source == "elec":
                world.elec_read = stacked
            else:
                world.water_read = stacked


def render_settlements(med: pd.DataFrame, rng: np.random.Generator, dirt: Counter) -> pd.DataFrame:
    """Number the settlements and add their delivered IDs, names and settlement dates."""
    med = medical.number(med, rng)
    render_ids(med, rng, dirt)
    med["d_name"], kinds = render_names(med["name"].to_numpy(dtype=object), rng)
    count_into(dirt, kinds)
    med["d_settled_on"], kinds = render_dates(med["settled_on"], rng)
    count_into(dirt, kinds)
    return med


def add_warnings(world: World, ctx: Ctx, reps: int, dirt: Counter) -> int:
    """Draw the settlements, plant H01–H04 ``reps`` times, render and append; returns the
    number of settlements."""
    sub = ctx.fork(np.random.default_rng([world.seed, STREAM]))
    drawn = medical.random_settlements(sub)
    p = Planter(sub)
    for _ in range(reps):
        plant_h01(p)
        for plant in scenarios_warnings.ALL:
            plant(p)
    rows = p.frames()
    planted = concat_truth(drawn.iloc[:0], rows.pop("medical"))
    rng = np.random.default_rng([world.seed, RENDER])
    append_planted(world, rows, p.reads, rng, dirt)
    world.tables["medical"] = render_settlements(
        pd.concat([drawn, planted], ignore_index=True), rng, dirt)
    world.planted = [*world.planted, *p.inventory]
    return len(world.tables["medical"])
