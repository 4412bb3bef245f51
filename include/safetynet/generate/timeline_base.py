"""The state a :class:`~safetynet.generate.timeline.Timeline` works on.

A generated deployment folder plus the generator's truth rebuilt from the same
arguments (``build_world(households, seed, report_date)``), checked against the
``expected_cases.json`` the folder was written with. The truth tables are kept
as they stand at the sources (events change them together with the delivered
files and databases), and the independent reference is told of every delivery
the deployment starts with.

Only ``safetynet.generate`` modules are imported here: never pipeline code.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import yaml

from safetynet.generate.build import build_world
from safetynet.generate.ids import BIRTHPLACES, check_char
from safetynet.generate.reference_ledger import PERSONNEL_TABLES, PROPERTY_COLS
from safetynet.generate.reference_timeline import (
    BUSINESS,
    CIVIL,
    OPTIONAL_SOURCES,
    TimelineReference,
)
from safetynet.generate.regions import make_names
from safetynet.generate.world import World

SOURCE_TABLES = {"electricity": "elec", "water": "water"}
"""Utility source name → truth table name."""
FILE_PATTERNS = {"electricity": "DL_{}.csv", "water": "SS_{}.txt", "property": "BDC_QLR_{}.xlsx",
                 "vehicles": "JDC_{}.csv"}
FUTURE = "2099-01-01 00:00:00"
"""A skewed source clock's ``updated_at``."""
INCREMENTAL = ("sa_household", "sa_member", "sa_allowance", "sa_cremation")
"""Civil-affairs tables extracted incrementally by ``updated_at``."""
LOCAL = ZoneInfo("Asia/Shanghai")


class TimelineError(RuntimeError):
    """The deployment and the rebuilt truth disagree, or an event names nothing."""


def stamp(day: date, updated_at: str | datetime | None = None) -> str:
    """``updated_at`` text for an event: given, else the event day at 08:00."""
    if updated_at is None:
        updated_at = datetime.combine(day, time(8, 0))
    return updated_at if isinstance(updated_at, str) else f"{updated_at:%Y-%m-%d %H:%M:%S}"


