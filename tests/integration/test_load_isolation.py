"""No partial visibility (issue #9, item 2): a reader sees the state before a load or after it, never a part.

A separate process loads the civil-affairs batch and pauses at the fault point
``load.copy:3`` (households and members copied, payments not yet, the one load
transaction open). Meanwhile a reader polls every loaded table and the
bookkeeping tables (counts and a checksum of all rows, each observation one
consistent snapshot). The test then SIGKILLs the loading process, loads the
batch again to completion, and requires that every observation equals either the
state before the load or the complete new batch. It also proves the window was
real: the reader made many observations while the loader's transaction was open
and holding its written rows.
"""

from __future__ import annotations

import hashlib
import signal
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
from sqlalchemy.engine import make_url
from tests.integration import faultkit as fk

WATCHED = ("core_household", "core_member", "core_payment", "core_allowance", "core_cremation",
           "core_relative_filing", "meta_load_log", "meta_watermark", "meta_quarantine",
           "meta_source_state", "meta_file", "stg_batch_key")
MIN_OBSERVATIONS = 50  # while the loader's transaction is open
Observation = tuple[tuple[str, int, str], ...]


def _pg_observer(url: str) -> tuple[Callable[[], Observation], Callable[[], None]]:
    """One observation = one REPEATABLE READ snapshot: per table, row count and md5 of all rows."""
    u = make_url(url)
    conn = psycopg2.connect(host=u.host, port=u.port, user=u.username, dbname=u.database)
    conn.set_session(isolation_level="REPEATABLE READ", readonly=True)

    def observe() -> Observation:
        with conn.cursor() as cur:
            out = []
            for table in WATCHED:
                cur.execute(f"SELECT count(*), coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') "
                            f"FROM {table} t")
                count, digest = cur.fetchone()
                out.append((table, int(count), str(digest)))
        conn.rollback()  # end the snapshot: the next observation takes a new one
        return tuple(out)

    return observe, conn.close


def _sqlite_observer(path: Path) -> tuple[Callable[[], Observation], Callable[[], None]]:
    """One observation = one read transaction (a WAL snapshot) over every watched table."""
    # used by one thread at a time: the test before and after the reader thread runs
    conn = sqlite3.connect(path, isolation_level=None, timeout=30, check_same_thread=False)

    def observe() -> Observation:
        conn.execute("BEGIN")
        try:
            out = []
            for table in WATCHED:
                rows = conn.execute(f"SELECT * FROM {table}").fetchall()
                digest = hashlib.sha256(repr(sorted(rows, key=repr)).encode()).hexdigest()
                out.append((table, len(rows), digest))
        finally:
            conn.execute("COMMIT")
        return tuple(out)

    return observe, conn.close


@dataclass
class Reader:
    """Polls ``observe`` in a thread, keeping every observation with its time."""

    observe: Callable[[], Observation]
    seen: list[tuple[float, Observation]] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.seen.append((time.monotonic(), self.observe()))
            except BaseException as exc:
                self.errors.append(exc)
                return

    def count_since(self, t: float) -> int:
        return sum(1 for at, _ in self.seen if at >= t)

    def wait_for(self, n: int, since: float, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while self.count_since(since) < n and not self.errors:
            assert time.monotonic() < deadline, f"the reader made only {self.count_since(since)} observations"
            time.sleep(0.01)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)


def _kill_mid_load_then_reload(config: Path, workdir: Path, observe: Callable[[], Observation],
                               transaction_open: Callable[[], bool]) -> None:
    """The scenario both databases share; fails on any partial observation."""
    fk.run_child(workdir, config, {}, step="ingest:personnel", label="before")  # schema and a first source
    before = observe()
    reader = Reader(observe)
    try:
        loader = fk.Child(workdir, config, {}, point="load.copy:3", kind="pause",
                          step="ingest:civil_affairs", label="killed")
        marker = loader.wait_marker()
        assert marker["point"] == "load.copy" and marker["pid"] == loader.pid
        opened = time.monotonic()
        assert transaction_open(), "the loader's transaction is not open at its fault point"
        reader.wait_for(MIN_OBSERVATIONS, opened)
        assert transaction_open(), "the loader's transaction closed while it was paused"
        during = [obs for at, obs in reader.seen if at >= opened]
        loader.kill()
        killed = loader.finish()
        assert killed.exitcode == -signal.SIGKILL, killed.describe()
        after_kill = time.monotonic()
        reader.wait_for(10, after_kill)
        fk.run_child(workdir, config, {}, step="ingest:civil_affairs", label="reload")
        reader.wait_for(10, time.monotonic())
    finally:
        reader.stop()
    assert not reader.errors, reader.errors
    complete = observe()
    sizes = dict((t, n) for t, n, _ in complete)
    assert sizes["core_household"] > 0 and sizes["core_member"] > 0 and sizes["core_payment"] > 0
    assert complete != before
    assert len(during) >= MIN_OBSERVATIONS and all(obs == before for obs in during), \
        "a reader saw part of an open load transaction"
    partial = [obs for _, obs in reader.seen if obs not in (before, complete)]
    assert not partial, f"{len(partial)} observations were neither before nor complete: {partial[0]}"
    assert any(obs == complete for _, obs in reader.seen), "the reader never saw the completed load"
    print(f"{len(reader.seen)} observations, {len(during)} while the killed load's transaction was open")


def test_postgres_readers_never_see_part_of_a_killed_load(
        deployment: Callable[..., Path], pg_database: str, tmp_path: Path) -> None:
    config = deployment(tmp_path, households=300)
    fk.set_warehouse(config, pg_database)
    observe, close = _pg_observer(pg_database)
    u = make_url(pg_database)
    admin = psycopg2.connect(host=u.host, port=u.port, user=u.username, dbname=u.database)
    admin.autocommit = True

    def transaction_open() -> bool:
        """Another backend is idle in a transaction that holds a write lock on core_member."""
        with admin.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid "
                        "WHERE a.datname = current_database() AND a.state = 'idle in transaction' "
                        "AND l.relation = 'core_member'::regclass AND l.mode = 'RowExclusiveLock'")
            return bool(cur.fetchone()[0])

    try:
        _kill_mid_load_then_reload(config, tmp_path / "runs", observe, transaction_open)
    finally:
        close()
        admin.close()


def test_sqlite_readers_never_see_part_of_a_killed_load(
        deployment: Callable[..., Path], tmp_path: Path) -> None:
    config = deployment(tmp_path, households=300)
    path = config.parent / "warehouse.db"
    fk.set_warehouse(config, f"sqlite:///{path}")
    holder: dict[str, Callable[[], Observation]] = {}

    def observe() -> Observation:
        if "observe" not in holder:  # the database file exists once the first load migrated it
            holder["observe"], holder["close"] = _sqlite_observer(path)  # type: ignore[assignment]
        return holder["observe"]()

    def transaction_open() -> bool:
        """A write transaction is open: taking the write lock fails at once."""
        probe = sqlite3.connect(path, isolation_level=None, timeout=0)
        try:
            probe.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            return "locked" in str(exc)
        else:
            probe.execute("ROLLBACK")
            return False
        finally:
            probe.close()

    try:
        _kill_mid_load_then_reload(config, tmp_path / "runs", observe, transaction_open)
    finally:
        if "close" in holder:
            holder["close"]()
