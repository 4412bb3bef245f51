"""Helpers that add hand-made records (planted cases and near misses) to the truth.

Planted people are always new people, in new households at new addresses, so
random data can never touch them; their IDs only get identity-preserving random
dirt ('safe') unless a scenario asks for a particular kind.
"""

from __future__ import annotations

from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from safetynet.generate.civil import hh_id
from safetynet.generate.ids import INVALIDATING, render_one
from safetynet.generate.property import unit_numbers
from safetynet.generate.world import Ctx

Day: TypeAlias = int | str | pd.Timestamp | None


class Planter:
    """Collects planted rows per table and the planted inventory."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx
        self.rows: dict[str, list[dict[str, Any]]] = {
            k: [] for k in ("households", "members", "allowances", "cremations", "staff",
                            "cadres", "relatives", "filings", "property", "elec", "water",
                            "vehicles", "entities", "roles")}
        self.reads: dict[str, list[np.ndarray]] = {"elec": [], "water": []}
        self.inventory: list[dict[str, str]] = []

    # ------------------------------------------------------------ basics
    def t(self, d: Day) -> pd.Timestamp | None:
        """A date: int = days from D, str = literal, Timestamp as is, None = empty."""
        if d is None:
            return None
        if isinstance(d, int):
            return self.ctx.day(d)
        return pd.Timestamp(d)

    def person(self, birth: Day = None) -> dict[str, Any]:
        """A brand-new person; default birth a random adult age."""
        if birth is None:
            birth = self.ctx.rand_dates(1, pd.Timestamp("1950-01-01"), pd.Timestamp("1990-12-31"))[0]
        pid, b, name = self.ctx.person(self.t(birth))
        return {"pid": pid, "birth": b, "name": name}

    def person_ending_x(self) -> dict[str, Any]:
        """A new person whose ID ends in X (for lower-case x dirt)."""
        while True:
            p = self.person()
            if p["pid"].endswith("X"):
                return p

    def fixed(self, pid: str, kind: str) -> dict[str, Any]:
        """Pre-render a delivered ID so the scenario knows its record key."""
        return {"id_dirt": kind, "id_fixed": render_one(pid, kind, self.ctx.rng)}

    def note(self, rule: str, kind: str, what: str, key: str) -> None:
        """Record one planted case or near miss."""
        self.inventory.append({"rule": rule, "kind": kind, "what": what, "key": key})

    # ------------------------------------------------------------ civil affairs
    def household(self, status: str = "ACTIVE", program: str = "DIBAO", approved: Day = None,
                  terminated: Day = None, urban: bool | None = None) -> dict[str, Any]:
        """A new household at a new address; ACTIVE, approved a few years ago by default."""
        ctx = self.ctx
        vill = ctx.world.vill
        cand = np.arange(len(vill)) if urban is None else np.flatnonzero(vill["urban"] == urban)
        vi = int(cand[int(ctx.rng.integers(0, len(cand)))])
        if approved is None:
            approved = -int(ctx.rng.integers(400, 2500))
        row = {
            "household_id": hh_id(program, ctx.serials("household", 1)[0]), "program": program,
            "area_type": "URBAN" if vill["urban"].iat[vi] else "RURAL",
            "region_code": vill["code"].iat[vi], "addr": ctx.dwell.allocate(np.array([vi]))[0],
            "status": status, "approved_on": self.t(approved), "terminated_on": self.t(terminated),
            "monthly_amount": 1050.0 if program == "TEKUN" else 720.0, "planted": True,
        }
        if status == "TERMINATED" and terminated is None:
            row["terminated_on"] = self.t(-30)
        self.rows["households"].append(row)
        return row

    def member(self, hh: dict, who: dict | None = None, relation: str = "户主", joined: Day = None,
               left: Day = None, id_dirt: str = "safe", **kw: Any) -> dict[str, Any]:
        """Add a person (new unless given) to a household; returns the person."""
        p = who or self.person()
        row = {"household_id": hh["household_id"], **p, "relation": relation,
               "joined_on": self.t(joined) if joined is not None else hh["approved_on"],
               "left_on": self.t(left), "id_dirt": id_dirt, **kw}
        self.rows["members"].append(row)
        return p

    def allowance(self, p: dict, kind: str = "DISABILITY_LIVING", start: Day = -800,
                  end: Day = None, id_dirt: str = "safe", **kw: Any) -> str:
        """Add an individual subsidy for person ``p``; returns its allowance_id."""
        aid = "BT361103" + f"{self.ctx.serials('allowance', 1)[0]:07d}"
        self.rows["allowances"].append({
            "allowance_id": aid, **p, "kind": kind,
            "region_code": self.ctx.world.vill["code"].iat[0], "start_on": self.t(start),
            "end_on": self.t(end), "monthly_amount": 100.0 if kind == "ELDERLY" else 90.0,
            "id_dirt": id_dirt, **kw})
        return aid

    def cremation(self, p: dict, death: Day, id_dirt: str = "safe") -> None:
        """Add a cremation record for ``p`` who died on ``death``."""
        dd = self.t(death)
        assert dd is not None
        self.rows["cremations"].append({
            **p, "death_date": dd, "cremation_date": dd + pd.Timedelta(days=2),
            "funeral_home": "广丰区殡仪馆", "record_id": "HH" + f"{self.ctx.serials('cremation', 1)[0]:07d}",
            "id_dirt": id_dirt})

    # ------------------------------------------------------------ personnel
    def staff(self, p: dict, frm: Day, to: Day = None, id_dirt: str = "safe") -> None:
        """Put ``p`` on a public payroll from ``frm`` to ``to`` (None = open)."""
        self.rows["staff"].append({**p, "employer": "广丰区财政局", "employer_kind": "ORGAN",
                                   "post": "科员", "payroll_from": self.t(frm),
                                   "payroll_to": self.t(to), "id_dirt": id_dirt})

    def cadre(self, p: dict, frm: Day, to: Day = None, region: str | None = None) -> None:
        """Make ``p`` a village cadre for a term."""
        self.rows["cadres"].append({**p, "region_code": region or self.ctx.world.vill["code"].iat[0],
                                    "post": "委员", "term_from": self.t(frm),
                                    "term_to": self.t(to), "id_dirt": "safe"})

    def relative(self, declarer: dict, rel: dict, id_dirt: str = "safe") -> None:
        """``declarer`` (staff or cadre) declares ``rel`` as a close relative."""
        self.rows["relatives"].append({
            "staff_pid": declarer["pid"], "staff_birth": declarer["birth"],
            "relative_pid": rel["pid"], "relative_birth": rel["birth"],
            "relative_name": rel["name"], "relation": "兄弟姐妹", "declared_on": self.t(-500),
            "id_dirt": id_dirt, "staff_id_dirt": "safe"})

    def filing(self, rel: dict, declarer: dict, filed: Day, id_dirt: str = "safe") -> None:
        """A civil-affairs filing that ``rel`` is a relative of ``declarer``."""
        self.rows["filings"].append({
            "pid": rel["pid"], "birth": rel["birth"], "staff_pid": declarer["pid"],
            "staff_birth": declarer["birth"], "relation": "兄弟姐妹", "filed_on": self.t(filed),
            "id_dirt": id_dirt, "staff_id_dirt": "safe"})

    # ------------------------------------------------------------ property
    def unit(self, owners: list[dict], use: str = "住宅", reg: Day = -1500, cancel: Day = None,
             kind: str = "身份证", in_old: bool | None = None, in_new: bool = True,
             id_dirt: str = "safe", addr: str | None = None) -> str:
        """A unit owned by ``owners`` (co-owned when several); returns its number."""
        ctx = self.ctx
        vi = int(ctx.rng.integers(0, len(ctx.world.vill)))
        unit = unit_numbers(ctx, np.array([ctx.world.vill["code"].iat[vi]]))[0]
        a = addr or ctx.dwell.allocate(np.array([vi]))[0]
        r = self.t(reg)
        assert r is not None
        old = (r <= ctx.D - pd.Timedelta(days=7)) if in_old is None else in_old
        for p in owners:
            self.rows["property"].append({
                "unit": unit, "owner_kind": kind, "pid": p["pid"],
                "birth": p["birth"] if kind == "身份证" else pd.NaT, "name": p["name"],
                "share": "共同共有" if len(owners) > 1 else "单独所有", "addr": a, "use": use,
                "area100": 9850 if use == "住宅" else 25600, "reg_on": r,
                "cancel_on": self.t(cancel), "in_old": old, "in_new": in_new,
                "id_dirt": id_dirt if kind == "身份证" else "clean"})
        return unit

    # ------------------------------------------------------------ utilities
    def account(self, source: str, holder: dict | None, addr: str, readings: dict[int, float],
                id_dirt: str = "safe", addr_dirt: str = "") -> None:
        """An account (holder None = nobody we know, no ID) with readings by month index."""
        ctx = self.ctx
        prefix = "03" if source == "elec" else "20"
        h = holder or self.person()
        self.rows[source].append({
            "account": prefix + f"{ctx.serials('acc' + prefix, 1, width=8)[0]:08d}", **h,
            "addr": addr, "id_dirt": "id_absent" if holder is None else id_dirt,
            "addr_dirt": addr_dirt, "planted": True})
        months = 13 if source == "elec" else 12
        r = np.full(months, -1, dtype=np.int64)
        for k, v in readings.items():
            r[k] = round(v * 10)
        self.reads[source].append(r)

    def frames(self) -> dict[str, pd.DataFrame]:
        """Planted rows as DataFrames, one per table."""
        return {k: pd.DataFrame(v) for k, v in self.rows.items()}


def is_invalid(kind: str) -> bool:
    """Whether an ID dirt kind makes the delivered number invalid."""
    return any(p in INVALIDATING for p in kind.split("+"))
