"""One run at a time per deployment: the file locks of a SQLite deployment (safetynet.locking).

Holders and contenders are real processes (``python -c``) on real lock files;
nothing is mocked. The helpers here are shared with tests/integration/test_locking_pg.py.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from safetynet.config import Config, load_config
from safetynet.locking import LockHeld, holder_text, run_lock, task_lock

pytestmark = pytest.mark.timeout(120)

HOLD = textwrap.dedent("""
    import sys
    from pathlib import Path

    from safetynet.config import Config
    from safetynet.locking import LockHeld, holder_text, run_lock, task_lock

    url, work, scope, what = sys.argv[1:5]
    cfg = Config(path=Path(work), province="", city="", county="", regions_file=Path(work),
                 warehouse_url=url, work_dir=Path(work))
    holder = holder_text(what)
    lock = run_lock(cfg, holder) if scope == "-" else task_lock(cfg, scope, holder)
    try:
        with lock:
            print("held", holder, flush=True)
            sys.stdin.readline()
    except LockHeld as exc:
        print("refused", exc, flush=True)
""")
"""A child process: take the run lock (scope "-") or a task lock, say so, hold it until stdin has a line."""

AT_ONCE_S = 1.0
ONE_LINE = re.compile(r"another run holds [^\n]+; wait for it to finish, or stop it, then run again")


def make_config(tmp_path: Path, warehouse_url: str | None = None) -> Config:
    """A Config with just what the locks read: the warehouse URL and the work folder."""
    return Config(path=tmp_path / "config.yaml", province="", city="", county="",
                  regions_file=tmp_path / "regions.csv",
                  warehouse_url=warehouse_url or f"sqlite:///{tmp_path / 'warehouse.db'}",
                  work_dir=tmp_path / "work")


class Child:
    """A ``python -c HOLD`` process that tried a lock: ``held`` (with ``holder``) or ``refused``."""

    def __init__(self, cfg: Config, scope: str, what: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", HOLD, cfg.warehouse_url, str(cfg.work_dir), scope, what],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().rstrip("\n")
        if not line:
            self.proc.wait(timeout=30)
            pytest.fail(f"lock holder died: {self.proc.stderr.read() if self.proc.stderr else ''}")
        self.state, _, self.text = line.partition(" ")
        self.holder = self.text if self.state == "held" else ""
        self.pid = self.proc.pid

    def release(self) -> None:
        """Let it leave the lock and exit."""
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.write("\n")
            self.proc.stdin.flush()
        assert self.proc.wait(timeout=30) == 0

    def kill(self) -> None:
        """SIGKILL: no clean-up code of its own runs."""
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.kill()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def children() -> Iterator[list[Child]]:
    """Every child a test starts; any still running at the end is killed."""
    started: list[Child] = []
    yield started
    for child in started:
        child.close()


def hold(started: list[Child], cfg: Config, scope: str, what: str) -> Child:
    """Start a child that must get the lock (scope "-": the run lock)."""
    child = Child(cfg, scope, what)
    started.append(child)
    assert child.state == "held", child.text
    return child


def refused(contend: object) -> str:
    """Run ``contend()`` (which must raise LockHeld at once) and return the one-line message."""
    start = time.monotonic()
    with pytest.raises(LockHeld) as caught:
        contend()  # type: ignore[operator]
    assert time.monotonic() - start < AT_ONCE_S, "a taken lock must refuse at once, never wait"
    message = str(caught.value)
    assert ONE_LINE.fullmatch(message), message
    return message


def try_run(cfg: Config) -> None:
    with run_lock(cfg, holder_text("safetynet run --date 2026-11-21")):
        pass


def try_task(cfg: Config, scope: str) -> None:
    with task_lock(cfg, scope, holder_text(f"airflow ingest_{scope}.extract 2026-11-21")):
        pass


def dead_pid() -> int:
    """The pid of a process that has exited."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# --------------------------------------------------------------------------- the API


