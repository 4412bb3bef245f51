"""Timeline events at the personnel database (every table is read in full).

A change here is a change of the register as the HR system next delivers it:
the pipeline reads the whole table on every run and replaces its copy, under
the volume guard (an emptied table is refused until an operator accepts it).
``updated_at`` is set where the table has one, though no reader relies on it.
"""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd

from safetynet.generate.reference_ledger import PERSONNEL_TABLES
from safetynet.generate.timeline_base import TimelineBase, TimelineError, stamp

Stamp = str | datetime | None
TRUTH = {table: truth for truth, table in PERSONNEL_TABLES.items()}
"""Personnel table → truth table name."""


def _none(v: object) -> object:
    """A delivered value for SQL (missing → NULL)."""
    return None if v is None or (not isinstance(v, str) and pd.isna(v)) else v


class PersonnelEvents(TimelineBase):
    """Changes of the HR register."""

    def empty_personnel_table(self, table: str = "hr_relative") -> None:
        """The HR system delivers a personnel table empty (every row deleted)."""
        self.sql("personnel", f"DELETE FROM {table}")
        self.t[TRUTH[table]] = self.t[TRUTH[table]].iloc[:0].copy()

    def _staff(self, pid: str) -> pd.Series:
        mask = self.t["staff"]["pid"] == pid
        if not mask.any():
            raise TimelineError(f"hr_staff has nobody with the ID {pid[:6]}…")
        return mask

    def correct_staff_id(self, pid: str, new_pid: str, day: date, updated_at: Stamp = None) -> None:
        """An hr_staff row's ID is corrected to another person's valid ID ``new_pid``."""
        mask = self._staff(pid)
        row = self.t["staff"][mask].iloc[0]
        self.sql("personnel", "UPDATE hr_staff SET id_number = ?, updated_at = ? "
                 "WHERE id_number IS ? AND name IS ?",
                 (new_pid, stamp(day, updated_at), _none(row["d_id"]), _none(row["d_name"])))
        birth = pd.Timestamp(f"{new_pid[6:10]}-{new_pid[10:12]}-{new_pid[12:14]}")
        self.t["staff"].loc[mask, ["pid", "birth", "d_id", "id_ok"]] = [new_pid, birth, new_pid, True]

    def correct_staff_employer(self, pid: str, employer: str, day: date,
                               updated_at: Stamp = None) -> None:
        """An hr_staff row's employer is corrected (changes the R02 evidence, not the case)."""
        mask = self._staff(pid)
        row = self.t["staff"][mask].iloc[0]
        self.sql("personnel", "UPDATE hr_staff SET employer = ?, updated_at = ? "
                 "WHERE id_number IS ? AND name IS ?",
                 (employer, stamp(day, updated_at), _none(row["d_id"]), _none(row["d_name"])))
        self.t["staff"].loc[mask, "employer"] = employer

    def declare_relative(self, declarer: str, relative: str, day: date,
                         relation: str = "兄弟姐妹") -> None:
        """Staff or a cadre (``declarer``'s ID) declares ``relative`` (both in the truth)."""
        d, r = self.person(declarer), self.person(relative)
        on = pd.Timestamp(day)
        self.sql("personnel", "INSERT INTO hr_relative (staff_id_number, relative_id_number, "
                 "relative_name, relation, declared_on) VALUES (?, ?, ?, ?, ?)",
                 (declarer, relative, r["name"], relation, f"{on:%Y-%m-%d}"))
        row = {"staff_pid": declarer, "staff_birth": d["birth"], "relative_pid": relative,
               "relative_birth": r["birth"], "relative_name": r["name"], "relation": relation,
               "declared_on": on, "id_dirt": "clean", "staff_id_dirt": "clean", "d_id": relative,
               "id_ok": True, "d_staff_id": declarer, "staff_id_ok": True, "d_name": r["name"],
               "d_declared_on": f"{on:%Y-%m-%d}"}
        self.t["relatives"] = pd.concat([self.t["relatives"], pd.DataFrame([row])],
                                        ignore_index=True)
