"""Replay a timeline of source changes on a generated deployment, with its reference.

A :class:`Timeline` opens a deployment folder written by ``generate_deployment``,
rebuilds the generator's truth from the same arguments (and checks it is the
truth the folder was written from), and offers events — reusable methods, each
changing the delivered sources and the reference's truth consistently:

* civil affairs (``timeline_db``): :meth:`correct_member_id`, :meth:`correct_member_name`,
  :meth:`move_member`, :meth:`member_leaves`, :meth:`add_member`, :meth:`terminate_household`,
  :meth:`change_household_amount`, :meth:`end_allowance`, :meth:`add_cremation` — each
  with an ``updated_at`` (default: the event day 08:00, never before what runs already
  extracted; :data:`FUTURE` for a skewed source clock);
* personnel (``timeline_personnel``): :meth:`empty_personnel_table`,
  :meth:`correct_staff_id`, :meth:`correct_staff_employer`, :meth:`declare_relative`;
* drops (``timeline_files``): :meth:`sell_unit`, :meth:`buy_unit` then
  :meth:`deliver_snapshot`; :meth:`header_only_snapshot`, :meth:`collapsed_snapshot`,
  :meth:`copy_snapshot`; :meth:`deliver_month` (a new month, or a plain re-send),
  :meth:`correct_month`, :meth:`header_only_month`, :meth:`collapsed_month`;
* the vehicle registry (``timeline_vehicles``): :meth:`change_vehicle_status` then
  :meth:`deliver_vehicle_snapshot` (``keep`` < 1: a collapsed snapshot, refused);
  the market registry (``business``) is read as it stands, with no events yet;
* inbox and console (``timeline_inbox``): :meth:`dispositions`, :meth:`accept`.

After the events of a day, and once per pipeline run in the order the runs
happen, :meth:`expect_run` returns what that run must publish (the reference,
``reference_timeline``, which imports nothing from the package).
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from safetynet.generate.reference_timeline import DayExpectation
from safetynet.generate.timeline_base import FUTURE, TimelineError, stamp
from safetynet.generate.timeline_db import DbEvents
from safetynet.generate.timeline_files import FileEvents
from safetynet.generate.timeline_inbox import InboxEvents
from safetynet.generate.timeline_personnel import PersonnelEvents
from safetynet.generate.timeline_vehicles import VehicleEvents

__all__ = ["FUTURE", "Timeline", "TimelineError", "stamp"]


class Timeline(DbEvents, PersonnelEvents, FileEvents, InboxEvents, VehicleEvents):
    """A deployment, its truth as it stands, the events that change both, and the reference."""

    def expect_run(self, day: date) -> DayExpectation:
        """The reference's answer for a pipeline run for ``day`` made now (call once per run)."""
        db = {k: v.copy() for k, v in self.t.items()}
        expected = self.ref.run(day, db, self.distinct_rows())
        self.advance_watermarks(day)
        return expected

    # ------------------------------------------------------------------ finding things
    def planted(self, what: str) -> str:
        """The case key of the (first) planted case or near miss described exactly as ``what``."""
        for p in self.world.planted:
            if p["what"] == what:
                return p["key"]
        raise TimelineError(f"nothing planted as {what!r}")

    def record(self, key: str) -> tuple[str, str]:
        """(household_id, true ID) of the member behind an R09 record key."""
        _, subject, delivered = key.split(":", 2)
        m = self.t["members"]
        hit = m[(m["household_id"] == subject)
                & (m["d_id"].fillna("").astype(str).str.strip() == delivered)]
        if len(hit) != 1:
            raise TimelineError(f"{key} names {len(hit)} member rows")
        return subject, str(hit["pid"].iat[0])

    def members(self, household_id: str) -> pd.DataFrame:
        """The household's member rows as they stand."""
        return self.t["members"][self.t["members"]["household_id"] == household_id]

    def household_of(self, pid: str) -> str:
        """The (first) household a person is a member of."""
        hit = self.t["members"].loc[self.t["members"]["pid"] == pid, "household_id"]
        if not len(hit):
            raise TimelineError(f"{pid[:6]}… is nobody's member")
        return str(hit.iat[0])

    def active_members(self, day: date) -> pd.DataFrame:
        """Members active on ``day`` (active household, joined, not left) with a valid ID."""
        d = pd.Timestamp(day)
        h = self.t["households"]
        act = h[(h["status"] == "ACTIVE") & (h["approved_on"] <= d)
                & (h["terminated_on"].isna() | (h["terminated_on"] > d))]["household_id"]
        m = self.t["members"]
        return m[m["household_id"].isin(set(act)) & (m["joined_on"] <= d)
                 & (m["left_on"].isna() | (m["left_on"] > d)) & m["id_ok"].astype(bool)]

    def quiet_members(self, day: date) -> pd.DataFrame:
        """Active members on ``day``, outside planted households, who never held a case by ID."""
        busy = {k.split(":", 1)[1] for k in self.ref.ever()}
        m = self.active_members(day)
        planted = set(self.t["households"].loc[self.t["households"]["planted"].astype(bool),
                                                "household_id"])
        return m[~m["pid"].isin(busy) & ~m["household_id"].isin(planted)]
