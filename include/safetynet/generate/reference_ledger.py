"""Independent reference, part 1: which delivery is in force (volume guard, acceptances).

Like ``reference`` this module must not import anything from ``safetynet``: it
re-implements, from ../shared/contract/sources.md and docs/over-time.md only,
what the warehouse keeps when partners deliver over time. It sees deliveries
as plain data the timeline hands it (a snapshot's truth rows, a month's
readings vector, a table's row count) and never reads a file.

The choices it encodes (docs/over-time.md):

* a run for D considers the newest snapshot (property, vehicles) dated on or before
  D, every utility month file up to D's month, and every personnel table (read in full);
* a full delivery is refused when its row count is below ``volume_floor`` × the
  rows of the previous accepted delivery of the same item (a re-sent month: that
  month; a new month: the newest accepted month before it; a snapshot: the newest
  accepted snapshot dated before it; a table: its last accepted read) unless an
  operator accepted it; the first delivery has no yardstick;
* a refusal refuses the source's whole batch of that run: nothing of it loads and
  the source is stale on D; the last good data stays in force.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd

FILE_SOURCES = ("property", "electricity", "water", "vehicles")
SNAPSHOT_SOURCES = ("property", "vehicles")
"""File sources delivered as weekly full snapshots (the newest dated on or before D is in force)."""
PERSONNEL_TABLES = {"staff": "hr_staff", "cadres": "hr_village_cadre", "relatives": "hr_relative"}
"""Truth table name → personnel table name (every personnel table is read in full)."""
PROPERTY_COLS = ["unit", "owner_kind", "pid", "id_ok", "use", "reg_on", "cancel_on", "in_new"]
VEHICLE_COLS = ["plate", "plate_kind", "vtype", "owner_kind", "pid", "id_ok", "reg_on", "status",
                "in_new"]
"""A vehicle snapshot's truth rows, ``status`` as that snapshot shows it."""


@dataclass(frozen=True)
class Delivery:
    """One delivered file as the reference sees it.

    ``tag`` is the snapshot date ``YYYYMMDD`` or the month ``YYYYMM``; ``rows`` the
    rows staged (distinct, parseable); ``content`` the snapshot's truth rows
    (``PROPERTY_COLS``) or the month's readings per account (tenths, -1 = none).
    """

    source: str
    item: str
    tag: str
    version: int
    rows: int
    content: object


def _passes(rows: int, yardstick: int | None, floor: float, accepted: bool) -> bool:
    """The volume guard: no yardstick, accepted by an operator, or at least floor × yardstick."""
    return accepted or yardstick is None or rows >= floor * yardstick


@dataclass
class Ledger:
    """Deliveries on the drops, what is loaded, and the operators' acceptances."""

    volume_floor: float = 0.5
    files: dict[tuple[str, str], Delivery] = field(default_factory=dict)
    loaded: dict[tuple[str, str], Delivery] = field(default_factory=dict)
    accepted_files: set[tuple[str, str, int]] = field(default_factory=set)
    accepted_tables: set[str] = field(default_factory=set)
    table_rows: dict[str, int] = field(default_factory=dict)
    personnel: dict[str, pd.DataFrame] = field(default_factory=dict)
    _version: int = 0

    def deliver(self, source: str, item: str, tag: str, rows: int, content: object) -> Delivery:
        """A complete file (with its marker) appears, replacing any file of that name."""
        self._version += 1
        d = Delivery(source, item, tag, self._version, rows, content)
        self.files[(source, item)] = d
        return d

    def accept(self, source: str, item: str) -> None:
        """An operator accepts a refused file (its current version) or a table's next read."""
        if (source, item) in self.files:
            self.accepted_files.add((source, item, self.files[(source, item)].version))
        else:
            self.accepted_tables.add(item)

    # ------------------------------------------------------------------ files
    def _candidates(self, source: str, d: date) -> list[Delivery]:
        """The files a run for ``d`` considers that are not loaded as they stand."""
        mine = sorted((x for (s, _), x in self.files.items() if s == source),
                      key=lambda x: (x.tag, x.item))
        if source in SNAPSHOT_SOURCES:
            mine = [x for x in mine if x.tag <= f"{d:%Y%m%d}"][-1:]
        else:
            mine = [x for x in mine if x.tag <= f"{d:%Y%m}"]
        return [x for x in mine if self.loaded.get((source, x.item)) != x]

    def _yardstick(self, x: Delivery, pending: dict[tuple[str, str], Delivery]) -> int | None:
        if x.source not in SNAPSHOT_SOURCES and (x.source, x.item) in self.loaded:
            return self.loaded[(x.source, x.item)].rows  # a re-sent month
        before = [y for (s, _), y in {**self.loaded, **pending}.items()
                  if s == x.source and y.tag < x.tag]
        return max(before, key=lambda y: y.tag).rows if before else None

    def run_files(self, source: str, d: date) -> bool:
        """Load the batch of ``source`` for a run on ``d``; False when it is refused (stale)."""
        pending: dict[tuple[str, str], Delivery] = {}
        for x in self._candidates(source, d):
            ok = _passes(x.rows, self._yardstick(x, pending), self.volume_floor,
                         (source, x.item, x.version) in self.accepted_files)
            if not ok:
                return False
            pending[(source, x.item)] = x
        self.loaded.update(pending)
        return True

    # ------------------------------------------------------------------ personnel
    def run_personnel(self, tables: dict[str, pd.DataFrame], rows: dict[str, int]) -> bool:
        """Read every personnel table in full; False when the batch is refused (stale)."""
        for table in PERSONNEL_TABLES.values():
            if not _passes(rows[table], self.table_rows.get(table), self.volume_floor,
                           table in self.accepted_tables):
                return False
        for truth, table in PERSONNEL_TABLES.items():
            self.personnel[truth] = tables[truth].copy()
            self.table_rows[table] = rows[table]
            self.accepted_tables.discard(table)
        return True

    # ------------------------------------------------------------------ in force on D
    def snapshot_in_force(self, source: str, d: date, cols: list[str]) -> pd.DataFrame:
        """The truth rows of the newest loaded snapshot of ``source`` dated on or before ``d``."""
        mine = [x for (s, _), x in self.loaded.items() if s == source and x.tag <= f"{d:%Y%m%d}"]
        if not mine:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in cols})
        frame = max(mine, key=lambda x: x.tag).content
        assert isinstance(frame, pd.DataFrame)
        return frame.assign(in_new=True)

    def property_in_force(self, d: date) -> pd.DataFrame:
        """The property snapshot in force on ``d`` (``PROPERTY_COLS``)."""
        return self.snapshot_in_force("property", d, PROPERTY_COLS)

    def vehicles_in_force(self, d: date) -> pd.DataFrame:
        """The vehicle snapshot in force on ``d`` (``VEHICLE_COLS``)."""
        return self.snapshot_in_force("vehicles", d, VEHICLE_COLS)

    def utility_in_force(self, source: str, accounts: pd.DataFrame) -> tuple:
        """(accounts, readings matrix, month labels, loaded months) of every loaded month."""
        months = {int(x.tag): x for (s, _), x in self.loaded.items() if s == source}
        labels = sorted(months)
        if labels:
            mat = np.column_stack([np.asarray(months[m].content) for m in labels])
        else:
            mat = np.full((len(accounts), 0), -1, dtype=np.int64)
        return accounts, mat, labels, labels
