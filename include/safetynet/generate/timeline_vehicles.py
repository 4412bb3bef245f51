"""Timeline events at the vehicle registry's drop (weekly full snapshots, like property).

``fleet`` is the registry as it stands (the vehicles of the newest snapshot, each
with its current status); a status change waits for the next delivery, which
writes ``JDC_YYYYMMDD.csv`` and its marker and tells the reference what it holds.
A deployment without ``sources.vehicles`` has no fleet deliveries and no R11.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from safetynet.generate.reference_ledger import VEHICLE_COLS
from safetynet.generate.timeline_base import FILE_PATTERNS, TimelineBase, TimelineError
from safetynet.generate.utility_files import marker
from safetynet.generate.vehicles import STATUSES
from safetynet.generate.vehicles_csv import snapshot_rows, write_csv


def vehicle_content(rows: pd.DataFrame, status: str = "status") -> pd.DataFrame:
    """A vehicle snapshot's truth rows as the reference takes them (``VEHICLE_COLS``)."""
    return rows.assign(in_new=True, status=rows[status])[VEHICLE_COLS].reset_index(drop=True)


class VehicleEvents(TimelineBase):
    """Status changes at the vehicle registry and its snapshot deliveries."""

    def __init__(self, config: str | Path) -> None:
        super().__init__(config)
        veh = self.world.tables["vehicles"]
        self.fleet = veh[veh["in_new"]].reset_index(drop=True)
        if "vehicles" not in self.optional:
            return
        old_d, new_d = self.world.snapshot_dates
        for snap, rows, status in ((old_d, veh[veh["in_old"]], "status_old"),
                                   (new_d, self.fleet, "status")):
            tag = f"{snap:%Y%m%d}"
            self.ref.ledger.deliver("vehicles", FILE_PATTERNS["vehicles"].format(tag), tag, len(rows),
                                    vehicle_content(rows, status))

    def vehicles_of(self, pid: str, held_only: bool = True) -> list[str]:
        """Plates registered to ``pid`` in the registry as it stands (by default only 正常 ones)."""
        f = self.fleet
        mask = (f["pid"] == pid) & ((f["status"] == "正常") if held_only else True)
        return sorted(f.loc[mask, "plate"])

    def change_vehicle_status(self, plate: str, status: str) -> None:
        """The registry records a new status for ``plate``; the next snapshot shows it."""
        if status not in STATUSES:
            raise TimelineError(f"{status} is not a vehicle status of the contract")
        mask = self.fleet["plate"] == plate
        if not mask.any():
            raise TimelineError(f"the vehicle registry has no plate {plate}")
        self.fleet.loc[mask, "status"] = status

    def deliver_vehicle_snapshot(self, snap: date, keep: float = 1.0) -> str:
        """The registry delivers its snapshot dated ``snap`` (as it stands); the file name.

        ``keep`` < 1 delivers only that share of the vehicles (a collapsed export the
        volume guard refuses; 0: the header only) without changing the registry.
        """
        if "vehicles" not in self.optional:
            raise TimelineError("this deployment has no sources.vehicles")
        rows = self.fleet
        if keep < 1:
            rng = np.random.default_rng([self.seed, 95, snap.toordinal()])
            rows = rows.iloc[np.sort(rng.permutation(len(rows))[: round(len(rows) * keep)])]
        tag = f"{snap:%Y%m%d}"
        name = FILE_PATTERNS["vehicles"].format(tag)
        path = self.drop("vehicles") / name
        write_csv(snapshot_rows(rows.assign(in_new=True), True, self.seed, None), path)
        marker(path)
        self.ref.ledger.deliver("vehicles", name, tag, len(rows), vehicle_content(rows))
        return name
