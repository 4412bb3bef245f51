"""Write the SQLite source databases exactly as sources.md §1, §2 and §7 name them.

Dates stay text (so their dirt survives), amounts are NUMERIC (a typed
'1,234.00' stays text in SQLite), and ``updated_at`` is derived from the row's
own dates plus a seeded time of day — never the wall clock.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from safetynet.generate.textdirt import money_text
from safetynet.generate.world import World, month_add

SCHEMAS = {
    "sa_household": "household_id TEXT PRIMARY KEY, program TEXT, area_type TEXT, region_code TEXT,"
                    " address TEXT, status TEXT, approved_on TEXT, terminated_on TEXT,"
                    " monthly_amount NUMERIC(10,2), updated_at TIMESTAMP",
    "sa_member": "household_id TEXT, id_number TEXT, name TEXT, relation TEXT, joined_on TEXT,"
                 " left_on TEXT, updated_at TIMESTAMP",
    "sa_payment": "payment_id INTEGER PRIMARY KEY, household_id TEXT, period TEXT,"
                  " amount NUMERIC(10,2), paid_on TEXT",
    "sa_allowance": "allowance_id TEXT PRIMARY KEY, id_number TEXT, name TEXT, kind TEXT,"
                    " region_code TEXT, start_on TEXT, end_on TEXT, monthly_amount NUMERIC(10,2),"
                    " updated_at TIMESTAMP",
    "sa_cremation": "record_id TEXT PRIMARY KEY, id_number TEXT, name TEXT, death_date TEXT,"
                    " cremation_date TEXT, funeral_home TEXT, updated_at TIMESTAMP",
    "sa_relative_filing": "filing_id INTEGER PRIMARY KEY, id_number TEXT, staff_id_number TEXT,"
                          " relation TEXT, filed_on TEXT",
    "hr_staff": "id_number TEXT, name TEXT, employer TEXT, employer_kind TEXT, post TEXT,"
                " payroll_from TEXT, payroll_to TEXT, updated_at TIMESTAMP",
    "hr_village_cadre": "id_number TEXT, name TEXT, region_code TEXT, post TEXT, term_from TEXT,"
                        " term_to TEXT, updated_at TIMESTAMP",
    "hr_relative": "staff_id_number TEXT, relative_id_number TEXT, relative_name TEXT,"
                   " relation TEXT, declared_on TEXT",
    "mr_entity": "credit_code TEXT PRIMARY KEY, entity_name TEXT, entity_kind TEXT, status TEXT,"
                 " established_on TEXT, closed_on TEXT, registered_capital NUMERIC(14,2),"
                 " updated_at TIMESTAMP",
    "mr_role": "role_id TEXT PRIMARY KEY, credit_code TEXT, id_number TEXT, name TEXT, role TEXT,"
               " share_pct NUMERIC(5,2), from_on TEXT, to_on TEXT, updated_at TIMESTAMP",
}


CHUNK = 200_000


def columns(table: str) -> list[str]:
    """Column names of a source table, in contract order."""
    return [c.strip().split()[0] for c in SCHEMAS[table].split(",") if c.strip()[0].isalpha()
            and not c.strip().startswith("2)")]


def updated_at(df: pd.DataFrame, cols: list[str], D: pd.Timestamp,
               rng: np.random.Generator) -> np.ndarray:
    """Last change: the latest of the row's dates not after D, at a seeded time of day."""
    latest = pd.Series(pd.Timestamp("2015-01-01"), index=df.index)
    for c in cols:
        v = df[c].where(df[c] <= D)
        latest = np.maximum(latest, v.fillna(pd.Timestamp("2015-01-01")))
    ts = pd.to_datetime(latest) + pd.to_timedelta(rng.integers(8 * 3600, 19 * 3600, len(df)), "s")
    ts = ts.where(ts <= D + pd.Timedelta(hours=20), D + pd.Timedelta(hours=20))
    txt = np.datetime_as_string(ts.to_numpy(dtype="datetime64[s]"), unit="s")
    return pd.Series(txt).str.replace("T", " ", regex=False).to_numpy(dtype=object)


