"""Fixtures for tests that need a real OpenSSH server on 127.0.0.1."""

from __future__ import annotations

import contextlib
import html
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

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


@pytest.fixture(params=["sqlite", "postgresql"])
def warehouse_config(request: pytest.FixtureRequest, deployment: Callable[..., Path], tmp_path: Path) -> Path:
    """A generated deployment (400 households) whose warehouse is the embedded SQLite file, or a
    fresh PostgreSQL database named by a plain ``postgresql://`` URL, as people write it."""
    path = deployment(tmp_path)
    if request.param == "postgresql":
        url = "postgresql://" + request.getfixturevalue("pg_database").split("://", 1)[1]
        path.write_text(path.read_text("utf-8").replace("sqlite:///warehouse.db", url), "utf-8")
    return path


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


@dataclass
class SmtpSink:
    """A real SMTP server on 127.0.0.1 that keeps what it receives."""

    port: int
    messages: list[Message] = field(default_factory=list)

    def connection(self) -> str:
        """``AIRFLOW_CONN_…`` JSON for this server (plain SMTP, no TLS, no login)."""
        return json.dumps({"conn_type": "smtp", "host": "127.0.0.1", "port": self.port,
                           "extra": {"disable_ssl": True, "disable_tls": True, "timeout": 10,
                                     "from_email": "safetynet@example.org"}})

    @staticmethod
    def text(message: Message) -> str:
        """Subject and readable body of a received alert.

        The SMTP provider's hook sends the body as an HTML part (``<pre>``, escaped) inside
        ``multipart/mixed``: the text is every leaf part decoded, tags dropped, unescaped.
        """
        parts = [p.get_payload(decode=True) for p in message.walk() if not p.is_multipart()]
        body = "".join(b.decode("utf-8") for b in parts if isinstance(b, bytes))
        return f"{message['Subject']}\n{html.unescape(re.sub(r'<[^>]+>', '', body))}"

    def wait_for(self, count: int, timeout: float = 10) -> list[Message]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.messages) >= count, f"expected {count} email(s), got {len(self.messages)}"
        return self.messages


@pytest.fixture
def smtp_sink(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpSink]:
    """An aiosmtpd server, configured as ``smtp_default`` with one alert recipient."""
    from safetynet.orchestration import alerts

    with _smtp_server() as sink:
        monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", sink.connection())
        monkeypatch.setenv(alerts.EMAIL_TO_ENV, "oncall@example.org, audit@example.org")
        yield sink


@pytest.fixture(scope="module")
def smtp_module() -> Iterator[SmtpSink]:
    """An SMTP server like :func:`smtp_sink`, for a whole module, set in no environment: tests that
    start Airflow components pass ``connection()`` to them as ``AIRFLOW_CONN_SMTP_DEFAULT``."""
    with _smtp_server() as sink:
        yield sink


@contextlib.contextmanager
def _smtp_server() -> Iterator[SmtpSink]:
    """An aiosmtpd server on a free local port that keeps every message it receives."""
    from aiosmtpd.controller import Controller
    from tests.integration.sftp_server import free_port

    sink = SmtpSink(port=free_port())

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            sink.messages.append(message_from_bytes(envelope.content))
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()
