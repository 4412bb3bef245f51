"""Write the vehicle registry's weekly snapshots ``JDC_YYYYMMDD.csv`` (sources.md §6).

UTF-8 with BOM, comma-separated, header on line 1, one row per vehicle in plate
order, with the rendered IDs, names and first-registration dates of the truth and
a few whole-row duplicates. The older snapshot (D-7) shows each vehicle's status
of that week (``status_old``). Bad files for ``extras/bad/vehicles`` live here too.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from safetynet.generate.utility_files import cut_mid_row, mark_all, marker, to_bytes
from safetynet.generate.world import World

HEADERS = ["号牌号码", "号牌种类", "车辆类型", "所有人", "身份证明名称", "身份证明号码", "初次登记日期",
           "机动车状态"]
BOM = b"\xef\xbb\xbf"
PATTERN = "JDC_{:%Y%m%d}.csv"


def snapshot_rows(veh: pd.DataFrame, newest: bool, seed: int, dirt: Counter | None,
                  late: int | None = None) -> pd.DataFrame:
    """Delivered rows (contract headers) of one snapshot, in plate order, with duplicates; the
    vehicles from position ``late`` on (``World.late``) follow the others, drawn apart."""
    if late is not None and late < len(veh):
        return pd.concat([snapshot_rows(veh.iloc[:late], newest, seed, dirt),
                          _rows(veh.iloc[late:], newest, [seed, 6, int(newest), 1], dirt)],
                         ignore_index=True)
    return _rows(veh, newest, [seed, 6, int(newest)], dirt)


def _rows(veh: pd.DataFrame, newest: bool, key: list[int], dirt: Counter | None) -> pd.DataFrame:
    idx = np.flatnonzero((veh["in_new"] if newest else veh["in_old"]).to_numpy(dtype=bool))
    plate = veh["plate"].iloc[idx]
    if not plate.is_monotonic_increasing:  # the truth is kept in plate order (build.py)
        idx = idx[np.argsort(plate.to_numpy(dtype=str), kind="stable")]
    rng = np.random.default_rng(key)
    rep = np.where(rng.random(len(idx)) < 0.004, 2, 1)
    if dirt is not None:
        dirt["dup_rows_vehicles"] += int((rep == 2).sum())
    take = np.repeat(idx, rep)
    cols = ["plate", "plate_kind", "vtype", "d_name", "owner_kind", "d_id", "d_reg_on",
            "status" if newest else "status_old"]
    return pd.DataFrame({h: veh[c].take(take).reset_index(drop=True)
                         for h, c in zip(HEADERS, cols, strict=True)})


def write_csv(rows: pd.DataFrame, path: Path, encoding: str = "utf-8-sig") -> None:
    """Write delivered rows as the registry does: UTF-8 with BOM (or ``encoding``), LF ends."""
    raw = to_bytes(rows, ",")
    path.write_bytes(BOM + raw if encoding == "utf-8-sig" else raw.decode("utf-8").encode(encoding))


def write_vehicles(world: World, out: Path, dirt: Counter) -> dict[str, int]:
    """Write both marked snapshots (D-7 and D) to ``drop/vehicles``; rows per file."""
    folder = out / "drop" / "vehicles"
    folder.mkdir(parents=True, exist_ok=True)
    veh = world.tables["vehicles"]
    counts = {}
    for snap, newest in zip(world.snapshot_dates, (False, True), strict=True):
        rows = snapshot_rows(veh, newest, world.seed, dirt, world.late.get("vehicles"))
        path = folder / PATTERN.format(snap)
        write_csv(rows, path)
        marker(path)
        counts[path.name] = len(rows)
    return counts


def write_bad_vehicles(world: World, base: Path, sample: int = 200) -> list[str]:
    """Bad snapshots (wrong header, empty, truncated, GB18030) in ``base``; README lines."""
    d = base / "vehicles"
    d.mkdir(parents=True, exist_ok=True)
    rows = snapshot_rows(world.tables["vehicles"], True, world.seed, None,
                         world.late.get("vehicles")).head(sample)
    snap = world.snapshot_dates[1]
    days: list[date] = [snap - timedelta(days=k) for k in (35, 42, 49, 56)]
    lines = []
    p = d / PATTERN.format(days[0])
    write_csv(rows.rename(columns={"身份证明号码": "证件号码"}), p)
    lines.append(f"- `bad/vehicles/{p.name}`: wrong header (身份证明号码 → 证件号码).")
    p = d / PATTERN.format(days[1])
    p.write_bytes(b"")
    lines.append(f"- `bad/vehicles/{p.name}`: empty file (0 bytes).")
    p = d / PATTERN.format(days[2])
    write_csv(rows, p)
    cut_mid_row(p, "utf-8-sig", ",")
    lines.append(f"- `bad/vehicles/{p.name}`: truncated mid-row (cut at 55% of its text), "
                 f"marker present anyway.")
    p = d / PATTERN.format(days[3])
    write_csv(rows, p, encoding="gb18030")
    lines.append(f"- `bad/vehicles/{p.name}`: encoded GB18030 instead of UTF-8 with BOM "
                 f"(Chinese plates, kinds and names).")
    mark_all(d)
    return lines
