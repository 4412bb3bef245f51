"""One run at a time per deployment (outputs.md, "The command line").

``safetynet run`` does every step in one process and takes the deployment-wide
lock exclusively (:func:`run_lock`). An Airflow task that writes takes it shared
plus an exclusive lock on its scope, the source name or ``"report"``
(:func:`task_lock`): tasks of different sources run side by side, two of one
scope do not, and a run and a task exclude each other. Nothing ever waits: a
taken lock raises :class:`LockHeld` at once, naming the holder.

On a PostgreSQL warehouse the locks are session-level advisory locks on a
dedicated connection, so they work across machines and vanish with a dead
holder's session. The holder's text is the session's ``application_name``
(visible to every role, cut to 63 bytes) and, in full, the text of its last
statement in ``pg_stat_activity.query``. Elsewhere (SQLite, one machine) they are
``flock`` locks on ``<work_dir>/locks/<name>.lock``; each holder also keeps a
``<name>.<pid>.<token>.holder`` file flocked while it lives, so a holder file
whose flock is free (its process died) is stale and is removed, never named.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from safetynet.config import LOCAL_TIMEZONE

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy import Connection

    from safetynet.config import Config

    _Release = Callable[[], object]
    _Take = Callable[[str, bool], object]

DEPLOYMENT = "deployment"
CLASS_ID = 0x5AFE0001
"""Advisory-lock class id of every safetynet lock (the two-int form; objid names the lock)."""
_TRIES = 3  # a holder may be between taking its lock and publishing its name
_MARK = "safetynet_lock_holder"
_QUOTED = re.compile(r"'((?:[^']|'')*)' AS " + _MARK)


class LockHeld(RuntimeError):
    """The lock is taken by another run or task; its message names the holder in one line."""

    retryable = True  # transient: Airflow may retry the task later


def holder_text(what: str) -> str:
    """Describe this process as a lock holder: ``what (pid P on HOST, since LOCAL TIME)``."""
    since = datetime.now(ZoneInfo(LOCAL_TIMEZONE)).strftime("%Y-%m-%d %H:%M:%S")
    return f"{_one_line(what)} (pid {os.getpid()} on {socket.gethostname()}, since {since} {LOCAL_TIMEZONE})"


@contextmanager
def run_lock(cfg: Config, holder: str) -> Iterator[None]:
    """Hold the deployment-wide lock exclusively (``safetynet run``); raise LockHeld if taken."""
    with _locker(cfg, holder) as take:
        take(DEPLOYMENT, False)
        yield


@contextmanager
def task_lock(cfg: Config, scope: str, holder: str) -> Iterator[None]:
    """Hold the deployment lock shared plus ``scope`` (a source or "report") exclusively."""
    if not re.fullmatch(r"[A-Za-z0-9_-]+", scope) or scope == DEPLOYMENT:
        raise ValueError(f"not a lock scope: {scope!r}")
    with _locker(cfg, holder) as take:
        take(DEPLOYMENT, True)
        take(scope, False)  # on failure the locker releases the deployment lock
        yield


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _held(name: str, holders: list[str]) -> LockHeld:
    what = "this deployment" if name == DEPLOYMENT else f"{name!r} on this deployment"
    named = " and ".join(holders[:3]) + (f" and {len(holders) - 3} more" if len(holders) > 3 else "")
    return LockHeld(f"another run holds {what}: {named or 'a holder that did not name itself'}; "
                    "wait for it to finish, or stop it, then run again")


@contextmanager
def _locker(cfg: Config, holder: str) -> Iterator[_Take]:
    """A ``take(name, shared)`` function; everything it took is released in reverse on exit."""
    from safetynet.warehouse.engine import get_engine

    engine = get_engine(cfg.warehouse_url)
    with ExitStack() as stack:
        if engine.dialect.name == "postgresql":
            conn = stack.enter_context(engine.connect())
            conn.execution_options(isolation_level="AUTOCOMMIT")  # no transaction left open
            conn.detach()  # closing it really closes the session: never back to the pool with locks
            conn.exec_driver_sql("SELECT set_config('application_name', %(name)s, false)",
                                 {"name": holder.encode()[:63].decode(errors="ignore")})
            yield lambda name, shared: stack.callback(_pg_take(conn, name, shared, holder))
        else:
            folder = cfg.work_dir / "locks"
            folder.mkdir(parents=True, exist_ok=True)
            yield lambda name, shared: stack.callback(_file_take(folder, name, shared, holder))


def _objid(name: str) -> int:
    """A stable signed 32-bit key for a lock name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big", signed=True)


