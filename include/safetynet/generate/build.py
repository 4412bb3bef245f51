"""Build the whole world in memory: random truth, planted scenarios, dirt, reference.

Separate from writing so tests can look at the truth next to the files. The
vehicle and market registries (R11, R12) are planted and drawn after everything
else, so the other sources' random truth is what it was before they existed; the
medical settlements and the hardship warnings' scenarios (``build_warnings``) come
last of all, on random streams of their own.
"""

from __future__ import annotations

import gc
from collections import Counter
from datetime import date

import numpy as np

from safetynet.generate import (
    business,
    civil,
    personnel,
    property,
    reference,
    reference_warnings,
    scenarios,
    scenarios_assets,
    utilities,
    vehicles,
)
from safetynet.generate.build_warnings import add_warnings
from safetynet.generate.planting import Planter
from safetynet.generate.regions import build_regions, villages
from safetynet.generate.render import render_assets, render_world
from safetynet.generate.world import Ctx, World, sort_accounts
from safetynet.generate.world import concat_truth as _concat
from safetynet.progress import stage


def release_memory() -> None:
    """Hand freed Arrow buffers back to the OS between big stages (keeps the peak down)."""
    gc.collect()
    try:
        import pyarrow as pa

        pa.default_memory_pool().release_unused()
    except ImportError:  # pragma: no cover - pyarrow is a dependency
        pass


def planted_reps(households: int) -> int:
    """How many times each scenario is planted: once plus once per 10,000 households."""
    return 1 + households // 10000


def build_world(households: int = 2000, seed: int = 7,
                report_date: date = date(2026, 11, 20)) -> World:
    """Generate truth, plant the scenarios, render dirt and compute the reference."""
    rng0 = np.random.default_rng([seed, 0])
    regions = build_regions(rng0)
    world = World(households, seed, report_date, regions, villages(regions))
    ctx = Ctx(world, seed)
    t = world.tables
    with stage("generate: civil affairs", households, unit="households") as st:
        hh, mem = civil.random_households(ctx, households)
        allow = civil.random_allowances(ctx, mem, households)
        crem = civil.random_cremations(ctx, hh, mem, allow)
        st.advance(households)
    with stage("generate: personnel", unit="staff, cadre and relative records") as st:
        staff = personnel.random_staff(ctx, hh, mem)
        cadres = personnel.random_cadres(ctx, hh, mem)
        rel, fil = personnel.random_relatives(ctx, hh, mem, staff, cadres)
        st.advance(len(staff) + len(cadres) + len(rel))
    with stage("generate: property", households * 5, unit="property rows") as st:
        prop = property.random_property(ctx, hh, mem, households * 5)
        st.advance(len(prop))
        release_memory()
    with stage("generate: utilities", households * 4, unit="utility accounts") as st:
        eacc, n_e = utilities.random_accounts(ctx, hh, mem, 2.5, 0.95, 0.45, "03")
        eread = utilities.random_readings(ctx, eacc, 13, 1300.0, n_e, decimals=False)
        wacc, n_w = utilities.random_accounts(ctx, hh, mem, 1.5, 0.55, 0.3, "20")
        wread = utilities.random_readings(ctx, wacc, 12, 90.0, n_w, decimals=True)
        st.advance(len(eacc) + len(wacc))
        release_memory()
    with stage("generate: planted cases", unit="planted cases") as st:
        p = Planter(ctx)
        scenarios.plant_all(p, planted_reps(households))
        scenarios_assets.plant_assets(p, planted_reps(households))
        f = p.frames()
        t["households"] = _concat(hh, f["households"])
        t["members"] = _concat(mem, f["members"])
        t["allowances"] = _concat(allow, f["allowances"])
        t["cremations"] = _concat(crem, f["cremations"])
        t["staff"] = _concat(staff, f["staff"])
        t["cadres"] = _concat(cadres, f["cadres"])
        t["relatives"] = _concat(rel, f["relatives"])
        t["filings"] = _concat(fil, f["filings"])
        t["property"] = _concat(prop, f["property"])
        t["elec"] = _concat(eacc, f["elec"])
        t["water"] = _concat(wacc, f["water"])
        world.elec_read = np.vstack([eread, *p.reads["elec"]]) if p.reads["elec"] else eread
        world.water_read = np.vstack([wread, *p.reads["water"]]) if p.reads["water"] else wread
        world.planted = p.inventory
        t["elec"], world.elec_read = sort_accounts(t["elec"], world.elec_read)
        t["water"], world.water_read = sort_accounts(t["water"], world.water_read)
        st.advance(len(p.inventory))
        release_memory()
    with stage("generate: vehicles and market entities", households * 3,
               unit="vehicles, entities and roles") as st:
        ent, roles = business.random_business(ctx, hh, mem)
        veh = vehicles.random_vehicles(ctx, mem, ent, households)
        t["entities"] = _concat(ent, f["entities"])
        t["roles"] = _concat(roles, f["roles"])
        t["vehicles"] = _concat(veh, f["vehicles"]).sort_values("plate").reset_index(drop=True)
        st.advance(len(veh) + len(ent) + len(roles))
        del ent, roles, veh
        release_memory()
    with stage("generate: dirt", unit="dirtied values") as st:
        dirt: Counter = Counter()
        render_world(t, np.random.default_rng([seed, 1]), dirt)
        render_assets(t, np.random.default_rng([seed, 5]), dirt)
        st.advance(sum(dirt.values()))
        release_memory()
    with stage("generate: medical settlements and planted warnings", unit="settlements") as st:
        st.advance(add_warnings(world, ctx, planted_reps(households), dirt))
        world.dirt = dict(dirt)
        release_memory()
    with stage("generate: reference", unit="expected cases and warnings") as st:
        world.cases = run_reference(world)
        world.warnings = run_warnings(world)
        st.advance(sum(len(v) for v in (*world.cases.values(), *world.warnings.values())))
    check_planted(world)
    return world


def run_reference(world: World, extra_elec_months: tuple[int, ...] = ()) -> dict[str, list[str]]:
    """Evaluate the reference on the world's loaded months (optionally some extra ones)."""
    t = world.tables
    e_lab = [*world.months, world.d_month]
    elec = (t["elec"], world.elec_read, e_lab, [*world.months, *extra_elec_months])
    water = (t["water"], world.water_read, world.months, world.months)
    return reference.evaluate(t, elec, water, world.report_date)


def run_warnings(world: World) -> dict[str, list[str]]:
    """Evaluate the warnings' reference on the world's loaded electricity and medical months."""
    t = world.tables
    elec = (t["elec"], world.elec_read, [*world.months, world.d_month], world.months)
    return reference_warnings.evaluate(t, elec, world.months, world.report_date)


def check_planted(world: World) -> None:
    """Fail loudly if a planted case (warning) is missing from its own rule's cases (warning's
    keys; so it must have been evaluated) or a near miss became a case or warning of any kind."""
    found = {**world.cases, **world.warnings}
    allc = {k for v in found.values() for k in v}
    own = {r: set(v) for r, v in found.items()}
    missing = [p for p in world.planted
               if p["kind"] in ("case", "warning") and p["key"] not in own.get(p["rule"], set())]
    raised = [p for p in world.planted if p["kind"] == "near_miss" and p["key"] in allc]
    if missing or raised:
        raise AssertionError(f"planted inventory inconsistent with reference: missing "
                             f"{missing[:5]}, near misses raised {raised[:5]}")
