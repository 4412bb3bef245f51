"""Shared fixtures: a PostgreSQL server, a fresh database on it per test, generated deployments.

Integration tests need real services. Under CI (``CI=true``) a missing service
must fail the run loudly, never skip, so ``pg_url`` finds or starts a server and
fails with a clear message when it cannot.

Airflow is isolated for the whole session: ``AIRFLOW_HOME`` points at a private
temporary folder before any test imports Airflow, so no test reads or writes a
developer's own ``~/airflow``. Tests that run the ``airflow`` CLI build their
subprocess environment with :func:`safetynet.orchestration.environment.airflow_environment`.
"""

from __future__ import annotations

import atexit
import getpass
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import psycopg2.extensions

REPO_ROOT = Path(__file__).resolve().parents[1]
REPORT_DATE = date(2026, 11, 20)
"""The report date the demo and the end-to-end tests use."""

_AIRFLOW_HOME = tempfile.mkdtemp(prefix="safetynet-test-airflow-")
atexit.register(shutil.rmtree, _AIRFLOW_HOME, True)
for _key in [k for k in os.environ if k.startswith("AIRFLOW__")]:
    del os.environ[_key]
os.environ["AIRFLOW_HOME"] = _AIRFLOW_HOME
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"

PG_URL_ENV = "SAFETYNET_TEST_PG_URL"
DeploymentFactory = Callable[..., Path]


# --------------------------------------------------------------------------- PostgreSQL


def _normalise_server_url(url: str) -> str:
    """``postgresql+psycopg2://user[:pw]@host:port`` (no database) from any PostgreSQL URL."""
    from sqlalchemy.engine import URL, make_url

    given = make_url(url)
    server = URL.create(
        "postgresql+psycopg2",
        username=given.username,
        password=given.password,
        host=given.host or "127.0.0.1",
        port=given.port or 5432,
    )
    return server.render_as_string(hide_password=False)


def _connect(server_url: str, dbname: str = "postgres") -> psycopg2.extensions.connection:
    """A psycopg2 connection to ``dbname`` on the server (autocommit, for DDL)."""
    import psycopg2
    from sqlalchemy.engine import make_url

    url = make_url(server_url)
    conn = psycopg2.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username,
        password=url.password,
        dbname=dbname,
        connect_timeout=5,
    )
    conn.autocommit = True
    return conn


def _reachable(server_url: str) -> str | None:
    """None if the server answers at ``server_url``, else why not."""
    try:
        _connect(server_url).close()
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).strip()}"
    return None