def test_holder_text_names_what_pid_host_and_local_start() -> None:
    text = holder_text("safetynet run\n --date 2026-11-21")
    pattern = (r"safetynet run --date 2026-11-21 \(pid (\d+) on (\S+), "
               r"since (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) Asia/Shanghai\)")
    found = re.fullmatch(pattern, text)
    assert found, text
    assert int(found.group(1)) == os.getpid()
    since = datetime.strptime(found.group(3), "%Y-%m-%d %H:%M:%S")
    now = datetime.now(ZoneInfo("Asia/Shanghai")).replace(tzinfo=None)
    assert abs((now - since).total_seconds()) < 60


def test_lock_held_is_transient_so_airflow_retries() -> None:
    from safetynet.orchestration import tasks

    assert LockHeld.retryable is True
    assert "LockHeld" not in tasks.PERMANENT

    def step() -> dict:
        raise LockHeld("another run holds this deployment: x; wait for it to finish")

    with pytest.raises(LockHeld):  # not AirflowFailException: the retries apply
        tasks._fail_fast(step)()


def test_a_scope_must_be_a_plain_name(tmp_path: Path) -> None:
    cfg = make_config(tmp_path)
    for scope in ("deployment", "", "../x", "a.b"):
        with pytest.raises(ValueError, match="not a lock scope"), task_lock(cfg, scope, "t"):
            pass


# --------------------------------------------------------------------------- SQLite: processes


def test_a_second_run_fails_at_once_naming_the_holder(tmp_path: Path, children: list[Child]) -> None:
    cfg = make_config(tmp_path)
    first = hold(children, cfg, "-", "safetynet run --date 2026-11-21")
    message = refused(lambda: try_run(cfg))
    assert message.startswith(f"another run holds this deployment: {first.holder}; ")
    assert f"(pid {first.pid} on " in message
    second = Child(cfg, "-", "safetynet run --date 2026-11-22")  # a contender in its own process
    children.append(second)
    assert second.state == "refused" and first.holder in second.text
    first.release()
    try_run(cfg)  # free again once the holder has left
    assert sorted(p.name for p in (cfg.work_dir / "locks").glob("*.holder")) == []


@pytest.fixture(params=["sqlite", "postgresql"])
def cfg(request: pytest.FixtureRequest, tmp_path: Path) -> Config:
    """A deployment on the embedded SQLite warehouse (file locks) or on PostgreSQL (advisory locks)."""
    if request.param == "sqlite":
        return make_config(tmp_path)
    return make_config(tmp_path, request.getfixturevalue("pg_database"))


def test_task_locks_of_different_scopes_coexist(cfg: Config, children: list[Child]) -> None:
    hold(children, cfg, "electricity", "airflow ingest_electricity.extract 2026-11-21")
    hold(children, cfg, "water", "airflow ingest_water.extract 2026-11-21")
    try_task(cfg, "property")
    try_task(cfg, "report")


def test_two_task_locks_of_one_scope_do_not(cfg: Config, children: list[Child]) -> None:
    water = hold(children, cfg, "water", "airflow ingest_water.extract 2026-11-21")
    message = refused(lambda: try_task(cfg, "water"))
    assert message.startswith(f"another run holds 'water' on this deployment: {water.holder}; ")
    other = Child(cfg, "water", "airflow ingest_water.load 2026-11-21")
    children.append(other)
    assert other.state == "refused" and water.holder in other.text
    try_run_refused = refused(lambda: try_run(cfg))  # the failed scope left no shared lock behind
    assert water.holder in try_run_refused and "ingest_water.load" not in try_run_refused
    water.release()
    try_task(cfg, "water")


def test_a_run_and_a_task_exclude_each_other(cfg: Config, children: list[Child]) -> None:
    run = hold(children, cfg, "-", "safetynet run --date 2026-11-21")
    assert run.holder in refused(lambda: try_task(cfg, "water"))
    assert run.holder in refused(lambda: try_task(cfg, "report"))
    run.release()

    task = hold(children, cfg, "report", "airflow daily_report.publish 2026-11-21")
    message = refused(lambda: try_run(cfg))
    assert message.startswith(f"another run holds this deployment: {task.holder}; ")
    task.release()
    try_run(cfg)


