"""The generator's clean truth: every table as it really is, before dirt.

Truth tables hold each person's true ID (``pid``) and birth date; rows may carry
an ``id_dirt`` preset ('' = let the renderer choose, 'clean' = no dirt, or a
kind from ``ids``). Rendering adds the delivered columns (``d_*``) and the
``id_ok`` flag the reference relies on.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

from safetynet.generate.ids import IdRegistry
from safetynet.generate.regions import Dwellings, make_names

DATE_COLS = ["approved_on", "terminated_on", "joined_on", "left_on", "start_on", "end_on",
             "death_date", "cremation_date", "filed_on", "payroll_from", "payroll_to",
             "term_from", "term_to", "declared_on", "reg_on", "cancel_on", "birth",
             "staff_birth", "relative_birth", "established_on", "closed_on", "from_on", "to_on",
             "settled_on"]
"""Truth columns that hold dates (kept as datetime64[s])."""


def month_add(yyyymm: int, k: int) -> int:
    """Add ``k`` calendar months to a YYYYMM integer."""
    y, m = divmod(yyyymm, 100)
    t = y * 12 + (m - 1) + k
    return (t // 12) * 100 + t % 12 + 1


@dataclass
class World:
    """Everything generated for one deployment, truth and delivered."""

    households: int
    seed: int
    report_date: date
    regions: pd.DataFrame
    vill: pd.DataFrame
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    elec_acc: pd.DataFrame | None = None
    elec_read: np.ndarray | None = None  # accounts × 13 months, tenths of kWh, -1 = none
    water_acc: pd.DataFrame | None = None
    water_read: np.ndarray | None = None  # accounts × 12 months, tenths of m³, -1 = none
    planted: list[dict] = field(default_factory=list)
    dirt: dict[str, int] = field(default_factory=dict)
    cases: dict[str, list[str]] = field(default_factory=dict)
    warnings: dict[str, list[str]] = field(default_factory=dict)
    late: dict[str, int] = field(default_factory=dict)
    """Truth table → position of its first row appended last (``build_warnings``). Writers
    deliver those rows after the others, on random streams of their own, so every earlier
    row is delivered exactly as it was before they existed."""

    def parts(self, name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        """A truth table as (earlier rows, rows appended last); the second may be empty."""
        df = self.tables[name]
        k = self.late.get(name, len(df))
        return df.iloc[:k], df.iloc[k:]

    @property
    def d_month(self) -> int:
        """D's own calendar month as YYYYMM (the unfinished delivery)."""
        return self.report_date.year * 100 + self.report_date.month

    @property
    def months(self) -> list[int]:
        """The 12 delivered (complete, marked) months before D's month, oldest first."""
        return [month_add(self.d_month, k) for k in range(-12, 0)]

    @property
    def snapshot_dates(self) -> tuple[date, date]:
        """(older, newest) property snapshot dates: D-7 and D."""
        d = pd.Timestamp(self.report_date)
        return (d - pd.Timedelta(days=7)).date(), d.date()


class Ctx:
    """Shared generation state: seeded RNG, unique IDs, unique addresses, ID pools."""

    def __init__(self, world: World, seed: int) -> None:
        self.world = world
        self.rng = np.random.default_rng(seed)
        self.ids = IdRegistry(self.rng)
        self.dwell = Dwellings(world.vill, self.rng)
        self.D = pd.Timestamp(world.report_date)
        self._pools: dict[str, np.ndarray] = {}
        self._next: dict[str, int] = {}

    def fork(self, rng: np.random.Generator) -> Ctx:
        """The same world on another random stream: new people, addresses and serial numbers
        stay unique across both contexts, and nothing drawn here moves this context's stream."""
        sub = copy.copy(self)  # shares the world and the serial pools
        sub.rng = rng
        sub.ids = IdRegistry(rng)
        sub.ids.used = self.ids.used
        sub.dwell = Dwellings(self.world.vill, rng)
        sub.dwell.used = self.dwell.used
        return sub

    def people(self, births: np.ndarray) -> pd.DataFrame:
        """New distinct people born on ``births``: pid, birth, name."""
        b = np.asarray(births).astype("datetime64[D]")
        return pd.DataFrame({
            "pid": self.ids.allocate(b),
            "birth": pd.to_datetime(b).as_unit("s"),
            "name": make_names(self.rng, len(b)),
        })

    def person(self, birth: str | date | pd.Timestamp) -> tuple[str, pd.Timestamp, str]:
        """One new person (pid, birth, name) born on ``birth``."""
        p = self.people(np.array([np.datetime64(pd.Timestamp(birth).date(), "D")]))
        return p["pid"].iat[0], p["birth"].iat[0], p["name"].iat[0]

    def serials(self, key: str, n: int, width: int = 7) -> list[int]:
        """Draw ``n`` unused serial numbers of a series in shuffled order (IDs look random)."""
        if key not in self._pools:
            size = min(10**width - 1, 12 * self.world.households + 100_000)
            self._pools[key] = self.rng.permutation(np.arange(1, size + 1, dtype=np.int32))
            self._next[key] = 0
        i = self._next[key]
        self._next[key] = i + n
        return self._pools[key][i : i + n].tolist()

    def day(self, offset_days: int) -> pd.Timestamp:
        """D shifted by ``offset_days``."""
        return self.D + pd.Timedelta(days=offset_days)

    def rand_dates(self, n: int, lo: pd.Timestamp, hi: pd.Timestamp) -> pd.DatetimeIndex:
        """Uniform random dates in [lo, hi] (inclusive)."""
        a = np.datetime64(lo.date(), "D").astype(np.int64)
        b = max(a, np.datetime64(hi.date(), "D").astype(np.int64))
        return pd.to_datetime(self.rng.integers(a, b + 1, n).astype("datetime64[D]")).as_unit("s")


def concat_truth(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Random rows then planted rows, with date columns as datetime64[s]."""
    if len(b) == 0:
        out = a.copy()
    else:
        b = b.copy()
        for c in b.columns:
            if c in DATE_COLS:
                b[c] = pd.to_datetime(b[c]).astype("datetime64[s]")
        out = pd.concat([a, b], ignore_index=True)
    for c in out.columns:
        if c in DATE_COLS:
            out[c] = pd.to_datetime(out[c]).astype("datetime64[s]")
    return out


def sort_accounts(acc: pd.DataFrame, read: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """Order accounts (and their readings) by account number, the delivery order."""
    order = np.argsort(acc["account"].to_numpy(dtype=str), kind="stable")
    return acc.iloc[order].reset_index(drop=True), read[order]