class TimelineBase:
    """Deployment paths, truth as it stands, the reference, and small helpers."""

    def __init__(self, config: str | Path) -> None:
        self.config = Path(config).resolve()
        self.root = self.config.parent
        self.raw = yaml.safe_load(self.config.read_text("utf-8"))
        exp = json.loads((self.root / "expected_cases.json").read_text("utf-8"))
        self.start = date.fromisoformat(exp["report_date"])
        self.world: World = build_world(exp["households"], exp["seed"], self.start)
        if self.world.cases != exp["cases"]:
            raise TimelineError("the rebuilt truth does not give the deployment's expected cases")
        self.seed = int(exp["seed"])
        # the optional sources this deployment configures (the rule of another is not run)
        self.optional = tuple(s for s in OPTIONAL_SOURCES if s in self.raw["sources"])
        business = BUSINESS if "business" in self.optional else ()
        self.t: dict[str, pd.DataFrame] = {k: self.world.tables[k].copy() for k in
                                           (*CIVIL, *PERSONNEL_TABLES, *business)}
        self._check_databases()
        floor = (self.raw.get("validation") or {}).get("volume_floor", 0.5)
        self.ref = TimelineReference(
            {"electricity": self.world.tables["elec"], "water": self.world.tables["water"]},
            rules=self.raw.get("rules"), volume_floor=float(floor), optional=self.optional)
        self.registry = self.world.tables["property"][self.world.tables["property"]["in_new"]] \
            .reset_index(drop=True)
        self.truth_read: dict[str, dict[int, np.ndarray]] = {s: {} for s in SOURCE_TABLES}
        self._serial = 0
        self.watermarks: dict[str, str] = {}
        self._deliver_initial()

    # ------------------------------------------------------------------ set-up
    def _check_databases(self) -> None:
        with sqlite3.connect(self.db_path("civil_affairs")) as con:
            ids = {h for (h,) in con.execute("SELECT household_id FROM sa_household")}
        if ids != set(self.t["households"]["household_id"]):
            raise TimelineError(f"{self.db_path('civil_affairs')} is not the rebuilt truth's")

    def _deliver_initial(self) -> None:
        old_d, new_d = self.world.snapshot_dates
        prop = self.world.tables["property"]
        old = prop[prop["in_old"]].copy()
        old.loc[old["cancel_on"] > pd.Timestamp(old_d), "cancel_on"] = pd.NaT
        for snap, rows in ((old_d, old), (new_d, prop[prop["in_new"]])):
            self.ref.ledger.deliver("property", FILE_PATTERNS["property"].format(f"{snap:%Y%m%d}"),
                                    f"{snap:%Y%m%d}", len(rows), snapshot_content(rows))
        for source, tab in SOURCE_TABLES.items():
            read = self.world.elec_read if tab == "elec" else self.world.water_read
            assert read is not None
            for k, month in enumerate(self.world.months):
                vec = read[:, k].copy()
                self.truth_read[source][month] = vec
                self.ref.ledger.deliver(source, FILE_PATTERNS[source].format(month), str(month),
                                        int((vec >= 0).sum()), vec)
        assert self.world.elec_read is not None
        self.truth_read["electricity"][self.world.d_month] = self.world.elec_read[:, 12].copy()

    # ------------------------------------------------------------------ paths and SQL
    def db_path(self, source: str) -> Path:
        """The SQLite file of a database source (``sqlite:///`` URLs, relative to the config)."""
        url = self.raw["sources"][source]["url"]
        if not url.startswith("sqlite:///"):
            raise TimelineError(f"{source} is not a SQLite source: events need sqlite:/// URLs")
        path = Path(url[len("sqlite:///"):])
        return path if path.is_absolute() else self.root / path

    def drop(self, source: str) -> Path:
        """The local drop folder of a file source."""
        return self.root / self.raw["sources"][source]["location"]

    def sql(self, source: str, statement: str, params: tuple = ()) -> int:
        """Execute one statement on a source database; returns the rows it changed."""
        with sqlite3.connect(self.db_path(source)) as con:
            return con.execute(statement, params).rowcount

    def distinct_rows(self) -> dict[str, int]:
        """Distinct rows of each personnel table as the database stands (what is staged)."""
        with sqlite3.connect(self.db_path("personnel")) as con:
            return {t: con.execute(f"SELECT COUNT(*) FROM (SELECT DISTINCT * FROM {t})").fetchone()[0]
                    for t in PERSONNEL_TABLES.values()}

    # ------------------------------------------------------------------ updated_at
    def advance_watermarks(self, day: date, now: datetime | None = None) -> None:
        """What a run for ``day`` made now extracts up to: per incremental table, the newest
        ``updated_at`` not after the cut-off (the earlier of now and the end of ``day``)."""
        now = now or datetime.now(LOCAL).replace(tzinfo=None)
        cut = f"{min(now, datetime.combine(day + timedelta(days=1), time(0))):%Y-%m-%d %H:%M:%S}"
        with sqlite3.connect(self.db_path("civil_affairs")) as con:
            for table in INCREMENTAL:
                top = con.execute(f"SELECT MAX(updated_at) FROM {table} WHERE updated_at <= ?",
                                  (cut,)).fetchone()[0]
                if top and top > self.watermarks.get(table, ""):
                    self.watermarks[table] = str(top)

    def when(self, table: str, day: date, updated_at: str | datetime | None) -> str:
        """``updated_at`` for a change of ``table`` made on ``day``.

        By default the day at 08:00 — or, when runs already extracted past that
        (the change is made for a back-filled day, but it is made now), one minute
        after the table's watermark: a real change is never stamped before what was
        already read. An explicit value below the watermark is refused: incremental
        extraction would never see it, and the reference does not model lost changes.
        """
        mark = self.watermarks.get(table, "")
        if updated_at is not None:
            given = stamp(day, updated_at)
            if given < mark:
                raise TimelineError(f"{table}: updated_at {given} is before the watermark {mark}")
            return given
        given = stamp(day)
        if given < mark:
            given = f"{datetime.fromisoformat(mark) + timedelta(minutes=1):%Y-%m-%d %H:%M:%S}"
        return given

    # ------------------------------------------------------------------ people
    def person(self, pid: str) -> dict:
        """pid, birth and name of someone in the truth (members, allowances, staff)."""
        for tab in ("members", "allowances", "staff", "cadres"):
            hit = self.t[tab][self.t[tab]["pid"] == pid]
            if len(hit):
                return {"pid": pid, "birth": hit["birth"].iat[0], "name": hit["name"].iat[0]}
        raise TimelineError(f"nobody in the truth has the ID {pid[:6]}…")

    def fresh_person(self, birth: str | date = "1970-06-15") -> dict:
        """A brand-new person (valid ID no table holds) born on ``birth``."""
        b = pd.Timestamp(birth)
        taken = set().union(*(set(self.t[k]["pid"]) for k in ("members", "allowances", "staff")))
        taken |= set(self.registry["pid"].dropna())
        taken |= set(self.world.tables["vehicles"]["pid"]) | set(self.world.tables["roles"]["pid"])
        while True:
            self._serial += 1
            rng = np.random.default_rng([self.seed, 90, self._serial])
            body = f"{BIRTHPLACES[0]}{b:%Y%m%d}{int(rng.integers(0, 1000)):03d}"
            pid = body + check_char(body)
            if pid not in taken:
                return {"pid": pid, "birth": b, "name": str(make_names(rng, 1)[0])}

    def next_serial(self) -> int:
        """A number unique within this timeline (record ids, unit numbers)."""
        self._serial += 1
        return self._serial


def snapshot_content(rows: pd.DataFrame) -> pd.DataFrame:
    """A snapshot's truth rows as the reference takes them (``PROPERTY_COLS``)."""
    return rows.assign(in_new=True)[PROPERTY_COLS].reset_index(drop=True)