def _pg_take(conn: Connection, name: str, shared: bool, holder: str) -> _Release:
    kind = "_shared" if shared else ""
    key = {"c": CLASS_ID, "o": _objid(name)}
    for attempt in range(_TRIES):
        # The holder travels as a literal in the statement, so pg_stat_activity.query shows it in full.
        if conn.exec_driver_sql(f"SELECT pg_try_advisory_lock{kind}(%(c)s, %(o)s), %(h)s AS {_MARK}",
                                {**key, "h": _one_line(holder)}).scalar():
            return lambda: _pg_release(conn, kind, key)
        rows = conn.exec_driver_sql(
            "SELECT a.application_name, a.query FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2 AND l.classid = %(c)s::oid"
            " AND l.objid = %(u)s::bigint::oid AND l.pid <> pg_backend_pid()"
            " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            " ORDER BY a.backend_start", {**key, "u": key["o"] & 0xFFFFFFFF}).all()
        holders = [_pg_holder(app, query) for app, query in rows]
        if holders or attempt == _TRIES - 1:
            raise _held(name, list(dict.fromkeys(holders)))
        time.sleep(0.05)
    raise AssertionError("unreachable")


def _pg_release(conn: Connection, kind: str, key: dict[str, int]) -> None:
    with suppress(Exception):  # a broken session has lost its locks already; closing it follows
        conn.exec_driver_sql(f"SELECT pg_advisory_unlock{kind}(%(c)s, %(o)s)", key)


def _pg_holder(application_name: str | None, query: str | None) -> str:
    """The full holder text from the session's last statement, else its application_name."""
    found = _QUOTED.search(query or "")
    return found.group(1).replace("''", "'") if found else (application_name or "an unnamed session")


def _file_take(folder: Path, name: str, shared: bool, holder: str) -> _Release:
    fd = os.open(folder / f"{name}.lock", os.O_RDONLY | os.O_CREAT, 0o666)
    try:
        for attempt in range(_TRIES):
            try:
                fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holders = _file_holders(folder, name)
                if holders or attempt == _TRIES - 1:
                    raise _held(name, holders) from None
                time.sleep(0.05)
        card = _publish_holder(folder, name, holder)
    except BaseException:
        os.close(fd)
        raise

    def release() -> None:
        path, card_fd = card
        path.unlink(missing_ok=True)
        os.close(card_fd)
        os.close(fd)  # closing the descriptor releases the flock

    return release


def _publish_holder(folder: Path, name: str, holder: str) -> tuple[Path, int]:
    """Write the holder file, flocked before it appears under its name (so never taken for stale)."""
    stem = f"{name}.{os.getpid()}.{uuid.uuid4().hex[:8]}"
    tmp, path = folder / f".{stem}.tmp", folder / f"{stem}.holder"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, _one_line(holder).encode())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        os.close(fd)
        raise
    return path, fd


def _file_holders(folder: Path, name: str) -> list[str]:
    """The live holders of ``name``; holder files nobody keeps flocked (dead pids) are removed."""
    found: list[tuple[float, str]] = []
    for path in folder.glob(f"{name}.*.holder"):
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:  # its process is alive and holds the lock
            found.append((os.fstat(fd).st_mtime, path.read_text("utf-8", errors="replace").strip()))
        else:  # stale: its process died without releasing
            with suppress(OSError):
                path.unlink(missing_ok=True)
        finally:
            os.close(fd)
    return [text for _, text in sorted(found) if text]
