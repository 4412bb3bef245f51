"""One run at a time per deployment on a PostgreSQL warehouse: advisory locks (safetynet.locking).

Holders are real processes with their own sessions on a real server; the holder a
contender names comes from ``pg_stat_activity`` (the full text from the session's
last statement, or its ``application_name`` when that is all a role may see). The
behaviours both backends share (scopes, a run against a task) are tested on both in
``tests/unit/test_locking.py``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool
from tests.unit.test_locking import Child, children, hold, make_config, refused, try_run, try_task

from safetynet.config import Config
from safetynet.locking import LockHeld

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]
__all__ = ["children"]  # the fixture, imported for this module's tests


@pytest.fixture
def cfg(tmp_path: Path, pg_database: str) -> Config:
    """A deployment whose warehouse is a fresh PostgreSQL database."""
    return make_config(tmp_path, pg_database)


def sessions(url: str) -> list[tuple[str, str]]:
    """(application_name, query) of every other session on the database, seen by a superuser."""
    engine = create_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT application_name, query FROM pg_stat_activity "
                                 "WHERE datname = current_database() AND pid <> pg_backend_pid()")).all()
    engine.dispose()
    return [(str(a), str(q)) for a, q in rows]


def wait_until_free(contend: object, within_s: float = 15.0) -> float:
    """Seconds until ``contend()`` stops raising LockHeld (the server noticed a dead session)."""
    start = time.monotonic()
    while True:
        try:
            contend()  # type: ignore[operator]
            return time.monotonic() - start
        except LockHeld:
            if time.monotonic() - start > within_s:
                raise
            time.sleep(0.1)


def test_a_second_run_fails_at_once_naming_the_holder(cfg: Config, children: list[Child]) -> None:
    first = hold(children, cfg, "-", "safetynet run --date 2026-11-21")
    message = refused(lambda: try_run(cfg))
    assert message.startswith(f"another run holds this deployment: {first.holder}; ")
    assert f"(pid {first.pid} on " in message
    second = Child(cfg, "-", "safetynet run --date 2026-11-22")
    children.append(second)
    assert second.state == "refused" and first.holder in second.text

    # The holder's session carries its name for everyone: application_name, cut to 63 bytes.
    names = [app for app, _ in sessions(cfg.warehouse_url)]
    assert first.holder.encode()[:63].decode() in names
    first.release()
    try_run(cfg)
    assert sessions(cfg.warehouse_url) == [], "a lock's session outlived its lock"
    assert not (cfg.work_dir / "locks").exists(), "a PostgreSQL deployment needs no lock files"


def test_the_lock_disappears_when_its_holder_is_killed(cfg: Config, children: list[Child]) -> None:
    victim = hold(children, cfg, "-", "safetynet run --date 2026-11-21")
    assert victim.holder in refused(lambda: try_run(cfg))
    victim.kill()
    assert wait_until_free(lambda: try_run(cfg)) < 15

    task = hold(children, cfg, "water", "airflow ingest_water.extract 2026-11-21")
    task.kill()
    wait_until_free(lambda: try_task(cfg, "water"))
    successor = hold(children, cfg, "-", "safetynet run --date 2026-11-22")
    message = refused(lambda: try_task(cfg, "water"))
    assert successor.holder in message and victim.holder not in message and task.holder not in message


@pytest.fixture
def other_role(pg_url: str, pg_database: str) -> Iterator[str]:
    """The test database's URL as a plain role that may not read other roles' statements."""
    import psycopg2

    role = f"safetynet_lock_{uuid.uuid4().hex[:8]}"
    server = make_url(pg_url)

    def admin(sql: str) -> None:
        with closing(psycopg2.connect(host=server.host, port=server.port, user=server.username,
                                      password=server.password, dbname="postgres")) as conn:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(sql)

    admin(f"CREATE ROLE {role} LOGIN")
    try:
        yield make_url(pg_database).set(username=role, password=None).render_as_string(hide_password=False)
    finally:
        admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'")
        admin(f"DROP ROLE IF EXISTS {role}")


def test_another_role_still_sees_the_holder_by_application_name(
    tmp_path: Path, cfg: Config, other_role: str, children: list[Child]
) -> None:
    what = "airflow ingest_electricity.extract 2026-11-21 with a rather long description"
    holder = hold(children, cfg, "electricity", what)
    assert len(holder.holder.encode()) > 63
    as_other = make_config(tmp_path / "other", other_role)
    message = refused(lambda: try_task(as_other, "electricity"))
    shown = holder.holder.encode()[:63].decode()
    assert message == (f"another run holds 'electricity' on this deployment: {shown}; "
                       "wait for it to finish, or stop it, then run again")
    holder.release()
    try_task(as_other, "electricity")
