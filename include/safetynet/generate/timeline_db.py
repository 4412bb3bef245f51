"""Timeline events at the civil-affairs database.

Each event changes the SQLite source exactly as a department's correction would
(rows found by their delivered values, ``updated_at`` set to the value passed,
by default the event day at 08:00 — see ``TimelineBase.when``; pass
:data:`~safetynet.generate.timeline_base.FUTURE` for a skewed source clock) and
the truth the reference reads, together.
"""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd

from safetynet.generate.timeline_base import TimelineBase, TimelineError

Stamp = str | datetime | None


def _none(v: object) -> object:
    """A delivered value for SQL (missing → NULL)."""
    return None if v is None or (not isinstance(v, str) and pd.isna(v)) else v


class DbEvents(TimelineBase):
    """Corrections at civil affairs (every change stamped by ``when``)."""

    # ------------------------------------------------------------------ sa_member
    def _member(self, household_id: str, pid: str) -> pd.Series:
        m = self.t["members"]
        mask = (m["household_id"] == household_id) & (m["pid"] == pid)
        if not mask.any():
            raise TimelineError(f"no member {pid[:6]}… in household {household_id}")
        return mask

    def _update_member(self, household_id: str, pid: str, sets: dict[str, object], day: date,
                       updated_at: Stamp) -> None:
        ts = self.when("sa_member", day, updated_at)
        mask = self._member(household_id, pid)
        row = self.t["members"][mask].iloc[0]
        cols = ", ".join(f"{c} = ?" for c in sets)
        n = self.sql("civil_affairs",
                     f"UPDATE sa_member SET {cols}, updated_at = ? WHERE household_id = ? "
                     "AND id_number IS ? AND name IS ?",
                     (*sets.values(), ts, household_id, _none(row["d_id"]), _none(row["d_name"])))
        if n == 0:
            raise TimelineError(f"sa_member has no row for {household_id} as the truth delivered it")

    def correct_member_id(self, household_id: str, pid: str, day: date,
                          updated_at: Stamp = None) -> None:
        """The member's delivered ID (invalid, or dirty) is corrected to the clean valid one."""
        self._update_member(household_id, pid, {"id_number": pid}, day, updated_at)
        mask = self._member(household_id, pid)
        self.t["members"].loc[mask, ["d_id", "id_ok"]] = [pid, True]

    def correct_member_name(self, household_id: str, pid: str, name: str, day: date,
                            updated_at: Stamp = None) -> None:
        """The member's name is corrected (names are shown, never joined on)."""
        self._update_member(household_id, pid, {"name": name}, day, updated_at)
        mask = self._member(household_id, pid)
        self.t["members"].loc[mask, ["name", "d_name"]] = [name, name]

    def move_member(self, pid: str, from_hh: str, to_hh: str, day: date,
                    joined: date | None = None, updated_at: Stamp = None) -> None:
        """The member's row is moved to another household (optionally with a new joined_on)."""
        sets: dict[str, object] = {"household_id": to_hh}
        if joined is not None:
            sets["joined_on"] = joined.isoformat()
        self._update_member(from_hh, pid, sets, day, updated_at)
        mask = self._member(from_hh, pid)
        self.t["members"].loc[mask, "household_id"] = to_hh
        if joined is not None:
            self.t["members"].loc[mask, ["joined_on", "d_joined_on"]] = \
                [pd.Timestamp(joined), joined.isoformat()]

    def member_leaves(self, household_id: str, pid: str, on: date, day: date,
                      updated_at: Stamp = None) -> None:
        """The member left the household on ``on`` (inactive from that day on)."""
        self._update_member(household_id, pid, {"left_on": on.isoformat()}, day, updated_at)
        mask = self._member(household_id, pid)
        self.t["members"].loc[mask, ["left_on", "d_left_on"]] = [pd.Timestamp(on), on.isoformat()]

    def add_member(self, household_id: str, pid: str, day: date, relation: str = "其他",
                   joined: date | None = None, updated_at: Stamp = None) -> None:
        """A new member row: someone in the truth (by ID, delivered clean) joins a household."""
        p = self.person(pid)
        hh = self.t["households"]
        on = pd.Timestamp(joined) if joined else hh.loc[hh["household_id"] == household_id,
                                                         "approved_on"].iat[0]
        self.sql("civil_affairs", "INSERT INTO sa_member (household_id, id_number, name, relation, "
                 "joined_on, left_on, updated_at) VALUES (?, ?, ?, ?, ?, NULL, ?)",
                 (household_id, pid, p["name"], relation, f"{on:%Y-%m-%d}",
                  self.when("sa_member", day, updated_at)))
        row = {"household_id": household_id, **p, "relation": relation, "joined_on": on,
               "left_on": pd.NaT, "id_dirt": "clean", "d_id": pid, "id_ok": True,
               "d_name": p["name"], "d_joined_on": f"{on:%Y-%m-%d}", "d_left_on": None}
        self.t["members"] = pd.concat([self.t["members"], pd.DataFrame([row])], ignore_index=True)

    # ------------------------------------------------------------------ keyed tables
    def _keyed(self, table: str, truth: str, key: str, value: str, sets: dict[str, object],
               day: date, updated_at: Stamp) -> pd.Series:
        mask = self.t[truth][key] == value
        if not mask.any():
            raise TimelineError(f"{table} has no {key} {value}")
        cols = ", ".join(f"{c} = ?" for c in sets)
        self.sql("civil_affairs", f"UPDATE {table} SET {cols}, updated_at = ? WHERE {key} = ?",
                 (*sets.values(), self.when(table, day, updated_at), value))
        return mask

    def terminate_household(self, household_id: str, day: date, on: date | None = None,
                            updated_at: Stamp = None) -> None:
        """The household is TERMINATED with ``terminated_on`` = ``on`` (default: the event day)."""
        on = on or day
        mask = self._keyed("sa_household", "households", "household_id", household_id,
                           {"status": "TERMINATED", "terminated_on": on.isoformat()},
                           day, updated_at)
        self.t["households"].loc[mask, ["status", "terminated_on", "d_terminated_on"]] = \
            ["TERMINATED", pd.Timestamp(on), on.isoformat()]

    def change_household_amount(self, household_id: str, amount: float, day: date,
                                updated_at: Stamp = None) -> None:
        """The household's monthly amount changes (no rule reads it: a change that moves no case)."""
        mask = self._keyed("sa_household", "households", "household_id", household_id,
                           {"monthly_amount": float(amount)}, day, updated_at)
        self.t["households"].loc[mask, "monthly_amount"] = float(amount)

    def end_allowance(self, allowance_id: str, day: date, on: date | None = None,
                      updated_at: Stamp = None) -> None:
        """The allowance ends on ``on`` (default: the event day; inactive from that day on)."""
        on = on or day
        mask = self._keyed("sa_allowance", "allowances", "allowance_id", allowance_id,
                           {"end_on": on.isoformat()}, day, updated_at)
        self.t["allowances"].loc[mask, ["end_on", "d_end_on"]] = [pd.Timestamp(on), on.isoformat()]

    def add_cremation(self, pid: str, day: date, death: date | None = None,
                      updated_at: Stamp = None) -> str:
        """A funeral home reports a death (default: two days before the event day); the record id."""
        p = self.person(pid)
        death_ts = pd.Timestamp(death) if death else pd.Timestamp(day) - pd.Timedelta(days=2)
        crem = death_ts + pd.Timedelta(days=1)
        rid = f"HH9{self.next_serial():06d}"
        self.sql("civil_affairs", "INSERT INTO sa_cremation (record_id, id_number, name, death_date, "
                 "cremation_date, funeral_home, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                 (rid, pid, p["name"], f"{death_ts:%Y-%m-%d}", f"{crem:%Y-%m-%d}", "广丰区殡仪馆",
                  self.when("sa_cremation", day, updated_at)))
        row = {**p, "death_date": death_ts, "cremation_date": crem, "funeral_home": "广丰区殡仪馆",
               "record_id": rid, "id_dirt": "clean", "d_id": pid, "id_ok": True,
               "d_name": p["name"], "d_death_date": f"{death_ts:%Y-%m-%d}",
               "d_cremation_date": f"{crem:%Y-%m-%d}"}
        self.t["cremations"] = pd.concat([self.t["cremations"], pd.DataFrame([row])],
                                         ignore_index=True)
        return rid

    # ------------------------------------------------------------------ deletions (no tombstones)
    def delete_member(self, household_id: str, pid: str) -> None:
        """The member's row is deleted at the source (a wrong entry withdrawn; no ``updated_at``)."""
        mask = self._member(household_id, pid)
        row = self.t["members"][mask].iloc[0]
        n = self.sql("civil_affairs", "DELETE FROM sa_member WHERE household_id = ? AND id_number IS ? "
                     "AND name IS ?", (household_id, _none(row["d_id"]), _none(row["d_name"])))
        if n == 0:
            raise TimelineError(f"sa_member has no row for {household_id} as the truth delivered it")
        self.t["members"] = self.t["members"][~mask].reset_index(drop=True)

    def withdraw_cremation(self, pid: str) -> int:
        """Every cremation record of the person is deleted at the source (reported in error)."""
        crem = self.t["cremations"]
        mask = crem["pid"] == pid
        if not mask.any():
            raise TimelineError(f"no cremation record for {pid[:6]}…")
        for rid in crem.loc[mask, "record_id"]:
            self.sql("civil_affairs", "DELETE FROM sa_cremation WHERE record_id = ?", (rid,))
        self.t["cremations"] = crem[~mask].reset_index(drop=True)
        return int(mask.sum())
