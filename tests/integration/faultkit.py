"""Harness for the crash tests: run the pipeline in a killable child, damage it, compare states.

What "converged" means is decided here, once, for the fault matrix and the
isolation tests alike:

* **Warehouse:** every table's rows, ordered by all compared columns, hashed.
  Left out are only the columns whose value is *when* something happened, which
  differ between any two runs, faults or not: ``meta_file.seen_at``,
  ``meta_load_log.loaded_at``, ``meta_source_state.loaded_at`` and
  ``last_attempt_at``, ``meta_validation.validated_at``, ``meta_report_chain.recorded_at``,
  ``meta_refused.refused_at``, ``meta_acceptance.accepted_at``; and
  ``meta_validation.expected`` (bounds computed from the load found in the
  warehouse). For *incremental* database items (those with a watermark) the load
  log's counts and the validation results describe the last increment read, and
  a re-run, like any later nightly run, reads one more (``updated_at >=
  watermark``): there only their identity is compared (:data:`PER_INCREMENT`).
  Everything else, the core rows, watermarks, file registry, quarantine, source
  state and cases, is compared whole. ``meta_audit`` is
  append-only and records every publication truthfully, so a faulted run that
  did publish (a source marked stale after a cut) leaves an extra, correct row
  that must stay; it is therefore compared by its content-bearing columns
  (``action`` with ``extract_republished`` read as ``extract_published``,
  ``report_date``, ``detail``) of the **last** publication only, and its
  ``id``/``at``/``run_id`` are ignored. ``meta_task_failure`` is written by
  Airflow callbacks only (never by ``safetynet run``) and must stay empty.
* **Published extract:** SHA-256 of the case CSV and the monitoring CSV; the
  workbook's cells (its summary sheet's load times masked: the workbook shows
  when each source was loaded); the manifest without ``generated_at``, the
  sources' ``loaded_at``/``last_attempt_at`` and the workbook's checksum (all
  times again). ``_SUCCESS`` must exist and no ``.part`` file may be left.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import multiprocessing
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest

D = date(2026, 11, 20)
SFTP_CONN = "departments_sftp"

VOLATILE_COLUMNS: dict[str, set[str]] = {
    "meta_file": {"seen_at"},
    "meta_load_log": {"loaded_at"},
    "meta_source_state": {"loaded_at", "last_attempt_at"},
    "meta_validation": {"validated_at", "expected"},
    "meta_report_chain": {"recorded_at"},
    "meta_refused": {"refused_at"},
    "meta_acceptance": {"accepted_at"},
    "meta_evaluation": {"mark", "evaluated_at"},
}
"""Columns that hold the time something happened, so they differ between any two runs, and
``meta_validation.expected``: the volume bounds a check used, which come from the previous
load found in the warehouse (a re-validation after a committed first attempt rightly checks
against that load; success, outcome and observed values are still compared)."""

PER_INCREMENT: dict[str, tuple[str, ...]] = {
    "meta_load_log": ("source", "item", "batch_id"),
    "meta_validation": ("source", "item", "batch_id", "expectation", "column_name", "level"),
}
"""The accounting and validation rows of an *incremental* database item describe the last
increment read (``updated_at >= watermark`` re-reads the rows at the watermark), so a
retry, like any later nightly run, replaces them with the small re-read batch's. For
those items only their identity is compared; full tables and files are compared whole."""

KEY_COLUMNS: dict[str, tuple[str, ...]] = {
    "core_household": ("household_id",),
    "core_member": ("row_key",),
    "core_payment": ("payment_id",),
    "core_allowance": ("allowance_id",),
    "core_cremation": ("record_id",),
    "core_relative_filing": ("filing_id",),
    "core_staff": ("row_key",),
    "core_cadre": ("row_key",),
    "core_property_right": ("snapshot_date", "unit_no", "owner_id_raw", "owner_name"),
    "core_utility_reading": ("source", "month", "account_no"),
    "meta_file": ("source", "file_name"),
    "meta_load_log": ("source", "item"),
    "meta_watermark": ("source", "table_name"),
    "mart_case_day": ("report_date", "case_key"),
}
"""What identifies a row of each core (and key bookkeeping) table, for the duplicate/missing check."""


# --------------------------------------------------------------------------- warehouse state


def _ordered_rows(conn: Any, table: str, columns: list[str]) -> list[tuple[Any, ...]]:
    from sqlalchemy import text

    cols = ", ".join(f'"{c}"' for c in columns)
    order = ", ".join(str(i) for i in range(1, len(columns) + 1))
    return [tuple(r) for r in conn.execute(text(f"SELECT {cols} FROM {table} ORDER BY {order}"))]


def _digest(rows: list[tuple[Any, ...]]) -> str:
    h = hashlib.sha256()
    for row in rows:
        h.update(repr(row).encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()


@dataclass
class WarehouseState:
    """Row counts and ordered checksums per table, plus the keys of core tables."""

    tables: dict[str, tuple[int, str]]
    rows: dict[str, list[tuple[Any, ...]]]
    keys: dict[str, list[tuple[Any, ...]]]
    last_publication: tuple[str, str, dict] | None
    audit_actions: list[str]

    def differences(self, other: WarehouseState) -> list[str]:
        """Human-readable differences from ``other`` (the reference); empty when equal."""
        out = []
        for name in sorted(set(self.tables) | set(other.tables)):
            mine, ref = self.tables.get(name), other.tables.get(name)
            if mine != ref:
                have, want = set(self.rows.get(name, [])), set(other.rows.get(name, []))
                out.append(f"{name}: {mine[0] if mine else '-'} rows vs {ref[0] if ref else '-'} in the "
                           f"clean run; only here {sorted(have - want, key=repr)[:3]}, only in the clean "
                           f"run {sorted(want - have, key=repr)[:3]}")
        for name, ref_keys in other.keys.items():
            have, want = set(self.keys.get(name, [])), set(ref_keys)
            if have != want:
                out.append(f"{name}: missing keys {sorted(want - have)[:5]}, extra keys "
                           f"{sorted(have - want)[:5]}")
        if self.last_publication != other.last_publication:
            out.append(f"meta_audit: last publication {self.last_publication!r:.300} vs "
                       f"{other.last_publication!r:.300}")
        return out

    def duplicate_keys(self) -> dict[str, int]:
        """Per core table, how many key values occur more than once."""
        out = {}
        for name, keys in self.keys.items():
            dupes = len(keys) - len(set(keys))
            if dupes:
                out[name] = dupes
        return out


def warehouse_state(url: str) -> WarehouseState:
    """Read the comparable state of the warehouse at ``url`` (see the module docstring)."""
    from sqlalchemy import create_engine, inspect, text

    from safetynet.warehouse.schema import metadata

    engine = create_engine(url)
    try:
        present = set(inspect(engine).get_table_names())
        tables, keys, content = {}, {}, {}
        with engine.connect() as conn:
            incremental: set[tuple[str, str]] = set()
            if "meta_watermark" in present:
                incremental = {(str(s), str(t)) for s, t in conn.execute(
                    text("SELECT source, table_name FROM meta_watermark"))}
            for table in metadata.sorted_tables:
                if table.name not in present or table.name in ("meta_audit", "int_change_log"):  # logs
                    continue
                columns = [c.name for c in table.columns
                           if c.name not in VOLATILE_COLUMNS.get(table.name, set())]
                rows = _ordered_rows(conn, table.name, columns)
                if table.name in PER_INCREMENT:
                    rows = _per_increment(table.name, columns, rows, incremental)
                tables[table.name] = (len(rows), _digest(rows))
                content[table.name] = rows
                if table.name in KEY_COLUMNS:
                    keys[table.name] = _ordered_rows(conn, table.name, list(KEY_COLUMNS[table.name]))
            audit = conn.execute(text("SELECT action, report_date, detail FROM meta_audit ORDER BY id")).all()
    finally:
        engine.dispose()
    publications = [(a.replace("extract_republished", "extract_published"), str(d)[:10], _without_workbook(t))
                    for a, d, t in audit if a.startswith("extract_")]
    return WarehouseState(tables, content, keys, publications[-1] if publications else None,
                          [a for a, _, _ in audit])


def _without_workbook(detail: str) -> dict:
    """An audit row's detail without the workbook's checksum (the workbook shows load times)."""
    body = json.loads(detail)
    body["files"] = {k: v for k, v in body.get("files", {}).items() if not k.endswith(".xlsx")}
    return dict(body)


def _per_increment(table: str, columns: list[str], rows: list[tuple[Any, ...]],
                   incremental: set[tuple[str, str]]) -> list[tuple[Any, ...]]:
    """Keep only the identity of the last increment's accounting for incremental items."""
    keep = [columns.index(c) for c in PER_INCREMENT[table]]
    src, item = columns.index("source"), columns.index("item")
    out = [(*(r[i] for i in keep), "<last increment>") if (r[src], r[item]) in incremental else r
           for r in rows]
    return sorted(out, key=repr)


