"""The load ceiling: raw PostgreSQL ``COPY`` of the same utility rows from a prepared CSV.

The utility files (twelve months of electricity and water) are the bulk of the
delivered rows; copying them as plain text into an unindexed table is the most
any loader could reach on this machine, so our ingestion is measured against it.
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
