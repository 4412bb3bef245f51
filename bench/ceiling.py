"""The load ceilings our utility ingestion is measured against.

The utility files (twelve months of electricity and water) are the bulk of the
delivered rows. Two ceilings: the *raw-text* one copies the files' rows, as
delivered, into an unindexed text table (the most any loader could reach on this
machine); the *like-for-like* one copies the rows we conformed into a table with
``core_utility_reading``'s columns and indexes (what the database alone needs for
the same result).
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
from sqlalchemy import create_engine, text


def prepare_csv(deployment: Path, out: Path) -> int:
    """Concatenate every complete utility file, as delivered, into one UTF-8 CSV."""
    rows = 0
    with out.open("w", encoding="utf-8", newline="") as fh:
        for folder, pattern, enc, sep in (("power", "DL_*.csv", "gb18030", ","),
                                          ("water", "SS_*.txt", "utf-8", "|")):
            for f in sorted((deployment / "drop" / folder).glob(pattern)):
                if not f.with_name(f.name + ".ok").exists():
                    continue
                frame = pd.read_csv(f, encoding=enc, sep=sep, dtype=str, keep_default_na=False)
                frame.to_csv(fh, index=False, header=False)
                rows += len(frame)
    return rows


def copy_ceiling(pg_url: str, csv_path: Path, rows: int) -> dict:
    """Time ``COPY … FROM STDIN`` of the prepared CSV into a fresh text table."""
    engine = create_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS bench_ceiling"))
        conn.execute(text("CREATE TABLE bench_ceiling (account TEXT, holder TEXT, holder_id TEXT, "
                          "address TEXT, period TEXT, usage TEXT)"))
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        started = time.perf_counter()
        with csv_path.open(encoding="utf-8") as fh:
            cur.copy_expert("COPY bench_ceiling FROM STDIN WITH (FORMAT csv)", fh)
        raw.commit()
        seconds = time.perf_counter() - started
    finally:
        raw.close()
        engine.dispose()
    return {"rows": rows, "seconds": round(seconds, 2), "rows_per_s": round(rows / seconds)}


def like_for_like(pg_url: str, work: Path) -> dict:
    """Time a raw ``COPY`` of the warehouse's own conformed utility rows into an empty copy of
    ``core_utility_reading`` with the same indexes: what loading these rows costs the database
    alone, with none of our reading, conforming or checking (issue 21's like-for-like ceiling)."""
    engine = create_engine(pg_url)
    raw = engine.raw_connection()
    dump = work / "like_for_like.copy"
    try:
        cur = raw.cursor()
        with dump.open("wb") as fh:
            cur.copy_expert("COPY core_utility_reading TO STDOUT", fh)
        cur.execute("SELECT COUNT(*) FROM core_utility_reading")
        (rows,) = cur.fetchone() or (0,)
        cur.execute("DROP TABLE IF EXISTS bench_like")
        cur.execute("CREATE TABLE bench_like "
                    "(LIKE core_utility_reading INCLUDING DEFAULTS INCLUDING INDEXES)")
        raw.commit()
        started = time.perf_counter()
        with dump.open("rb") as fh:
            cur.copy_expert("COPY bench_like FROM STDIN", fh)
        raw.commit()
        seconds = time.perf_counter() - started
        cur.execute("DROP TABLE bench_like")
        raw.commit()
    finally:
        raw.close()
        engine.dispose()
        dump.unlink(missing_ok=True)
    return {"rows": rows, "seconds": round(seconds, 2), "rows_per_s": round(rows / seconds)}