# --------------------------------------------------------------------------- published extract

_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
"""A time in a cell: ISO (``2026-11-20T06:11:02``) or as people read it (``2026-11-20 14:11（北京时间）``)."""


def published_state(folder: Path) -> dict[str, object]:
    """What must be equal between two publications of the same day (see the module docstring)."""
    names = sorted(p.name for p in folder.iterdir())
    out: dict[str, object] = {"names": names}
    for name in names:
        path = folder / name
        if name.endswith(".csv"):
            out[name] = hashlib.sha256(path.read_bytes()).hexdigest()
        elif name.endswith(".xlsx"):
            out[name] = _workbook_cells(path)
        elif name == "manifest.json":
            manifest = json.loads(path.read_text("utf-8"))
            manifest.pop("generated_at")
            for source in manifest["sources"].values():
                source.pop("loaded_at")
                source.pop("last_attempt_at")
            for entry in manifest["files"]:
                if entry["name"].endswith(".xlsx"):
                    entry.pop("sha256")
                    entry.pop("size")
            out[name] = manifest
    return out


def _workbook_cells(path: Path) -> str:
    """SHA-256 over every sheet's cell values, load times masked."""
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True)
    h = hashlib.sha256()
    for ws in wb.worksheets:
        h.update(ws.title.encode())
        for row in ws.iter_rows(values_only=True):
            cells = ["<time>" if isinstance(v, str) and _TIMESTAMP.match(v) else v for v in row]
            h.update(repr(cells).encode())
    wb.close()
    return h.hexdigest()


