"""One timed pipeline run, in its own process so its peak memory is its own.

Prints one JSON object: per stage (extract, validate, load, rules, reports and
publish) the wall time and the rows it handled, and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from datetime import date

from safetynet import pipeline


def timed_run(config: str, day: date) -> dict:
    """Run every step for ``day`` and time each stage across sources."""
    stages = {k: {"seconds": 0.0, "rows": 0} for k in ("extract", "validate", "load", "rules", "publish")}
    per_source = {}
    for source in pipeline.SOURCES:
        t0 = time.perf_counter()
        batch = pipeline.extract(source, day, config)
        t1 = time.perf_counter()
        batch = pipeline.validate(source, batch, config)
        t2 = time.perf_counter()
        loaded = pipeline.load(source, batch, config)
        t3 = time.perf_counter()
        steps = (("extract", t1 - t0, batch["read"]), ("validate", t2 - t1, batch["read"]),
                 ("load", t3 - t2, loaded["loaded"]))
        for stage, seconds, rows in steps:
            stages[stage]["seconds"] += seconds
            stages[stage]["rows"] += rows
        per_source[source] = {"rows_read": batch["read"], "seconds": round(t3 - t0, 2)}
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
    return {"stages": stages, "sources": per_source, "cases": evaluated["cases"],
            "total_seconds": round(sum(s["seconds"] for s in stages.values()), 2),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def main() -> None:
    """``python -m bench.stages CONFIG DATE`` → JSON on stdout."""
    p = argparse.ArgumentParser()
    p.add_argument("config")
    p.add_argument("date", type=date.fromisoformat)
    args = p.parse_args()
    json.dump(timed_run(args.config, args.date), sys.stdout)


if __name__ == "__main__":
    main()
