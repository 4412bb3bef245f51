"""Rows planted for the warnings are appended last and never change an earlier delivered row.

``build_warnings`` appends its households, members, units, accounts, vehicles and
roles after every earlier truth row (``World.late``); each writer delivers them
after the others on a random stream of its own. Writing the world without them
must give exactly the first rows of every delivery written with them.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from safetynet.generate.business_db import business_tables
from safetynet.generate.dbwriter import TRUTH, delivered_tables, write_db
from safetynet.generate.property_xlsx import snapshot_frame
from safetynet.generate.utility_files import month_rows
from safetynet.generate.vehicles_csv import snapshot_rows
from safetynet.generate.world import World


@pytest.fixture(scope="module")
def earlier(world: World) -> World:
    """The same world without the rows appended last."""
    assert {"households", "members", "elec", "property", "vehicles", "roles"} <= set(world.late)
    tables = {k: world.parts(k)[0].reset_index(drop=True) for k in world.tables}
    return dataclasses.replace(world, tables=tables, late={},
                               elec_read=world.elec_read[: world.late["elec"]])  # type: ignore[index]


def _prefix(a: pd.DataFrame, b: pd.DataFrame) -> None:
    assert len(b) > len(a)
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.iloc[: len(a)].reset_index(drop=True),
                                  check_dtype=False)  # a text column may widen to object


def test_utility_months(world: World, earlier: World) -> None:
    for k in range(13):
        _prefix(month_rows(earlier, "elec", k, None), month_rows(world, "elec", k, None))
    pd.testing.assert_frame_equal(month_rows(earlier, "water", 11, None),
                                  month_rows(world, "water", 11, None))


def test_snapshots(world: World, earlier: World) -> None:
    for newest in (True, False):
        _prefix(snapshot_rows(earlier.tables["vehicles"], newest, world.seed, None),
                snapshot_rows(world.tables["vehicles"], newest, world.seed, None, world.late["vehicles"]))
        snap = world.snapshot_dates[int(newest)]
        _prefix(snapshot_frame(earlier.tables["property"], snap, newest, world.seed, Counter()),
                snapshot_frame(world.tables["property"], snap, newest, world.seed, Counter(),
                               world.late["property"]))


def test_market_registry(world: World, earlier: World) -> None:
    before, after = business_tables(earlier, Counter()), business_tables(world, Counter())
    for table in ("mr_entity", "mr_role"):
        _prefix(before[table], after[table])


def test_databases(deployment: Path, earlier: World, tmp_path: Path) -> None:
    rng = np.random.default_rng([earlier.seed, 2])
    ca, pe = delivered_tables(earlier, {n: earlier.tables[n] for n in TRUTH}, rng, Counter())
    for db, tables in (("civil_affairs", ca), ("personnel", pe)):
        write_db(tmp_path / f"{db}.db", tables)
        old, new = sqlite3.connect(tmp_path / f"{db}.db"), sqlite3.connect(
            deployment / "sources" / f"{db}.db")
        for t in tables:
            a = old.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall()
            b = new.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall()
            assert b[: len(a)] == a, t
            assert len(b) > len(a) or t in ("sa_relative_filing", "hr_village_cadre", "hr_relative")
