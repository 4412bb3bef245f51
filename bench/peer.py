"""A naive peer: pandas readers, per-value normalisation, ``to_sql`` defaults, rules as merges.

What a first attempt usually looks like: every source read whole with
``read_sql``/``read_csv``/``read_excel`` (default engine); the contract's
normalisation done the obvious way, ``Series.map`` of the project's own scalar
functions over every value (text: NFKC and trimming; ID numbers; addresses, with
the region's prefixes), so it does the same normalisation work we do; written with
``to_sql`` defaults; and R01, R04, R06 and R08 done with merges. It skips
validation, quarantine and case life, so it is a generous lower bound for such a
design.
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import pandas as pd
import yaml
from sqlalchemy import create_engine

from safetynet.sources.declarations import SOURCES
from safetynet.transforms._common import clean_scalar
from safetynet.transforms.addresses import normalize_address
from safetynet.transforms.ids import normalize_id


def _delivered(kind: str) -> set[str]:
    """Every delivered column the declarations normalise as ``kind``."""
    return {raw for src in SOURCES.values() for t in src.tables
            for raw, (_, k) in t.columns.items() if k == kind}


ID_COLUMNS, ADDRESS_COLUMNS = _delivered("id"), _delivered("address")


def run_peer(config_path: Path, pg_url: str, day: date) -> dict:
    """Load and match the deployment naively; return seconds per phase and case counts."""
    cfg = yaml.safe_load(config_path.read_text("utf-8"))
    base = config_path.parent
    engine = create_engine(pg_url)
    frames: dict[str, pd.DataFrame] = {}
    t0 = time.perf_counter()
    for db in ("civil_affairs", "personnel"):
        src = create_engine("sqlite:///" + str(base / cfg["sources"][db]["url"].removeprefix("sqlite:///")))
        tables = pd.read_sql("SELECT name FROM sqlite_master WHERE type = 'table'", src)["name"]
        for table in tables:
            frames[table] = pd.read_sql_table(table, src)
    newest = sorted((base / "drop" / "property").glob("BDC_QLR_*.xlsx"))[-1]
    frames["property"] = pd.read_excel(newest, sheet_name=None, dtype=str)
    frames["property"] = pd.concat(frames["property"].values(), ignore_index=True)
    for name, folder, pattern, enc, sep in (("electricity", "power", "DL_*.csv", "gb18030", ","),
                                            ("water", "water", "SS_*.txt", "utf-8", "|")):
        files = [f for f in sorted((base / "drop" / folder).glob(pattern))
                 if f.with_name(f.name + ".ok").exists()]
        frames[name] = pd.concat([pd.read_csv(f, encoding=enc, sep=sep, dtype=str) for f in files])
    normalise(frames, [cfg["region"].get(k) for k in ("province", "city", "county")])
    t1 = time.perf_counter()
    for name, frame in frames.items():
        frame.to_sql(f"peer_{name}", engine, if_exists="replace", index=False)
    t2 = time.perf_counter()
    cases = _rules(frames, day)
    t3 = time.perf_counter()
    engine.dispose()
    return {"read_and_normalise_seconds": round(t1 - t0, 2), "load_seconds": round(t2 - t1, 2),
            "rules_seconds": round(t3 - t2, 2), "total_seconds": round(t3 - t0, 2),
            "rows_loaded": int(sum(len(f) for f in frames.values())), "cases": cases}


def normalise(frames: dict[str, pd.DataFrame], prefixes: list[str | None]) -> None:
    """Every text value cleaned, ID numbers and addresses normalised, value by value, in place."""
    for frame in frames.values():
        for column in frame.columns:
            if frame[column].dtype != object and not pd.api.types.is_string_dtype(frame[column]):
                continue
            if column in ID_COLUMNS:
                frame[f"{column}_norm"] = frame[column].map(normalize_id)
            elif column in ADDRESS_COLUMNS:
                frame[f"{column}_norm"] = frame[column].map(lambda v: normalize_address(v, prefixes))
            frame[column] = frame[column].map(clean_scalar)


def _rules(f: dict[str, pd.DataFrame], day: date) -> dict[str, int]:
    d = pd.Timestamp(day)
    hh = f["sa_household"]
    hh = hh[(hh["status"] == "ACTIVE")]
    members = f["sa_member"].merge(hh, on="household_id")
    members["id"] = members["id_number"].astype(str).str.strip().str.upper()
    members = members[members["id"].str.len() == 18]  # else missing IDs join everyone to everyone
    crem = f["sa_cremation"].assign(id=lambda x: x["id_number"].astype(str).str.strip().str.upper())
    crem["death"] = pd.to_datetime(crem["death_date"], errors="coerce")
    r01 = members.merge(crem[crem["death"] < d], on="id")["id"].nunique()
    r08 = members.groupby("id")["household_id"].nunique().gt(1).sum()
    prop = f["property"].rename(columns={"证件号码": "id", "规划用途": "use", "不动产单元号": "unit"})
    prop = prop[prop["id"].notna()]
    homes = members.merge(prop[prop["use"] == "住宅"], on="id").groupby("household_id")["unit"].nunique()
    power = f["electricity"].rename(columns={"证件号码": "id", "本月电量": "kwh", "抄表年月": "month"})
    power = power[power["id"].notna()]
    power["kwh"] = pd.to_numeric(power["kwh"].str.replace(",", ""), errors="coerce")
    use = members.merge(power, on="id").groupby(["household_id", "month"])["kwh"].sum()
    r06 = use.groupby(level=0).mean().gt(500).sum()
    return {"R01": int(r01), "R04": int(homes.gt(1).sum()), "R06": int(r06), "R08": int(r08)}


def main() -> None:
    """``python -m bench.peer CONFIG PG_URL DATE`` → the peer's figures as JSON on stdout."""
    import json
    import sys

    config, url, day = sys.argv[1:4]
    json.dump(run_peer(Path(config), url, date.fromisoformat(day)), sys.stdout)


if __name__ == "__main__":
    main()
