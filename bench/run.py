"""``make bench``: the daily pipeline at city scale on PostgreSQL, measured side by side.

For each scale (default 1/4, 1/2 and full): generate the deployment with the
project's generator (cached under ``bench/work``), run the whole daily pipeline on
a fresh PostgreSQL database, every task in a process of its own (``bench.stages``:
wall time and rows/s per stage, peak memory), then an incremental day (a few
thousand changed civil-affairs rows and one new electricity month) and an ordinary
day after it (other changed civil-affairs rows, no new month: the rules that read the
readings are then evaluated for the changes only, too). At one scale
(``--peer-scale``, default the smallest) it also measures the load ceilings and a
naive pandas peer on the same data. Each scale's databases are
dropped afterwards (``--keep-databases`` keeps them). The ceilings are two (``bench.ceiling``):
raw-text and like-for-like; the peer normalises as we do (``bench.peer``). Results:
``bench/results/bench.json`` and ``bench.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from datetime import date, timedelta
from multiprocessing import get_context
from pathlib import Path

from sqlalchemy import create_engine, text

from bench.ceiling import copy_ceiling, like_for_like, prepare_csv
from bench.report import write_report
from safetynet.generate import generate_deployment

ROOT = Path(__file__).resolve().parent
D = date(2026, 11, 20)


def _admin(server: str, statement: str) -> None:
    admin = create_engine(f"{server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(statement))
    admin.dispose()


def fresh_database(server: str) -> str:
    """Create an empty database on the server; return its URL."""
    name = f"bench_{uuid.uuid4().hex[:10]}"
    _admin(server, f'CREATE DATABASE "{name}" TEMPLATE template0 ENCODING \'UTF8\'')
    return f"{server}/{name}"


def drop_database(url: str) -> None:
    """Drop a benchmark database (a city-scale warehouse takes several gigabytes)."""
    server, name = url.rsplit("/", 1)
    _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def point_at(config: Path, url: str) -> None:
    """Use ``url`` as the deployment's warehouse and a fresh work folder."""
    lines = config.read_text("utf-8").splitlines()
    out = [f"warehouse: {url}" if ln.startswith("warehouse:") else ln for ln in lines]
    out = [ln for ln in out if not ln.startswith("work_dir:")] + [f"work_dir: work-{url.rsplit('/', 1)[1]}"]
    config.write_text("\n".join(out) + "\n", "utf-8")


def timed(config: Path, day: date) -> dict:
    """Run the pipeline for ``day`` in a child process and return its measurements."""
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "bench.stages", str(config), day.isoformat()],
                          stdout=subprocess.PIPE, check=True, cwd=ROOT.parent)
    result = json.loads(proc.stdout)
    result["wall_seconds"] = round(time.perf_counter() - started, 2)
    return result


def peer_in_child(config: Path, url: str) -> dict:
    """Run the naive peer in its own process: its memory is its own, and if it dies the bench goes on."""
    proc = subprocess.run([sys.executable, "-m", "bench.peer", str(config), url, D.isoformat()],
                          stdout=subprocess.PIPE, check=False, cwd=ROOT.parent)
    if proc.returncode:
        return {"failed": f"exit code {proc.returncode}", "total_seconds": None}
    return json.loads(proc.stdout)


def touch_members(deployment: Path, rows: int, at: str, last: bool = False) -> None:
    """Give ``rows`` civil-affairs member rows (the first ones, or the ``last``) a new ``updated_at``."""
    order = "DESC" if last else "ASC"
    with sqlite3.connect(deployment / "sources" / "civil_affairs.db") as db:
        db.execute(f"UPDATE sa_member SET updated_at = ? WHERE rowid IN "
                   f"(SELECT rowid FROM sa_member ORDER BY rowid {order} LIMIT ?)", (at, rows))


