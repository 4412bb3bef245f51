"""Kill-anywhere convergence (issue #9, item 1): a run that dies anywhere, re-run, equals a clean run.

The deployment's files come over SFTP from a real OpenSSH server and the
extract is published there; the warehouse is PostgreSQL on a private cluster
this module owns (so it may crash it). Each cell of the matrix arms one fault
point (``safetynet.faults``) in a separate pipeline process and does one kind
of damage there:

* ``sigkill`` — the process kills itself at the point (nothing can clean up);
* ``pg_restart`` — the process pauses at the point while the test crashes and
  restarts PostgreSQL (``pg_ctl -m immediate``), then carries on into a dead
  connection;
* ``sftp_cut`` — the process pauses while the test kills the sshd processes
  serving its SSH session, then carries on into a dead link.

Then it checks that the faulted run really failed there, that what it left is
consistent (no watermark or file registration without its rows, no folder with
``_SUCCESS`` whose files do not match its manifest), runs again without the
fault and compares the warehouse and the published extract with the clean run
(what is compared and what is not, and why: :mod:`tests.integration.faultkit`).
"""

from __future__ import annotations

import json
import signal
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from tests.integration import faultkit as fk
from tests.integration.sftp_server import SshServer

HOUSEHOLDS = 300
UTILITY_MONTHS = ("202608", "202609", "202610", "202611")  # the rule window (3 months) + the unfinished file


@dataclass(frozen=True)
class Cell:
    """One (point, damage) pair and how the faulted run must end."""

    point: str  # "<name>[:N]": fire on the N-th hit in the process
    kind: str  # sigkill | pg_restart | sftp_cut
    fails: str  # "killed", a source that must be reported failed, or "publish"

    @property
    def id(self) -> str:
        return f"{self.kind}-{self.point.replace(':', '#')}"


MATRIX = [
    # hits: civil_affairs has 6 items, personnel 3, property 1, then electricity's 3 months
    Cell("drop.listed", "sigkill", "killed"),         # property's drop listed, nothing downloaded
    Cell("download.chunk", "sigkill", "killed"),      # first 32 KiB of the first snapshot in .part
    Cell("download.landed", "sigkill", "killed"),     # snapshot renamed into landing, its .ok not yet
    Cell("validate.item:12", "sigkill", "killed"),    # electricity: one month validated, the next not
    Cell("load.copy:12", "sigkill", "killed"),        # electricity: one month and its file registration
    Cell("load.commit", "sigkill", "killed"),         # civil affairs: all rows and watermarks, no commit
    Cell("publish.file", "sigkill", "killed"),        # one file of the extract uploaded and renamed
    Cell("publish.renamed", "sigkill", "killed"),     # every file in place, _SUCCESS not yet
    Cell("load.copy:3", "pg_restart", "civil_affairs"),  # households and members copied, then the crash
    Cell("load.commit", "pg_restart", "civil_affairs"),  # watermarks written, the crash before COMMIT
    Cell("download.chunk", "sftp_cut", "property"),   # the session dies after the first 32 KiB
    Cell("publish.file", "sftp_cut", "publish"),      # the session dies between two uploaded files
]


@dataclass
class Reference:
    """The clean run's warehouse and extract, what every faulted-then-repeated run must equal."""

    state: fk.WarehouseState
    published: dict[str, object]


@pytest.fixture(scope="module")
def cluster() -> Iterator[fk.PrivateCluster]:
    """A PostgreSQL cluster of this module's own (on a free port), so crashing it harms no one."""
    with fk.private_cluster() as owned:
        yield owned