def _pg_binaries() -> tuple[str, str] | None:
    """``initdb`` and ``pg_ctl`` from PATH, else from the newest /usr/lib/postgresql/*/bin."""
    initdb = shutil.which("initdb")
    if initdb:
        pg_ctl = Path(os.path.realpath(initdb)).with_name("pg_ctl")
        found = str(pg_ctl) if pg_ctl.exists() else shutil.which("pg_ctl")
        if found:
            return initdb, found
    for bindir in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(bindir, "initdb").exists() and Path(bindir, "pg_ctl").exists():
            return str(Path(bindir, "initdb")), str(Path(bindir, "pg_ctl"))
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_throwaway_cluster() -> tuple[str, Callable[[], None]]:
    """initdb + pg_ctl start a private cluster in a temp dir; returns its URL and a stopper.

    PostgreSQL refuses to run as root, so under root (containers) the cluster is
    owned by and run as the ``postgres`` user.
    """
    binaries = _pg_binaries()
    if binaries is None:
        raise RuntimeError("no initdb/pg_ctl on PATH or under /usr/lib/postgresql/*/bin")
    initdb, pg_ctl = binaries
    run_as: str | None = None
    if os.geteuid() == 0:
        try:
            account = pwd.getpwnam("postgres")
        except KeyError as exc:
            raise RuntimeError("running as root and there is no 'postgres' user to run initdb") from exc
        run_as = account.pw_name
    base = Path(tempfile.mkdtemp(prefix="safetynet-pg-"))
    if run_as is not None:
        os.chown(base, account.pw_uid, account.pw_gid)
    data, log = base / "data", base / "server.log"
    port = _free_port()

    def run(args: list[str]) -> None:
        subprocess.run(args, check=True, capture_output=True, timeout=120, user=run_as)

    try:
        init_args = ["-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8"]
        run([initdb, *init_args, "--locale=C", "--no-sync"])
        options = (
            f"-p {port} -c listen_addresses=127.0.0.1 -k {base} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        run([pg_ctl, "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60", "start"])
    except subprocess.CalledProcessError as exc:
        detail = (exc.stderr or b"").decode(errors="replace").strip()[-500:]
        shutil.rmtree(base, ignore_errors=True)
        raise RuntimeError(f"{Path(exc.cmd[0]).name} failed: {detail}") from exc

    def stop() -> None:
        subprocess.run(
            [pg_ctl, "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
            timeout=60,
            user=run_as,
            check=False,
        )
        shutil.rmtree(base, ignore_errors=True)

    return f"postgresql+psycopg2://postgres@127.0.0.1:{port}", stop


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """URL of a PostgreSQL server the tests may create databases on (no database in it).

    In order: ``$SAFETYNET_TEST_PG_URL``; a server on 127.0.0.1:5432 accepting user
    ``postgres`` or the current user without a password; a throwaway cluster
    started with initdb/pg_ctl. Fails (never skips) when none can be had.
    """
    tried: list[str] = []
    explicit = os.environ.get(PG_URL_ENV)
    if explicit:
        url = _normalise_server_url(explicit)
        problem = _reachable(url)
        if problem is None:
            yield url
            return
        pytest.fail(f"{PG_URL_ENV} is set but the server does not answer: {problem}", pytrace=False)
    for user in dict.fromkeys(["postgres", getpass.getuser()]):
        url = f"postgresql+psycopg2://{user}@127.0.0.1:5432"
        problem = _reachable(url)
        if problem is None:
            yield url
            return
        tried.append(f"127.0.0.1:5432 as {user}: {problem}")
    try:
        url, stop = _start_throwaway_cluster()
    except Exception as exc:
        tried.append(f"throwaway cluster: {exc}")
        pytest.fail(
            "No PostgreSQL server for the integration tests. Set "
            f"{PG_URL_ENV}=postgresql://user:password@host:port, run one on 127.0.0.1:5432 "
            "with trust auth, or install the PostgreSQL server binaries (initdb, pg_ctl).\n"
            "Tried:\n  " + "\n  ".join(tried),
            pytrace=False,
        )
    try:
        yield url
    finally:
        stop()


@pytest.fixture
def pg_database(pg_url: str) -> Iterator[str]:
    """A fresh, empty UTF-8 database for one test; yields its SQLAlchemy URL, drops it after."""
    from psycopg2 import sql

    name = f"safetynet_test_{uuid.uuid4().hex[:12]}"
    with closing(_connect(pg_url)) as conn, conn.cursor() as cur:
        cur.execute(
            sql.SQL("CREATE DATABASE {} ENCODING 'UTF8' TEMPLATE template0").format(sql.Identifier(name))
        )
    try:
        yield f"{pg_url}/{name}"
    finally:
        with closing(_connect(pg_url)) as conn, conn.cursor() as cur:
            cur.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
            cur.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))


# --------------------------------------------------------------------------- deployments


@pytest.fixture(scope="session")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> DeploymentFactory:
    """Factory ``make_deployment(dest, households=400, seed=7, report_date=REPORT_DATE)``.

    Generates each (households, seed, report_date) deployment once per session and
    gives every caller its own copy under ``dest/deployment`` (tests write
    warehouses, outboxes and watermarks into it). Returns the copy's config.yaml.
    """
    cache = tmp_path_factory.mktemp("deployments")
    configs: dict[Path, Path] = {}  # generated folder -> its config.yaml, relative

    def make_deployment(
        dest: Path, households: int = 400, seed: int = 7, report_date: date = REPORT_DATE
    ) -> Path:
        from safetynet.generate import generate_deployment

        source = cache / f"h{households}-s{seed}-{report_date.isoformat()}"
        if source not in configs:
            generated = Path(generate_deployment(source, households, seed, report_date))
            configs[source] = generated.resolve().relative_to(source.resolve())
        target = Path(dest) / "deployment"
        for n in range(2, 100):  # a second deployment in the same folder gets its own copy
            if not target.exists():
                break
            target = Path(dest) / f"deployment-{n}"
        shutil.copytree(source, target, symlinks=True)
        config = target / configs[source]
        text = config.read_text(encoding="utf-8")
        if str(source) in text:  # absolute paths would still point at the shared cache
            config.write_text(text.replace(str(source), str(target)), encoding="utf-8")
        return config

    return make_deployment


@pytest.fixture
def report_date() -> date:
    """The report date of the generated deployments (2026-11-20)."""
    return REPORT_DATE