# --------------------------------------------------------------------------- the child process


@dataclass
class ChildRun:
    """How a pipeline run in a child process ended."""

    exitcode: int | None
    result: dict | None
    error: str | None
    marker: dict | None
    log: Path
    seconds: float

    def describe(self) -> str:
        tail = self.log.read_text(errors="replace")[-2500:] if self.log.exists() else ""
        result = json.dumps(self.result, default=str)[:400] if self.result else None
        return (f"exit {self.exitcode}, error {self.error}, marker {self.marker}, result {result}\n"
                f"--- log tail ---\n{tail}")


def _child_main(config: str, report_date: str, env: dict[str, str], log: str, result: str,
                step: str) -> None:
    """Body of the child: set its environment, send output to ``log``, run, write the outcome."""
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.environ.update(env)
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        force=True)
    from safetynet import pipeline

    code = 0
    try:
        if step == "run":
            outcome: dict = pipeline.run(report_date, config)
        else:  # "ingest:<source>"
            outcome = pipeline.ingest(step.split(":", 1)[1], report_date, config)
        body = {"result": outcome, "error": None}
    except BaseException as exc:
        traceback.print_exc()
        body, code = {"result": None, "error": f"{type(exc).__name__}: {exc}"}, 1
    Path(result).write_text(json.dumps(body, default=str), "utf-8")
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


_CONTEXT: multiprocessing.context.ForkServerContext | None = None


def _context() -> multiprocessing.context.ForkServerContext:
    """A fork server that has imported the pipeline and Great Expectations once.

    Each run is a fresh process forked from it (a real, separately killable
    process with its own connections), without paying GX's 6-9 s import each time.
    """
    global _CONTEXT
    if _CONTEXT is None:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["tests.integration.faultkit_preload"])
        _CONTEXT = ctx
    return _CONTEXT