def amounts(values: pd.Series, rng: np.random.Generator, dirt: Counter,
            share: float = 0.03) -> np.ndarray:
    """Amounts as numbers (NaN → NULL); ``share`` of those ≥ 1,000 typed with a thousands separator."""
    v = values.astype(float).round(2).to_numpy()
    out = v.astype(object)
    out[np.isnan(v)] = None
    for i in np.flatnonzero((v >= 1000) & (rng.random(len(v)) < share)):
        out[i] = money_text(v[i])
        dirt["num_thousands"] += 1
    return out


def with_dups(df: pd.DataFrame, share: float, rng: np.random.Generator, dirt: Counter,
              label: str) -> pd.DataFrame:
    """Insert whole-row duplicates right after their originals."""
    rep = np.where(rng.random(len(df)) < share, 2, 1)
    dirt[label] += int((rep == 2).sum())
    return df.loc[df.index.repeat(rep)].reset_index(drop=True)


def write_db(path: Path, tables: dict[str, pd.DataFrame]) -> None:
    """Create a fresh SQLite file holding ``tables`` (contract columns, ``SCHEMAS`` types)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    for name, df in tables.items():
        cols = columns(name)
        con.execute(f"CREATE TABLE {name} ({SCHEMAS[name]})")
        ph = ",".join("?" * len(cols))
        sql = f"INSERT INTO {name} ({','.join(cols)}) VALUES ({ph})"
        for start in range(0, len(df), CHUNK):  # bounded memory: Python objects per chunk only
            part = df.iloc[start : start + CHUNK]
            data = zip(*[part[c].astype(object).where(part[c].notna(), None).tolist()
                         for c in cols], strict=True)
            con.executemany(sql, data)
    con.commit()
    con.close()


def payments(world: World, hh: pd.DataFrame, rng: np.random.Generator, dirt: Counter,
             first: int = 1) -> pd.DataFrame:
    """Monthly payments for the 12 months before D's month and D's month (paid on the 10th),
    numbered from ``first``."""
    D = pd.Timestamp(world.report_date)
    periods = [month_add(world.d_month, k) for k in range(-12, 1)]
    frames = []
    for p in periods:
        paid = pd.Timestamp(p // 100, p % 100, 10)
        ok = (paid <= D) & (hh["approved_on"] <= paid) & (
            hh["terminated_on"].isna() | (hh["terminated_on"] > paid))
        ok &= ~((hh["status"] == "SUSPENDED") & (paid > D - pd.Timedelta(days=75)))
        sel = hh.loc[ok, ["household_id", "monthly_amount"]]
        frames.append(pd.DataFrame({"household_id": sel["household_id"].to_numpy(),
                                    "period": f"{p // 100:04d}-{p % 100:02d}",
                                    "amount": sel["monthly_amount"].to_numpy(),
                                    "paid_on": paid.strftime("%Y-%m-%d")}))
    pay = pd.concat(frames, ignore_index=True)
    pay.insert(0, "payment_id", np.arange(first, first + len(pay)))
    pay["amount"] = amounts(pay["amount"], rng, dirt)
    return pay


TRUTH = ("households", "members", "allowances", "cremations", "filings", "staff", "cadres",
         "relatives")
"""The truth tables behind civil_affairs.db and personnel.db."""


def write_databases(world: World, out: Path, dirt: Counter) -> dict[str, int]:
    """Write civil_affairs.db and personnel.db; returns row counts per table.

    The rows appended last (``World.late``) follow the others in every table, drawn on a
    stream of their own, so the earlier rows are written exactly as without them.
    """
    earlier = {n: world.parts(n)[0] for n in TRUTH}
    ca, pe = delivered_tables(world, earlier, np.random.default_rng([world.seed, 2]), dirt)
    late = {n: world.parts(n)[1] for n in TRUTH}
    ca2, pe2 = delivered_tables(world, late, np.random.default_rng([world.seed, 2, 1]), dirt,
                                first=(len(ca["sa_payment"]) + 1, len(ca["sa_relative_filing"]) + 1))
    ca = {k: _append(v, ca2[k]) for k, v in ca.items()}
    pe = {k: _append(v, pe2[k]) for k, v in pe.items()}
    write_db(out / "sources" / "civil_affairs.db", ca)
    write_db(out / "sources" / "personnel.db", pe)
    return {k: len(v) for k, v in {**ca, **pe}.items()}


def _append(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """``b``'s rows after ``a``'s (``a`` as it is when ``b`` is empty)."""
    return pd.concat([a, b], ignore_index=True) if len(b) else a


def delivered_tables(world: World, t: dict[str, pd.DataFrame], rng: np.random.Generator,
                     dirt: Counter, first: tuple[int, int] = (1, 1)
                     ) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """The civil-affairs and personnel tables as delivered for truth tables ``t`` (payment and
    filing numbers from ``first``)."""
    D = pd.Timestamp(world.report_date)
    hh = t["households"].sort_values("household_id", kind="stable")
    h = pd.DataFrame({
        "household_id": hh["household_id"], "program": hh["program"], "area_type": hh["area_type"],
        "region_code": hh["region_code"], "address": hh["d_addr"], "status": hh["status"],
        "approved_on": hh["d_approved_on"], "terminated_on": hh["d_terminated_on"],
        "monthly_amount": amounts(hh["monthly_amount"], rng, dirt),
        "updated_at": updated_at(hh, ["approved_on", "terminated_on"], D, rng)})
    m = t["members"].sort_values("household_id", kind="stable")
    mm = pd.DataFrame({"household_id": m["household_id"], "id_number": m["d_id"], "name": m["d_name"],
                       "relation": m["relation"], "joined_on": m["d_joined_on"],
                       "left_on": m["d_left_on"],
                       "updated_at": updated_at(m, ["joined_on", "left_on"], D, rng)})
    mm = with_dups(mm, 0.004, rng, dirt, "dup_rows_db")
    a = t["allowances"].sort_values("allowance_id")
    aa = pd.DataFrame({"allowance_id": a["allowance_id"], "id_number": a["d_id"], "name": a["d_name"],
                       "kind": a["kind"], "region_code": a["region_code"],
                       "start_on": a["d_start_on"], "end_on": a["d_end_on"],
                       "monthly_amount": a["monthly_amount"].astype(float).round(2),
                       "updated_at": updated_at(a, ["start_on", "end_on"], D, rng)})
    c = t["cremations"].sort_values("record_id")
    cc = pd.DataFrame({"record_id": c["record_id"], "id_number": c["d_id"], "name": c["d_name"],
                       "death_date": c["d_death_date"], "cremation_date": c["d_cremation_date"],
                       "funeral_home": c["funeral_home"],
                       "updated_at": updated_at(c, ["cremation_date"], D, rng)})
    f = t["filings"].sort_values(["filed_on", "pid"], kind="stable")
    ff = pd.DataFrame({"filing_id": np.arange(first[1], first[1] + len(f)), "id_number": f["d_id"].to_numpy(),
                       "staff_id_number": f["d_staff_id"].to_numpy(),
                       "relation": f["relation"].to_numpy(), "filed_on": f["d_filed_on"].to_numpy()})
    ca = {"sa_household": h, "sa_member": mm, "sa_payment": payments(world, hh, rng, dirt, first[0]),
          "sa_allowance": aa, "sa_cremation": cc, "sa_relative_filing": ff}
    s = t["staff"].sort_values("pid")
    ss = pd.DataFrame({"id_number": s["d_id"], "name": s["d_name"], "employer": s["employer"],
                       "employer_kind": s["employer_kind"], "post": s["post"],
                       "payroll_from": s["d_payroll_from"], "payroll_to": s["d_payroll_to"],
                       "updated_at": updated_at(s, ["payroll_from", "payroll_to"], D, rng)})
    k = t["cadres"].sort_values(["region_code", "term_from"], kind="stable")
    kk = pd.DataFrame({"id_number": k["d_id"], "name": k["d_name"], "region_code": k["region_code"],
                       "post": k["post"], "term_from": k["d_term_from"], "term_to": k["d_term_to"],
                       "updated_at": updated_at(k, ["term_from", "term_to"], D, rng)})
    r = t["relatives"].sort_values(["staff_pid", "relative_pid"])
    rr = pd.DataFrame({"staff_id_number": r["d_staff_id"], "relative_id_number": r["d_id"],
                       "relative_name": r["d_name"], "relation": r["relation"],
                       "declared_on": r["d_declared_on"]})
    pe = {"hr_staff": with_dups(ss, 0.005, rng, dirt, "dup_rows_db"),
          "hr_village_cadre": with_dups(kk, 0.005, rng, dirt, "dup_rows_db"),
          "hr_relative": with_dups(rr, 0.005, rng, dirt, "dup_rows_db")}
    return ca, pe
