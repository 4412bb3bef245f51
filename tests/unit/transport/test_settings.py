"""Connection settings and locations for ``safetynet.transport``: no network, no Airflow needed.

A misconfigured connection must fail before any socket is opened, with a message
that says what to change and never echoes a secret.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import paramiko
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from safetynet.transport import (
    ConnectionSettingsError,
    HostKeyError,
    IntegrityError,
    RetryableTransportError,
    TransferIncomplete,
    TransportError,
    parse_location,
    settings_from_connection,
    settings_from_fields,
)
from safetynet.transport.session import _RejectUnknownHost, host_key_name, load_private_key

REPO = Path(__file__).resolve().parents[3]


def ed25519_pair(passphrase: bytes | None = None) -> tuple[str, str]:
    """(private key in OpenSSH text form, public key line 'ssh-ed25519 AAAA…')."""
    key = Ed25519PrivateKey.generate()
    encryption = BestAvailableEncryption(passphrase) if passphrase else NoEncryption()
    private = key.private_bytes(Encoding.PEM, PrivateFormat.OpenSSH, encryption).decode()
    public = key.public_key().public_bytes(Encoding.OpenSSH, PublicFormat.OpenSSH).decode()
    return private, public


PRIVATE, PUBLIC = ed25519_pair()


def conn(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {"conn_type": "sftp", "host": "sftp.example.org", "port": 2222,
                              "login": "safetynet", "extra": {"private_key": PRIVATE, "host_key": PUBLIC}}
    extra = changes.pop("extra", {})
    fields.update(changes)
    fields["extra"] = {k: v for k, v in {**fields["extra"], **extra}.items() if v is not None}
    return fields


@pytest.mark.parametrize(("location", "expected"), [
    ("sftp://power_drop/srv/drop/power", ("power_drop", "/srv/drop/power")),
    ("sftp://outbox/", ("outbox", "/")),
    ("sftp://outbox/~/out", ("outbox", "out")),
    ("sftp://outbox/~", ("outbox", ".")),
    ("sftp://my-conn.v2/a%20b", ("my-conn.v2", "/a b")),
])
def test_parse_location(location: str, expected: tuple[str, str]) -> None:
    assert parse_location(location) == expected


@pytest.mark.parametrize(("location", "message"), [
    ("/srv/drop", "not an SFTP location"),
    ("sftp://user@host:22/srv", "Airflow connection id"),
    ("sftp:///srv", "Airflow connection id"),
    ("sftp://conn", "no remote folder"),
])
def test_parse_location_rejects(location: str, message: str) -> None:
    with pytest.raises(ConnectionSettingsError, match=message):
        parse_location(location)


def test_settings_from_airflow_json_form() -> None:
    s = settings_from_fields("drop", conn())
    assert (s.host, s.port, s.login) == ("sftp.example.org", 2222, "safetynet")
    assert s.endpoint == "sftp.example.org:2222"
    assert s.host_key == PUBLIC and s.private_key == PRIVATE and s.timeout == 30.0
    assert PRIVATE not in repr(s)  # secrets stay out of logs and tracebacks


def test_extra_as_json_string_and_defaults() -> None:
    fields = conn(port=None)
    fields["extra"] = json.dumps({"key_file": "~/id_ed25519", "known_hosts": "/etc/ssh/known",
                                  "conn_timeout": 5})
    s = settings_from_fields("drop", fields)
    assert s.port == 22 and s.key_file == Path("~/id_ed25519").expanduser()
    assert s.known_hosts == Path("/etc/ssh/known") and s.timeout == 5.0 and s.host_key is None


@pytest.mark.parametrize(("fields", "message"), [
    (conn(password="hunter2-secret"), "password login is not used; configure a private key"),
    (conn(password="hunter2-secret", extra={"private_key": None}), "password login is not used"),
    (conn(extra={"no_host_key_check": "true"}), "no_host_key_check is not allowed"),
    (conn(extra={"private_key": None}), "no private key"),
    (conn(extra={"host_key": None}), "host-key verification is mandatory"),
    (conn(extra={"host_key": "AAAAC3NzaC1lZDI1NTE5"}), "must look like 'ssh-ed25519 AAAA"),
    (conn(conn_type="postgres"), "expected 'sftp'"),
    (conn(host=""), "host and login are required"),
    (conn(port="abc"), "port must be a number"),
    ({**conn(), "extra": "{not json"}, "extra is not valid JSON"),
])
def test_invalid_connections_are_refused(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ConnectionSettingsError, match=message) as caught:
        settings_from_fields("drop", fields)
    assert caught.value.retryable is False
    assert "hunter2-secret" not in str(caught.value)


def test_settings_from_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_POWER_DROP", json.dumps(conn()))
    assert settings_from_connection("power_drop", use_airflow=False).host == "sftp.example.org"


def test_settings_through_airflow_connection_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inside Airflow the lookup goes through ``airflow.sdk.Connection`` (here: its env backend)."""
    pytest.importorskip("airflow.sdk")
    monkeypatch.setenv("AIRFLOW_CONN_POWER_DROP", json.dumps(conn(port=2200)))
    s = settings_from_connection("power_drop", use_airflow=True)
    assert (s.port, s.host_key, s.private_key) == (2200, PUBLIC, PRIVATE)
    monkeypatch.setenv("AIRFLOW_CONN_POWER_DROP", json.dumps(conn(password="hunter2-secret")))
    with pytest.raises(ConnectionSettingsError, match="password login is not used"):
        settings_from_connection("power_drop", use_airflow=True)