def incremental_changes(deployment: Path, rows: int) -> dict:
    """Touch ``rows`` civil-affairs rows and deliver one new, complete electricity month."""
    touch_members(deployment, rows, "2026-11-21 07:00:00")
    drop = deployment / "drop" / "power"
    last = sorted(p for p in drop.glob("DL_*.csv") if p.with_name(p.name + ".ok").exists())[-1]
    month = last.stem[3:]
    new_month = f"{int(month[:4]) + int(month[4:]) // 12}{int(month[4:]) % 12 + 1:02d}"
    target = drop / f"DL_{new_month}.csv"
    data = last.read_bytes().replace(f",{month},".encode(), f",{new_month},".encode())
    target.write_bytes(data)
    target.with_name(target.name + ".ok").touch()
    return {"civil_affairs_rows_changed": rows, "new_electricity_file": target.name}


def generate_in_child(folder: Path, households: int) -> None:
    """Generate a deployment in a child process, so its memory leaves with it."""
    options = {"households": households, "seed": 7, "report_date": D}
    child = get_context("spawn").Process(target=generate_deployment, args=(folder,), kwargs=options)
    child.start()
    child.join()
    if child.exitcode:
        sys.exit(f"[bench] generating {households:,} households failed (exit code {child.exitcode})")


def bench_scale(households: int, server: str, peer: bool, keep: bool = False) -> dict:
    """Everything measured at one scale; its databases are dropped after unless ``keep``."""
    pristine = ROOT / "work" / f"h{households}"
    if not (pristine / "config.yaml").exists():
        generate_in_child(pristine, households)
    source = ROOT / "work" / f"run-h{households}"  # the incremental day changes its copy only
    shutil.rmtree(source, ignore_errors=True)
    shutil.copytree(pristine, source, ignore=shutil.ignore_patterns("work-*", "ceiling.csv"))
    config = source / "config.yaml"
    urls = [fresh_database(server)]
    point_at(config, urls[0])
    out: dict = {"households": households, "full": timed(config, D)}
    if peer:
        csv_path = source / "ceiling.csv"
        rows = prepare_csv(source, csv_path)
        urls += [fresh_database(server), fresh_database(server)]
        out["ceiling"] = copy_ceiling(urls[1], csv_path, rows)
        out["like_for_like"] = like_for_like(urls[0], source)
        out["peer"] = peer_in_child(config, urls[2])
    out["incremental_changes"] = incremental_changes(source, max(1000, households // 100))
    out["incremental"] = timed(config, D + timedelta(1))
    # the day after: other civil-affairs rows, no new month (most days of a month are like it)
    touch_members(source, max(1000, households // 100), "2026-11-22 07:00:00", last=True)
    out["ordinary"] = timed(config, D + timedelta(2))
    for url in urls if not keep else []:
        drop_database(url)
    if keep:
        print(f"[bench] warehouse kept: {urls[0]}", file=sys.stderr, flush=True)
    return out


def main() -> None:
    """Parse arguments, run every scale, write the report."""
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--households", type=int, default=400_000, help="full scale (default: city)")
    p.add_argument("--scales", default="0.25,0.5,1", help="fractions of --households")
    p.add_argument("--peer-scale", type=float, default=0.25, help="scale for the ceiling and peer")
    p.add_argument("--pg", default=os.environ.get("SAFETYNET_BENCH_PG_URL",
                                                  "postgresql+psycopg2://postgres@127.0.0.1:5432"))
    p.add_argument("--keep-databases", action="store_true", help="keep each scale's warehouse to inspect")
    args = p.parse_args()
    results = []
    for fraction in [float(x) for x in args.scales.split(",")]:
        n = int(args.households * fraction)
        print(f"[bench] scale {fraction:g}: {n:,} households", file=sys.stderr, flush=True)
        results.append(bench_scale(n, args.pg, peer=fraction == args.peer_scale, keep=args.keep_databases))
    out = ROOT / "results"
    out.mkdir(exist_ok=True)
    previous = None
    if (out / "bench.json").exists():  # kept for the report's before/after table
        shutil.copyfile(out / "bench.json", out / "bench.previous.json")
        previous = json.loads((out / "bench.previous.json").read_text("utf-8"))
    (out / "bench.json").write_text(json.dumps(results, indent=2), "utf-8")
    write_report(results, out / "bench.md", previous)
    print(f"[bench] report: {out / 'bench.md'}", file=sys.stderr)


if __name__ == "__main__":
    main()
