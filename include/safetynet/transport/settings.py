"""Where an SFTP location points and how to log in there, from an Airflow connection.

Configuration names a connection id (``sftp://<connection id>/<path>``, outputs.md)
so that keys and host keys stay out of the YAML file. Inside an Airflow task the
connection comes from Airflow (any secrets backend); elsewhere (the command
line, tests) from ``AIRFLOW_CONN_<ID>`` in Airflow's JSON form, so one
definition serves both. Only key logins with a verified host key are accepted:
a password is refused, and so is switching host-key checking off.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from safetynet.connections import connection_fields
from safetynet.transport.errors import ConnectionSettingsError

log = logging.getLogger(__name__)

SCHEME = "sftp://"
_CONN_ID = re.compile(r"^[A-Za-z0-9_.-]+$")
_HOST_KEY = re.compile(r"^(ssh-[a-z0-9-]+|ecdsa-sha2-nistp\d+|sk-[a-z0-9@.-]+)\s+([A-Za-z0-9+/=]+)(\s.*)?$")


@dataclass(frozen=True)
class SftpSettings:
    """Everything needed to open a verified, key-authenticated SFTP session."""

    conn_id: str
    host: str
    port: int
    login: str
    private_key: str | None = field(default=None, repr=False)  # PEM / OpenSSH text
    key_file: Path | None = None
    passphrase: str | None = field(default=None, repr=False)
    host_key: str | None = None  # "ssh-ed25519 AAAA…"
    known_hosts: Path | None = None
    timeout: float = 30.0

    @property
    def endpoint(self) -> str:
        """``host:port``, as error messages name the server."""
        return f"{self.host}:{self.port}"


def parse_location(location: str) -> tuple[str, str]:
    """``sftp://conn_id/some/path`` -> ``("conn_id", "/some/path")``.

    The path is absolute on the server; ``sftp://conn_id/~/drop`` means ``drop``
    under the login's home folder (as curl reads such URLs).
    """
    if not location.startswith(SCHEME):
        raise ConnectionSettingsError(f"not an SFTP location (expected {SCHEME}<connection id>/<path>): "
                                      f"{location!r}")
    parts = urlsplit(location)
    conn_id, path = parts.netloc, unquote(parts.path)
    if not conn_id or not _CONN_ID.match(conn_id):
        raise ConnectionSettingsError(
            f"{location!r}: the part after {SCHEME} must be an Airflow connection id (letters, digits, "
            "'_', '-', '.'), not a user@host:port; put host, port and login in the connection")
    if not path:
        raise ConnectionSettingsError(f"{location!r}: no remote folder after the connection id")
    if path == "/~" or path.startswith("/~/"):
        path = path[3:] or "."
    return conn_id, path


def settings_from_connection(conn_id: str, *, use_airflow: bool | None = None) -> SftpSettings:
    """Resolve ``conn_id``: Airflow first when running under Airflow, else ``AIRFLOW_CONN_<ID>``.

    ``use_airflow=None`` asks Airflow only when ``airflow.sdk`` is already loaded
    (inside a task); importing it just to look up a connection costs ~3 s.
    """
    try:
        fields = connection_fields(conn_id, use_airflow=use_airflow)
    except LookupError as exc:
        raise ConnectionSettingsError(str(exc)) from None
    return settings_from_fields(conn_id, fields)


def settings_from_fields(conn_id: str, fields: Mapping[str, Any]) -> SftpSettings:
    """Validate an Airflow-shaped connection (``conn_type``, ``host``, …, ``extra``)."""
    where = f"connection {conn_id!r}"
    extra = fields.get("extra") or {}
    if isinstance(extra, str):
        try:
            extra = json.loads(extra)
        except json.JSONDecodeError:
            raise ConnectionSettingsError(f"{where}: extra is not valid JSON") from None
    if not isinstance(extra, dict):
        raise ConnectionSettingsError(f"{where}: extra must be a JSON object")
    conn_type = str(fields.get("conn_type") or "sftp").lower()
    if conn_type not in ("sftp", "ssh"):
        raise ConnectionSettingsError(f"{where}: conn_type is {conn_type!r}, expected 'sftp'")
    if fields.get("password"):
        raise ConnectionSettingsError(f"{where}: password login is not used; configure a private key "
                                      "(extra.private_key or extra.key_file) and remove the password")
    if str(extra.get("no_host_key_check", "")).lower() in ("true", "1", "yes"):
        raise ConnectionSettingsError(f"{where}: no_host_key_check is not allowed; pin the server's "
                                      "key in extra.host_key or name a known_hosts file")
    host, login = str(fields.get("host") or ""), str(fields.get("login") or "")
    if not host or not login:
        raise ConnectionSettingsError(f"{where}: host and login are required")
    try:
        port = int(fields.get("port") or 22)
    except (TypeError, ValueError):
        raise ConnectionSettingsError(f"{where}: port must be a number") from None
    private_key, key_file = extra.get("private_key"), extra.get("key_file")
    if not private_key and not key_file:
        raise ConnectionSettingsError(f"{where}: no private key; set extra.private_key (PEM text) "
                                      "or extra.key_file (a path)")
    host_key, known_hosts = extra.get("host_key"), extra.get("known_hosts")
    if not host_key and not known_hosts:
        raise ConnectionSettingsError(f"{where}: host-key verification is mandatory; set extra.host_key "
                                      "('ssh-ed25519 AAAA…') or extra.known_hosts (a path)")
    if host_key and not _HOST_KEY.match(str(host_key).strip()):
        raise ConnectionSettingsError(f"{where}: extra.host_key must look like 'ssh-ed25519 AAAA…' "
                                      "(key type, space, base64)")
    return SftpSettings(
        conn_id=conn_id, host=host, port=port, login=login,
        private_key=str(private_key) if private_key else None,
        key_file=Path(str(key_file)).expanduser() if key_file else None,
        passphrase=extra.get("private_key_passphrase") or None,
        host_key=str(host_key).strip() if host_key else None,
        known_hosts=Path(str(known_hosts)).expanduser() if known_hosts else None,
        timeout=float(extra.get("conn_timeout") or extra.get("timeout") or 30.0),
    )
