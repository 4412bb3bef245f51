"""One timed pipeline run, every task in a process of its own, as Airflow runs them.

Every configured source's extract, validate and load tasks go to a pool of
worker processes (default 2, one per core), largest source first; a source's next
task is queued when its previous one finishes, the way the executor runs the
ingest DAGs side by side. Then rules and reports, each in a fresh process too.
Task processes are forked from a server that has already imported the pipeline
(``forkserver``), so a task pays no import time and its peak memory is its own.
Prints one JSON object: per stage (extract, validate, load, rules, publish) the
busy seconds and rows handled, per source its steps, the ingest phase's wall
time, the whole run's wall time, the peak RSS of the largest task process, and
the start-up share: the cost of starting one task process (measured with an idle
pool) times the tasks run, against all task seconds; and what a cold interpreter
pays to import the pipeline, for comparison.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from datetime import date
from multiprocessing import get_context
from multiprocessing.context import BaseContext

from safetynet import pipeline
from safetynet.config import load_config

LARGEST = ("electricity", "water", "civil_affairs", "vehicles", "property", "business", "personnel")
"""The generated sources by size, largest first (any other configured source follows them)."""
NEXT_STEP = {"extract": "validate", "validate": "load", "load": None}
PRELOAD = ["safetynet.pipeline", "safetynet.validation", "safetynet.warehouse.load",
           "safetynet.rules.engine", "safetynet.reports.build", "great_expectations"]


def task(step: str, source: str | None, config: str, day: date, batch: dict | None = None) -> dict:
    """Run one pipeline task and time it (runs in a fresh worker process)."""
    started = time.perf_counter()
    if step == "extract":
        result = pipeline.extract(source, day, config)
    elif step in ("validate", "load"):
        result = getattr(pipeline, step)(source, batch, config)
    else:  # "evaluate" or "publish"
        result = getattr(pipeline, step)(day, config)
    return {"step": step, "source": source, "result": result,
            "seconds": time.perf_counter() - started,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def _noop() -> None:
    """A task that does nothing: what is left of it is the cost of starting its process."""


def startup_cost(context: BaseContext, samples: int = 5) -> float:
    """Mean seconds to start a task process the way the run does (forked from the preloaded
    server, one task per process) and get its result back, measured with an idle pool."""
    with ProcessPoolExecutor(1, mp_context=context, max_tasks_per_child=1) as pool:
        pool.submit(_noop).result()  # the first call may still be waiting for the server
        started = time.perf_counter()
        for _ in range(samples):
            pool.submit(_noop).result()
    return (time.perf_counter() - started) / samples


def cold_import_seconds() -> float:
    """Seconds a fresh interpreter takes to import the pipeline and Great Expectations: what each
    task would pay if its process were not forked from a warm one."""
    code = "import safetynet.pipeline, safetynet.validation, great_expectations"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - started


def largest_first(config: str) -> list[str]:
    """The deployment's configured sources, the largest first."""
    configured = list(load_config(config).sources)
    return sorted(configured, key=lambda s: (LARGEST.index(s) if s in LARGEST else len(LARGEST),
                                             configured.index(s)))


def _ingest(pool: ProcessPoolExecutor, config: str, day: date) -> dict[str, dict]:
    """Every configured source's three tasks, each queued when the one before it finished."""
    order = largest_first(config)
    running: set[Future] = {pool.submit(task, "extract", s, config, day) for s in order}
    steps: dict[str, dict] = {s: {} for s in order}
    while running:
        done, running = wait(running, return_when=FIRST_COMPLETED)
        for future in done:
            r = future.result()
            steps[r["source"]][r["step"]] = r
            following = NEXT_STEP[r["step"]]
            if following:
                running.add(pool.submit(task, following, r["source"], config, day, r["result"]))
    return steps


def timed_run(config: str, day: date, workers: int = 2) -> dict:
    """Run every task for ``day``; sources in ``workers`` processes, then rules and reports."""
    stages = {k: {"seconds": 0.0, "rows": 0} for k in ("extract", "validate", "load", "rules", "publish")}
    context = get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    started = time.perf_counter()
    with ProcessPoolExecutor(workers, mp_context=context, max_tasks_per_child=1) as pool:
        steps = _ingest(pool, config, day)
        ingest_wall = time.perf_counter() - started
        evaluated = pool.submit(task, "evaluate", None, config, day).result()
        published = pool.submit(task, "publish", None, config, day).result()
    per_source, peaks = {}, [evaluated["peak_rss_mb"], published["peak_rss_mb"]]
    for source, s in steps.items():
        read, loaded = s["validate"]["result"]["read"], s["load"]["result"]["loaded"]
        for stage, rows in (("extract", read), ("validate", read), ("load", loaded)):
            stages[stage]["seconds"] += s[stage]["seconds"]
            stages[stage]["rows"] += rows
        per_source[source] = {"rows_read": read,
                              "peak_rss_mb": max(s[k]["peak_rss_mb"] for k in NEXT_STEP),
                              "seconds": round(sum(s[k]["seconds"] for k in NEXT_STEP), 2),
                              **{k: round(s[k]["seconds"], 2) for k in NEXT_STEP},
                              **{f"{k}_peak_rss_mb": s[k]["peak_rss_mb"] for k in NEXT_STEP}}
        peaks.append(per_source[source]["peak_rss_mb"])
    tasks = [evaluated, published, *(s[k] for s in steps.values() for k in NEXT_STEP)]
    startup = startup_cost(context) * len(tasks)
    cases = evaluated["result"]["cases"]
    stages["rules"].update(seconds=evaluated["seconds"], rows=cases)
    stages["publish"].update(seconds=published["seconds"], rows=published["result"]["cases"])
    for st in stages.values():
        st["seconds"] = round(st["seconds"], 2)
        st["rows_per_s"] = round(st["rows"] / st["seconds"]) if st["seconds"] else None
    return {"workers": workers, "stages": stages, "sources": per_source, "cases": cases,
            "ingest_wall_seconds": round(ingest_wall, 2), "tasks": len(tasks),
            "startup_seconds": round(startup, 2), "cold_import_seconds": round(cold_import_seconds(), 2),
            "startup_share": round(startup / (startup + sum(t["seconds"] for t in tasks)), 4),
            "total_seconds": round(time.perf_counter() - started, 2),
            "peak_rss_mb": max(peaks),
            "rules_peak_rss_mb": evaluated["peak_rss_mb"], "publish_peak_rss_mb": published["peak_rss_mb"]}


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