class Child:
    """One pipeline run in a child process, optionally with a fault point armed."""

    def __init__(self, workdir: Path, config: Path, env: dict[str, str], *, point: str | None = None,
                 kind: str = "sigkill", step: str = "run", label: str = "run") -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.marker = workdir / f"{label}.fault"
        self.log = workdir / f"{label}.log"
        self.result = workdir / f"{label}.result.json"
        for stale in (self.marker, Path(f"{self.marker}.go"), self.result):
            stale.unlink(missing_ok=True)
        child_env = {**env, "SAFETYNET_FAULT": "", "SAFETYNET_FAULT_KIND": kind,
                     "SAFETYNET_FAULT_SIGNAL": str(self.marker)}
        if point:
            child_env["SAFETYNET_FAULT"] = point
        self.started = time.monotonic()
        self.process = _context().Process(
            target=_child_main, args=(str(config), D.isoformat(), child_env, str(self.log),
                                      str(self.result), step), daemon=True)
        self.process.start()

    @property
    def pid(self) -> int:
        assert self.process.pid is not None
        return self.process.pid

    def wait_marker(self, timeout: float = 180) -> dict:
        """Wait until the armed point fired (it writes the marker); fail if the child ended first."""
        deadline = time.monotonic() + timeout
        while not self.marker.exists():
            if not self.process.is_alive():
                pytest.fail(f"the child ended before its fault point fired:\n{self.finish().describe()}")
            if time.monotonic() > deadline:
                self.kill()
                pytest.fail(f"the fault point did not fire within {timeout:g}s:\n{self.finish().describe()}")
            time.sleep(0.02)
        return json.loads(self.marker.read_text("utf-8"))

    def go(self) -> None:
        """Let a paused point continue."""
        Path(f"{self.marker}.go").touch()

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)

    def finish(self, timeout: float = 300) -> ChildRun:
        """Wait for the child to end and collect its outcome."""
        self.process.join(timeout)
        if self.process.is_alive():
            self.kill()
            self.process.join(10)
            pytest.fail(f"the child run did not end within {timeout:g}s; killed it. Log:\n"
                        f"{self.log.read_text(errors='replace')[-3000:]}")
        body = json.loads(self.result.read_text("utf-8")) if self.result.exists() else {}
        marker = json.loads(self.marker.read_text("utf-8")) if self.marker.exists() else None
        return ChildRun(self.process.exitcode, body.get("result"), body.get("error"), marker, self.log,
                        time.monotonic() - self.started)


def run_child(workdir: Path, config: Path, env: dict[str, str], *, label: str = "run",
              step: str = "run") -> ChildRun:
    """A whole run without faults, in a child; fails the test unless it succeeds with no stale source."""
    done = Child(workdir, config, env, label=label, step=step).finish()
    if done.exitcode != 0 or (done.result or {}).get("failed_sources"):
        pytest.fail(f"the run without faults did not succeed: {done.describe()}")
    return done


# --------------------------------------------------------------------------- deployments over SFTP


def over_sftp(config: Path, server: Any, tag: str) -> tuple[Path, dict[str, str]]:
    """Move the drops and the outbox onto the sshd, point ``config`` at them; return (remote, env)."""
    remote = server.data / tag
    shutil.rmtree(remote, ignore_errors=True)  # what an earlier test left there
    remote.mkdir(parents=True)
    shutil.move(str(config.parent / "drop"), remote / "drop")
    (remote / "outbox").mkdir()
    body, moved = re.subn(r"location: (drop/\w+|outbox)$", rf"location: sftp://{SFTP_CONN}{remote}/\1",
                          config.read_text("utf-8"), flags=re.MULTILINE)
    assert moved == len(list((remote / "drop").iterdir())) + 1, body  # every drop and the outbox
    config.write_text(body, "utf-8")
    return remote, {f"AIRFLOW_CONN_{SFTP_CONN.upper()}": server.conn_env()}


def set_warehouse(config: Path, url: str) -> None:
    """Point the deployment's warehouse at ``url``."""
    body = config.read_text("utf-8")
    lines = [f"warehouse: {url}" if line.startswith("warehouse:") else line for line in body.splitlines()]
    config.write_text("\n".join(lines) + "\n", "utf-8")


def reset_deployment(template: Path, dest: Path) -> Path:
    """A fresh copy of a prepared deployment folder (no work_dir, no landing); returns its config."""
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(template, dest, symlinks=True, ignore=shutil.ignore_patterns("work", "warehouse.db*"))
    return dest / "config.yaml"


# --------------------------------------------------------------------------- sshd sessions


def _children(pid: int) -> list[int]:
    """Every descendant of ``pid`` (from /proc; the test machine is Linux)."""
    parents: dict[int, list[int]] = {}
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
            parents.setdefault(int(fields[1]), []).append(int(stat_file.parent.name))
    out, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def cut_sftp_sessions(server: Any) -> int:
    """SIGKILL every sshd process serving a session (the listener stays); return how many.

    The pipeline's one SSH session then sees its TCP connection die mid-operation,
    exactly like a dropped link; new sessions are accepted as before.
    """
    victims = _children(server.process.pid)
    for pid in victims:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return len(victims)


# --------------------------------------------------------------------------- a PostgreSQL cluster of our own