def test_missing_or_broken_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_NOWHERE", raising=False)
    with pytest.raises(ConnectionSettingsError, match="set AIRFLOW_CONN_NOWHERE"):
        settings_from_connection("nowhere", use_airflow=False)
    monkeypatch.setenv("AIRFLOW_CONN_NOWHERE", "sftp://user@host")
    with pytest.raises(ConnectionSettingsError, match="is not JSON"):
        settings_from_connection("nowhere", use_airflow=False)


def test_host_key_name_brackets_non_default_ports() -> None:
    assert host_key_name("h", 22) == "h"
    assert host_key_name("127.0.0.1", 2222) == "[127.0.0.1]:2222"


def test_private_keys_load_from_openssh_and_pem_text(tmp_path: Path) -> None:
    assert isinstance(load_private_key(settings_from_fields("d", conn())), paramiko.Ed25519Key)
    rsa = paramiko.RSAKey.generate(2048)
    pem = tmp_path / "rsa.pem"
    rsa.write_private_key_file(str(pem))
    from_text = load_private_key(settings_from_fields("d", conn(extra={"private_key": pem.read_text()})))
    from_file = load_private_key(settings_from_fields("d", conn(extra={"private_key": None,
                                                                      "key_file": str(pem)})))
    assert from_text == rsa and from_file == rsa


def test_encrypted_or_garbage_keys_are_explained() -> None:
    encrypted, _ = ed25519_pair(b"pass-phrase")
    with pytest.raises(ConnectionSettingsError, match="private_key_passphrase"):
        load_private_key(settings_from_fields("d", conn(extra={"private_key": encrypted})))
    ok = settings_from_fields("d", conn(extra={"private_key": encrypted,
                                               "private_key_passphrase": "pass-phrase"}))
    assert isinstance(load_private_key(ok), paramiko.Ed25519Key)
    with pytest.raises(ConnectionSettingsError, match="not an Ed25519, ECDSA or RSA private key"):
        load_private_key(settings_from_fields("d", conn(extra={"private_key": "garbage"})))


def test_unknown_host_policy_names_the_presented_fingerprint() -> None:
    presented = paramiko.PKey.from_type_string("ssh-ed25519", base64.b64decode(PUBLIC.split()[1]))
    policy = _RejectUnknownHost(settings_from_fields("d", conn()))
    assert isinstance(policy, paramiko.RejectPolicy)
    with pytest.raises(HostKeyError, match=r"sftp\.example\.org:2222.*SHA256:") as caught:
        policy.missing_host_key(paramiko.SSHClient(), "[sftp.example.org]:2222", presented)
    assert presented.fingerprint in str(caught.value) and caught.value.retryable is False


def test_retryable_flags() -> None:
    assert TransportError.retryable is False and HostKeyError.retryable is False
    assert RetryableTransportError.retryable and TransferIncomplete.retryable and IntegrityError.retryable


def test_importing_transport_needs_no_airflow() -> None:
    code = ("import sys; sys.modules['airflow'] = None\n"
            "import safetynet.transport\n"
            "assert not any(m.startswith('airflow') for m in sys.modules if sys.modules[m] is not None)")
    env = {**os.environ, "PYTHONPATH": str(REPO / "include")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
