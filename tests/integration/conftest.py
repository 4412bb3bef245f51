"""Fixtures for tests that need a real OpenSSH server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.integration.sftp_server import SshServer, start_sshd, stop_sshd


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SshServer]:
    """One OpenSSH server for the session's tests, stopped at the end."""
    server = start_sshd(tmp_path_factory.mktemp("sshd"))
    try:
        yield server
    finally:
        stop_sshd(server)


@pytest.fixture(scope="module")
def pg_module_database(pg_url: str) -> Iterator[str]:
    """A fresh PostgreSQL database shared by one module's tests (for expensive loads)."""
    import uuid

    from sqlalchemy import create_engine, text

    name = f"safetynet_mod_{uuid.uuid4().hex[:12]}"
    admin = create_engine(f"{pg_url}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" ENCODING \'UTF8\' TEMPLATE template0'))
    try:
        yield f"{pg_url}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :n AND pid <> pg_backend_pid()"), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
