"""One timed pipeline run, in its own process tree so its peak memory is its own.

Sources are ingested by a pool of worker processes (default 2, one per core),
largest first, the way Airflow's executor runs the five ingest DAGs side by
side; then rules and reports run once. Prints one JSON object: per stage
(extract, validate, load, rules, publish) the busy seconds and the rows handled,
the ingest phase's wall time, the whole run's wall time and the peak RSS of the
largest process.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from multiprocessing import get_context

from safetynet import pipeline

LARGEST_FIRST = ("electricity", "water", "civil_affairs", "property", "personnel")


def ingest_timed(source: str, config: str, day: date) -> dict:
    """Extract, validate and load one source, timing each step (runs in a worker)."""
    t0 = time.perf_counter()
    batch = pipeline.extract(source, day, config)
    t1 = time.perf_counter()
    batch = pipeline.validate(source, batch, config)
    t2 = time.perf_counter()
    loaded = pipeline.load(source, batch, config)
    t3 = time.perf_counter()
    return {"source": source, "read": batch["read"], "loaded": loaded["loaded"],
            "extract": t1 - t0, "validate": t2 - t1, "load": t3 - t2,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def timed_run(config: str, day: date, workers: int = 2) -> dict:
    """Run every step for ``day``; sources in ``workers`` processes, then rules and reports."""
    stages = {k: {"seconds": 0.0, "rows": 0} for k in ("extract", "validate", "load", "rules", "publish")}
    started = time.perf_counter()
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        done = list(pool.map(ingest_timed, LARGEST_FIRST, [config] * 5, [day] * 5))
    ingest_wall = time.perf_counter() - started
    per_source = {}
    for r in done:
        for stage, rows in (("extract", r["read"]), ("validate", r["read"]), ("load", r["loaded"])):
            stages[stage]["seconds"] += r[stage]
            stages[stage]["rows"] += rows
        per_source[r["source"]] = {"rows_read": r["read"], "peak_rss_mb": r["peak_rss_mb"],
                                   "seconds": round(r["extract"] + r["validate"] + r["load"], 2),
                                   **{k: round(r[k], 2) for k in ("extract", "validate", "load")}}
    t0 = time.perf_counter()
    evaluated = pipeline.evaluate(day, config)
    t1 = time.perf_counter()
    published = pipeline.publish(day, config)
    t2 = time.perf_counter()
    stages["rules"].update(seconds=t1 - t0, rows=evaluated["cases"])
    stages["publish"].update(seconds=t2 - t1, rows=published["cases"])
    for s in stages.values():
        s["seconds"] = round(s["seconds"], 2)
        s["rows_per_s"] = round(s["rows"] / s["seconds"]) if s["seconds"] else None
    rss = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return {"workers": workers, "stages": stages, "sources": per_source, "cases": evaluated["cases"],
            "ingest_wall_seconds": round(ingest_wall, 2),
            "total_seconds": round(time.perf_counter() - started, 2),
            "peak_rss_mb": round(rss / 1024)}


def main() -> None:
    """``python -m bench.stages CONFIG DATE [--workers N]`` → JSON on stdout."""
    p = argparse.ArgumentParser()
    p.add_argument("config")
    p.add_argument("date", type=date.fromisoformat)
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args()
    json.dump(timed_run(args.config, args.date, args.workers), sys.stdout)


if __name__ == "__main__":
    main()