@pytest.fixture(scope="module")
def template(deployment: Callable[..., Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The deployment every cell copies: 300 households, the last three utility months only.

    Older utility months do not change the cases (the rules look at a three-month
    window) and would only multiply validation time in every cell. Two households
    carry dirt (an unparseable date: quarantined when conformed; a negative
    amount: quarantined by validation), below the civil-affairs watermark, so a
    re-run that re-reads only from the watermark must keep their quarantine.
    """
    config = deployment(tmp_path_factory.mktemp("fault-template"), households=HOUSEHOLDS)
    with sqlite3.connect(config.parent / "sources" / "civil_affairs.db") as conn:
        older = [r[0] for r in conn.execute(
            "SELECT household_id FROM sa_household WHERE updated_at < (SELECT MAX(updated_at) "
            "FROM sa_household) ORDER BY household_id LIMIT 2")]
        conn.execute("UPDATE sa_household SET approved_on = 'not a date' WHERE household_id = ?", (older[0],))
        conn.execute("UPDATE sa_household SET monthly_amount = -300 WHERE household_id = ?", (older[1],))
    for folder in ("power", "water"):
        for path in (config.parent / "drop" / folder).iterdir():
            if not path.name.split(".")[0].endswith(UTILITY_MONTHS):
                path.unlink()
    return config.parent


def _prepare(template: Path, dest: Path, sshd: SshServer, cluster: fk.PrivateCluster
             ) -> tuple[Path, Path, dict[str, str], str]:
    """A fresh copy of the deployment over SFTP with a fresh database: (config, remote, env, url)."""
    config = fk.reset_deployment(template, dest / "deployment")
    remote, env = fk.over_sftp(config, sshd, "fault-matrix")  # one path: the audit trail names it
    url = fk.create_database(cluster.url, f"fault_{uuid.uuid4().hex[:10]}")
    fk.set_warehouse(config, url)
    return config, remote, env, url


@pytest.fixture(scope="module")
def reference(template: Path, sshd: SshServer, cluster: fk.PrivateCluster,
              tmp_path_factory: pytest.TempPathFactory) -> Reference:
    """One clean run, shared by every cell."""
    dest = tmp_path_factory.mktemp("fault-clean")
    config, remote, env, url = _prepare(template, dest, sshd, cluster)
    fk.run_child(dest / "runs", config, env, label="clean")
    state = fk.warehouse_state(url)
    assert state.duplicate_keys() == {}
    assert fk.inconsistencies(url) == []
    assert state.tables["core_household"][0] > 0 and state.tables["mart_case_day"][0] > 0
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            planted = conn.execute(text("SELECT COUNT(*) FROM meta_quarantine "
                                        "WHERE source = 'civil_affairs'")).scalar()
    finally:
        engine.dispose()
    assert planted == 2  # the planted dirt (other sources quarantine their generated dirt too)
    return Reference(state, fk.published_state(remote / "outbox" / fk.D.isoformat()))


def _complete_or_unmarked(folder: Path) -> None:
    """A published folder is either without ``_SUCCESS`` or exactly what its manifest lists."""
    if not (folder / "_SUCCESS").exists():
        return
    import hashlib

    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    for entry in manifest["files"]:
        data = (folder / entry["name"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], f"{entry['name']} differs under _SUCCESS"
    assert not list(folder.glob(".*.part")), "temporary files left in a folder marked complete"


@pytest.mark.parametrize("cell", MATRIX, ids=[c.id for c in MATRIX])
def test_a_run_killed_anywhere_converges_when_run_again(
        cell: Cell, reference: Reference, template: Path, sshd: SshServer, cluster: fk.PrivateCluster,
        tmp_path: Path) -> None:
    config, remote, env, url = _prepare(template, tmp_path, sshd, cluster)
    runs = tmp_path / "runs"
    name = cell.point.split(":")[0]

    kind = "sigkill" if cell.kind == "sigkill" else "pause"
    child = fk.Child(runs, config, env, point=cell.point, kind=kind, label="faulted")
    if cell.kind != "sigkill":
        marker = child.wait_marker()
        if cell.kind == "pg_restart":
            cluster.crash_restart()
        else:
            assert fk.cut_sftp_sessions(sshd) >= 1, "no sshd session process to kill"
        child.go()
    faulted = child.finish()
    marker = faulted.marker
    assert marker is not None and marker["point"] == name, faulted.describe()
    if cell.fails == "killed":
        assert faulted.exitcode == -signal.SIGKILL, faulted.describe()
    elif cell.fails == "publish":
        assert faulted.exitcode == 1 and "TransportError" in (faulted.error or ""), faulted.describe()
    else:
        failed = (faulted.result or {}).get("failed_sources", {})
        assert faulted.exitcode == 0 and cell.fails in failed, faulted.describe()
        assert set(failed) == {cell.fails}, faulted.describe()

    assert fk.inconsistencies(url) == [], faulted.describe()
    folder = remote / "outbox" / fk.D.isoformat()
    if folder.exists():
        _complete_or_unmarked(folder)
    if name.startswith("publish"):
        assert not (folder / "_SUCCESS").exists(), "a half-published folder is marked complete"

    fk.run_child(runs, config, env, label="rerun")
    state = fk.warehouse_state(url)
    assert state.differences(reference.state) == [], (runs / "rerun.log").read_text()[-2000:]
    assert state.duplicate_keys() == {}
    assert fk.inconsistencies(url) == []
    assert fk.published_state(folder) == reference.published
    landing = config.parent / "work" / "landing"
    assert not list(landing.rglob(".*.part")), "a partial download was left behind"