def test_the_lock_is_free_after_its_holder_is_killed(tmp_path: Path, children: list[Child]) -> None:
    cfg = make_config(tmp_path)
    victim = hold(children, cfg, "-", "safetynet run --date 2026-11-21")
    victim.kill()
    try_run(cfg)  # the OS dropped the flock with the process
    killed_task = hold(children, cfg, "water", "airflow ingest_water.extract 2026-11-21")
    killed_task.kill()
    try_task(cfg, "water")

    # Their holder files stayed behind; a contender must not name them, and removes them.
    successor = hold(children, cfg, "-", "safetynet run --date 2026-11-22")
    message = refused(lambda: try_task(cfg, "water"))
    assert successor.holder in message
    assert victim.holder not in message and killed_task.holder not in message
    left = [p.name for p in (cfg.work_dir / "locks").glob("deployment.*.holder")]
    assert len(left) == 1 and left[0].startswith(f"deployment.{successor.pid}."), left


def test_a_stale_holder_file_of_a_dead_pid_is_not_named(tmp_path: Path, children: list[Child]) -> None:
    cfg = make_config(tmp_path)
    locks = cfg.work_dir / "locks"
    locks.mkdir(parents=True)
    ghost = locks / f"deployment.{dead_pid()}.0badf00d.holder"
    ghost.write_text("airflow ghost.extract 2026-11-01 (pid 1 on gone, since long ago)", "utf-8")
    holder = hold(children, cfg, "electricity", "airflow ingest_electricity.extract 2026-11-21")
    message = refused(lambda: try_run(cfg))
    assert holder.holder in message and "ghost" not in message
    assert not ghost.exists()
    holder.release()
    try_run(cfg)


# --------------------------------------------------------------------------- the Airflow tasks

MINIMAL_CONFIG = """\
region: {province: 省, city: 市, county: 县}
regions_file: regions.csv
warehouse: sqlite:///warehouse.db
work_dir: work
sources:
  civil_affairs: {url: "sqlite:///civil_affairs.db"}
  personnel: {url: "sqlite:///personnel.db"}
  property: {location: drop/property}
  electricity: {location: drop/electricity}
  water: {location: drop/water}
outbox: {location: outbox}
inbox: {location: inbox}
"""


def test_writing_tasks_run_inside_the_lock(tmp_path: Path, children: list[Child],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from safetynet.orchestration import tasks

    config = tmp_path / "config.yaml"
    config.write_text(MINIMAL_CONFIG, "utf-8")
    monkeypatch.setenv(tasks.CONFIG_ENV, str(config))
    cfg = load_config(config)
    logical = datetime(2026, 11, 20, tzinfo=UTC)
    batch = {"source": "water", "report_date": "2026-11-21", "path": str(tmp_path / "nowhere")}

    run = hold(children, cfg, "-", "safetynet run --date 2026-11-21")
    for step in (lambda: tasks.extract("water", logical), lambda: tasks.validate("water", batch),
                 lambda: tasks.load("water", batch), lambda: tasks.evaluate(logical),
                 lambda: tasks.publish(logical)):
        assert run.holder in refused(step)  # LockHeld itself: Airflow's retries apply
    run.release()

    publish = hold(children, cfg, "report", "airflow daily_report.publish 2026-11-21")
    assert publish.holder in refused(lambda: tasks.evaluate(logical))
    publish.release()

    # The task's holder names its DAG, step and report date (Asia/Shanghai day of the logical date).
    with tasks._locked("water", "extract", date(2026, 11, 21), SimpleNamespace(dag_id="ingest_water")):
        other = Child(cfg, "water", "airflow ingest_water.extract 2026-11-21")
        children.append(other)
    assert other.state == "refused"
    assert f"airflow ingest_water.extract 2026-11-21 (pid {os.getpid()} on " in other.text
