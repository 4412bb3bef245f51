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