@dataclass
class PrivateCluster:
    """A throwaway PostgreSQL cluster this module owns, so it may crash it (``pg_ctl -m immediate``)."""

    url: str
    data_dir: Path
    pg_ctl: str
    stop: Callable[[], None]
    restarts: int = 0
    run_as: str | None = field(default=None)

    def crash_restart(self) -> None:
        """Stop the server the way a crash does (no checkpoint, every backend killed) and start it again.

        ``pg_ctl restart`` reuses the original options (postmaster.opts); it
        recovers from the WAL on start, as after a power cut.
        """
        log = self.data_dir.parent / "server.log"
        done = subprocess.run([self.pg_ctl, "-D", str(self.data_dir), "-m", "immediate", "-l", str(log),
                               "-w", "-t", "60", "restart"], capture_output=True, timeout=90,
                              user=self.run_as, check=False)
        if done.returncode != 0:
            pytest.fail(f"pg_ctl restart failed: {done.stderr.decode(errors='replace')[-800:]}")
        self.restarts += 1


@contextlib.contextmanager
def private_cluster() -> Iterator[PrivateCluster]:
    """Start a private cluster with the shared test code (``tests.conftest``) on its own port.

    Never the shared server at 5432: restarting that would break everyone else's
    tests and benchmarks. Fails (never skips) when no PostgreSQL binaries exist.
    """
    import psycopg2
    from tests.conftest import _pg_binaries, _start_throwaway_cluster

    binaries = _pg_binaries()
    if binaries is None:
        pytest.fail("the crash tests need initdb/pg_ctl (PostgreSQL server binaries) to run a cluster they "
                    "may restart: apt-get install -y postgresql", pytrace=False)
    try:
        url, stop = _start_throwaway_cluster()
    except Exception as exc:
        pytest.fail(f"cannot start a private PostgreSQL cluster: {exc}", pytrace=False)
    try:
        port = int(url.rsplit(":", 1)[1])
        with contextlib.closing(psycopg2.connect(host="127.0.0.1", port=port, user="postgres",
                                                 dbname="postgres")) as conn, conn.cursor() as cur:
            cur.execute("SHOW data_directory")
            data_dir = Path(cur.fetchone()[0])
        run_as = "postgres" if os.geteuid() == 0 else None  # as _start_throwaway_cluster runs it
        yield PrivateCluster(url, data_dir, binaries[1], stop, run_as=run_as)
    finally:
        stop()


def create_database(server_url: str, name: str) -> str:
    """Create an empty UTF-8 database ``name`` (dropping an old one); return its URL."""
    from sqlalchemy import create_engine, text

    admin = create_engine(f"{server_url}/postgres", isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :n AND pid <> pg_backend_pid()"), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}" ENCODING \'UTF8\' TEMPLATE template0'))
    finally:
        admin.dispose()
    return f"{server_url}/{name}"


def inconsistencies(url: str) -> list[str]:
    """Bookkeeping that claims more (or less) than the data holds: what a torn load would leave.

    A watermark without its table's rows and accounting, a file registered as
    loaded without its readings, readings without their file's registration.
    """
    from sqlalchemy import create_engine, inspect, text

    from safetynet.sources.declarations import DB_SPECS

    engine = create_engine(url)
    problems = []
    try:
        if "meta_watermark" not in set(inspect(engine).get_table_names()):
            return []
        with engine.connect() as conn:
            marks = {(s, t) for s, t in conn.execute(text("SELECT source, table_name FROM meta_watermark"))}
            logged = {(s, i) for s, i in conn.execute(text("SELECT source, item FROM meta_load_log"))}
            for source, specs in DB_SPECS.items():
                for spec in specs:
                    rows = conn.execute(text(f"SELECT COUNT(*) FROM {spec.target}")).scalar()
                    if (source, spec.name) in marks and (source, spec.name) not in logged:
                        problems.append(f"watermark of {source}.{spec.name} without its load log")
                    if spec.watermark and rows and (source, spec.name) not in marks:
                        problems.append(f"{spec.target} has {rows} rows, {source}.{spec.name} no watermark")
                    if (source, spec.name) in marks and not rows:
                        problems.append(f"watermark of {source}.{spec.name} but {spec.target} is empty")
            files = {(s, f) for s, f in conn.execute(text(
                "SELECT source, file_name FROM meta_file WHERE outcome = 'loaded' "
                "AND source IN ('electricity', 'water')"))}
            readings = {(s, f) for s, f in conn.execute(text(
                "SELECT DISTINCT source, file_name FROM core_utility_reading"))}
            problems += [f"{s} {f} registered as loaded, no readings" for s, f in sorted(files - readings)]
            problems += [f"{s} {f} has readings, not registered" for s, f in sorted(readings - files)]
    finally:
        engine.dispose()
    return problems
