"""Reference data: the deployment's administrative divisions (sources.md, "Regions").

Reloaded into ``ref_region`` before each evaluation (a few thousand rows), each
row carrying its township-level ancestor so a case's township is one lookup
(:func:`townships`, which the rules read from the warehouse).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, delete, select

from safetynet.warehouse.bulk import insert_frame
from safetynet.warehouse.schema import ref_region


def read_regions(path: Path) -> pd.DataFrame:
    """Read regions.csv and add each row's township code (None above township level)."""
    frame = pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    missing = {"code", "name", "level", "parent_code"} - set(frame.columns)
    if missing:
        raise ValueError(f"{path}: regions file lacks columns {sorted(missing)}")
    parent = dict(zip(frame["code"], frame["parent_code"], strict=True))
    level = dict(zip(frame["code"], frame["level"], strict=True))

    def township(code: str) -> str | None:
        for _ in range(4):
            if level.get(code) == "township":
                return code
            code = parent.get(code, "")
        return None

    frame["township_code"] = [township(c) for c in frame["code"]]
    return frame


def load_regions(conn: Connection, path: Path) -> dict[str, str]:
    """Replace ``ref_region`` from the file when it differs; return region code → township code."""
    frame = read_regions(path).replace({"": None})
    columns = [c.name for c in ref_region.columns]
    held = sorted(tuple(r) for r in conn.execute(select(*ref_region.columns)))
    wanted = sorted(tuple(None if pd.isna(v) else v for v in r)
                    for r in frame[columns].itertuples(index=False, name=None))
    if held != wanted:  # rewritten only when the file changed: a rewrite re-evaluates every rule
        conn.execute(delete(ref_region))
        insert_frame(conn, ref_region, frame)
    return {c: t for c, t in zip(frame["code"], frame["township_code"], strict=True) if t}


def townships(conn: Connection) -> dict[str, str]:
    """Region code → its township's code, from ``ref_region`` (regions above township level left out)."""
    rows = conn.execute(select(ref_region.c.code, ref_region.c.township_code)
                        .where(ref_region.c.township_code.is_not(None)))
    return {str(code): str(township) for code, township in rows}
