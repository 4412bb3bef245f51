"""Timeline events on the file drops: registry snapshots and utility months.

The registry's and the utilities' truth (``registry``, ``truth_read``) is what a
correct delivery holds; a delivery writes the file and its ``.ok`` marker and
tells the reference what it holds (rows staged, content). Broken deliveries
(header-only, collapsed) are written from the truth without changing it.
"""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import date

import numpy as np
import pandas as pd

from safetynet.generate.property_xlsx import snapshot_frame, write_xlsx
from safetynet.generate.textdirt import render_tenths
from safetynet.generate.timeline_base import (
    FILE_PATTERNS,
    SOURCE_TABLES,
    TimelineBase,
    TimelineError,
    snapshot_content,
)
from safetynet.generate.utility_files import ELEC_HEADERS, WATER_HEADERS, marker, write_frame
from safetynet.generate.world import month_add


class FileEvents(TimelineBase):
    """Snapshots and monthly utility files."""

    # ------------------------------------------------------------------ the registry
    def sell_unit(self, unit: str, on: date) -> None:
        """A unit's right is cancelled (sold) on ``on``; the next snapshot shows it."""
        mask = self.registry["unit"] == unit
        if not mask.any():
            raise TimelineError(f"the registry has no unit {unit}")
        self.registry.loc[mask, "cancel_on"] = pd.Timestamp(on)

    def buy_unit(self, pids: list[str], use: str, reg_on: date, addr: str | None = None) -> str:
        """Members (or anybody in the truth) register a new unit; returns its number."""
        vill = self.world.vill
        vcode = str(vill["code"].iat[self.next_serial() % len(vill)])
        unit = f"361103{vcode[6:12]}JC9{self.next_serial() % 10000:04d}F00010001"
        where = addr or f"{vill['township_name'].iat[0]}{vill['name'].iat[0]}新城路{unit[-6:]}号"
        rows = []
        for pid in pids:
            p = self.person(pid)
            rows.append({"unit": unit, "owner_kind": "身份证", "pid": pid, "birth": p["birth"],
                         "name": p["name"], "share": "共同共有" if len(pids) > 1 else "单独所有",
                         "addr": where, "use": use, "area100": 9850 if use == "住宅" else 25600,
                         "reg_on": pd.Timestamp(reg_on), "cancel_on": pd.NaT, "in_old": False,
                         "in_new": True, "id_dirt": "clean", "d_id": pid, "id_ok": True,
                         "d_name": p["name"], "d_addr": where})
        self.registry = pd.concat([self.registry, pd.DataFrame(rows)], ignore_index=True)
        return unit

    def units_of(self, pid: str, use: str | None = None) -> list[str]:
        """Standing (not cancelled) units of a person in the registry as it stands."""
        r = self.registry
        mask = (r["pid"] == pid) & r["cancel_on"].isna()
        if use is not None:
            mask &= r["use"] == use
        return sorted(set(r.loc[mask, "unit"]))

    def _write_snapshot(self, snap: date, rows: pd.DataFrame) -> str:
        name = FILE_PATTERNS["property"].format(f"{snap:%Y%m%d}")
        path = self.drop("property") / name
        sel = rows.assign(in_new=True)
        write_xlsx(snapshot_frame(sel, snap, True, self.seed, Counter()), path, snap)
        marker(path)
        self.ref.ledger.deliver("property", name, f"{snap:%Y%m%d}", len(rows), snapshot_content(rows))
        return name

    def deliver_snapshot(self, snap: date) -> str:
        """The registry delivers its snapshot dated ``snap`` (as it stands); the file name."""
        return self._write_snapshot(snap, self.registry)

    def header_only_snapshot(self, snap: date) -> str:
        """A snapshot dated ``snap`` with the header row only (refused by the volume guard)."""
        return self._write_snapshot(snap, self.registry.iloc[:0])

    def collapsed_snapshot(self, snap: date, keep: float = 0.1) -> str:
        """A snapshot dated ``snap`` with only ``keep`` of the registry's rows (refused)."""
        rng = np.random.default_rng([self.seed, 94, snap.toordinal()])
        n = round(len(self.registry) * keep)
        return self._write_snapshot(snap, self.registry.iloc[np.sort(rng.permutation(
            len(self.registry))[:n])])

    def copy_snapshot(self, item: str, snap: date) -> str:
        """The file ``item`` delivered again, byte for byte, under the date ``snap`` (a new version)."""
        old = self.ref.ledger.files[("property", item)]
        name = FILE_PATTERNS["property"].format(f"{snap:%Y%m%d}")
        shutil.copyfile(self.drop("property") / item, self.drop("property") / name)
        marker(self.drop("property") / name)
        self.ref.ledger.deliver("property", name, f"{snap:%Y%m%d}", old.rows, old.content)
        return name

    # ------------------------------------------------------------------ utilities
    def accounts_of(self, source: str, household_id: str) -> list[str]:
        """Accounts linked to a household: held by one of its members, or at its address."""
        acc = self.world.tables[SOURCE_TABLES[source]]
        hh = self.t["households"]
        addr = hh.loc[hh["household_id"] == household_id, "addr"]
        pids = set(self.t["members"].loc[self.t["members"]["household_id"] == household_id, "pid"])
        mask = acc["addr"].isin(set(addr)) | (acc["pid"].isin(pids) & acc["id_ok"].astype(bool))
        return sorted(acc.loc[mask, "account"])

    def readings(self, source: str, month: int) -> np.ndarray:
        """The true readings of a month (tenths per account, -1 = none); extended as needed."""
        got = self.truth_read[source]
        if month not in got:
            prev = self.readings(source, month_add(month, -1))
            rng = np.random.default_rng([self.seed, 91, month])
            noisy = np.round(prev * rng.lognormal(0.0, 0.15, len(prev))).astype(np.int64)
            got[month] = np.where(prev > 0, np.maximum(noisy, 1), prev)
        return got[month]

    def _write_month(self, source: str, month: int, vec: np.ndarray) -> str:
        tab = SOURCE_TABLES[source]
        acc = self.world.tables[tab]
        has = vec >= 0
        rng = np.random.default_rng([self.seed, 92, len(tab), month, self.next_serial()])
        val, _ = render_tenths(vec[has], rng)
        cols = [acc.loc[has, c].to_numpy() for c in ("account", "d_name", "d_id", "d_addr")]
        period = str(month) if tab == "elec" else f"{month // 100:04d}-{month % 100:02d}"
        heads = ELEC_HEADERS if tab == "elec" else WATER_HEADERS
        out = pd.DataFrame(dict(zip(heads, [*cols, period, val], strict=True)))
        rep = np.where(rng.random(len(out)) < 0.003, 2, 1)
        name = FILE_PATTERNS[source].format(month)
        path = self.drop(source) / name
        write_frame(out.loc[out.index.repeat(rep)].reset_index(drop=True), path, tab)
        marker(path)
        self.ref.ledger.deliver(source, name, str(month), int(has.sum()), vec.copy())
        return name

    def deliver_month(self, source: str, month: int) -> str:
        """A complete month file (a new month, or a re-send of the true readings)."""
        return self._write_month(source, month, self.readings(source, month))

    def correct_month(self, source: str, month: int, changes: dict[str, float | None]) -> str:
        """The month is re-sent corrected: ``changes`` maps account → kWh/m³ (None: no reading)."""
        vec = self.readings(source, month).copy()
        acc = self.world.tables[SOURCE_TABLES[source]]["account"].tolist()
        for account, value in changes.items():
            vec[acc.index(account)] = -1 if value is None else round(value * 10)
        self.truth_read[source][month] = vec
        return self._write_month(source, month, vec)

    def header_only_month(self, source: str, month: int) -> str:
        """The month re-sent with the header line only (refused)."""
        return self._write_month(source, month, np.full(len(self.readings(source, month)), -1))

    def collapsed_month(self, source: str, month: int, keep: float = 0.1) -> str:
        """The month re-sent with only ``keep`` of its rows (refused below the floor)."""
        vec = self.readings(source, month).copy()
        has = np.flatnonzero(vec >= 0)
        rng = np.random.default_rng([self.seed, 93, month])
        drop = rng.permutation(has)[round(len(has) * keep):]
        vec[drop] = -1
        return self._write_month(source, month, vec)
