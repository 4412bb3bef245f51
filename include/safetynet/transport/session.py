"""One verified, key-authenticated SFTP session, and the mapping of paramiko's errors.

Host keys are checked against the connection's pinned key or its known_hosts
file only (never ``~/.ssh/known_hosts``, never auto-added): an unknown or
changed key stops the connection at once with the presented key's SHA256
fingerprint, so an operator can compare it out of band. Nothing here retries;
errors carry ``retryable`` so the caller decides.
"""

from __future__ import annotations

import base64
import binascii
import io
import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from types import TracebackType
from typing import Self

import paramiko

from safetynet.transport.errors import (
    AuthenticationError,
    ConnectionSettingsError,
    HostKeyError,
    RemotePathError,
    RetryableTransportError,
    TransportError,
)
from safetynet.transport.settings import SftpSettings

_KEY_CLASSES: tuple[type[paramiko.PKey], ...] = (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey)


def host_key_name(host: str, port: int) -> str:
    """The known_hosts name OpenSSH and paramiko use: ``host``, or ``[host]:port`` off port 22."""
    return host if port == 22 else f"[{host}]:{port}"


class _RejectUnknownHost(paramiko.RejectPolicy):
    """RejectPolicy that says which key was presented and what to do about it."""

    def __init__(self, settings: SftpSettings) -> None:
        self.settings = settings

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        s = self.settings
        raise HostKeyError(
            f"unknown host key for {s.endpoint} (connection {s.conn_id!r}): the server presented "
            f"{key.get_name()} {key.fingerprint}, which is neither pinned in extra.host_key nor listed "
            f"as {host_key_name(s.host, s.port)} in extra.known_hosts. Verify this fingerprint with the "
            "server's administrator out of band, then pin the key in the connection; do not retry blindly.")


def _load_host_keys(client: paramiko.SSHClient, s: SftpSettings) -> None:
    keys = client.get_host_keys()
    if s.known_hosts is not None:
        try:
            keys.load(str(s.known_hosts))
        except OSError as exc:
            raise ConnectionSettingsError(f"connection {s.conn_id!r}: cannot read known_hosts "
                                          f"{s.known_hosts}: {exc.strerror}") from None
    if s.host_key:
        key_type, blob = s.host_key.split()[:2]
        try:
            key = paramiko.PKey.from_type_string(key_type, base64.b64decode(blob, validate=True))
        except (binascii.Error, paramiko.SSHException, ValueError) as exc:
            raise ConnectionSettingsError(f"connection {s.conn_id!r}: extra.host_key is not a valid "
                                          f"{key_type} public key ({type(exc).__name__})") from None
        keys.add(host_key_name(s.host, s.port), key_type, key)


def load_private_key(s: SftpSettings) -> paramiko.PKey:
    """The connection's private key, from PEM/OpenSSH text or from a key file."""
    try:
        if s.key_file is not None and not s.private_key:
            return paramiko.PKey.from_path(s.key_file, s.passphrase)
        for cls in _KEY_CLASSES:
            try:
                return cls.from_private_key(io.StringIO(s.private_key or ""), s.passphrase)
            except paramiko.PasswordRequiredException:
                raise
            except (paramiko.SSHException, ValueError):
                continue
    except paramiko.PasswordRequiredException:
        raise ConnectionSettingsError(f"connection {s.conn_id!r}: the private key is encrypted; "
                                      "set extra.private_key_passphrase") from None
    except (OSError, paramiko.SSHException, ValueError) as exc:
        raise ConnectionSettingsError(f"connection {s.conn_id!r}: cannot load private key "
                                      f"{s.key_file}: {type(exc).__name__}") from None
    raise ConnectionSettingsError(f"connection {s.conn_id!r}: extra.private_key is not an Ed25519, "
                                  "ECDSA or RSA private key in PEM/OpenSSH form")


def connect(s: SftpSettings) -> paramiko.SSHClient:
    """An authenticated SSHClient; raises a TransportError subclass on any failure."""
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(_RejectUnknownHost(s))
    try:
        _load_host_keys(client, s)
        pkey = load_private_key(s)
        client.connect(s.host, s.port, username=s.login, pkey=pkey, allow_agent=False, look_for_keys=False,
                       timeout=s.timeout, banner_timeout=s.timeout, auth_timeout=s.timeout,
                       channel_timeout=s.timeout)
    except TransportError:
        client.close()
        raise
    except paramiko.BadHostKeyException as exc:
        client.close()
        raise HostKeyError(
            f"host key for {s.endpoint} (connection {s.conn_id!r}) does not match: the server presented "
            f"{exc.key.get_name()} {exc.key.fingerprint}, the connection expects "
            f"{exc.expected_key.get_name()} {exc.expected_key.fingerprint}. If the server's key was "
            "really replaced, verify the new fingerprint with its administrator out of band, then update "
            "extra.host_key (or the known_hosts entry) of the connection; otherwise treat this as possible "
            "interception.") from None
    except paramiko.AuthenticationException as exc:
        client.close()
        allowed = getattr(exc, "allowed_types", None)
        hint = f" (server allows: {', '.join(allowed)})" if allowed else ""
        raise AuthenticationError(f"{s.endpoint}: login {s.login!r} with the key of connection "
                                  f"{s.conn_id!r} was refused{hint}") from None
    except (paramiko.SSHException, OSError, EOFError) as exc:
        client.close()
        raise RetryableTransportError(f"cannot connect to {s.endpoint} (connection {s.conn_id!r}): "
                                      f"{type(exc).__name__}: {exc}") from exc
    _no_delay(client)
    return client


def _no_delay(client: paramiko.SSHClient) -> None:
    """Disable Nagle: sequential (non-prefetch) reads are one round trip per 32 KiB and
    Nagle with delayed ACKs makes each wait (loopback: 5 MB/s without, 30-120 MB/s with)."""
    transport = client.get_transport()
    with suppress(OSError, AttributeError):
        transport.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # type: ignore[union-attr]


@contextmanager
def sftp_session(s: SftpSettings) -> Iterator[paramiko.SFTPClient]:
    """An SFTP client on one SSH session, closed on exit; reads time out after ``s.timeout``."""
    client = connect(s)
    try:
        with translate_errors(s, "opening the SFTP subsystem"):
            sftp = client.open_sftp()
            channel = sftp.get_channel()
            if channel is not None:
                channel.settimeout(s.timeout)
        yield sftp
    finally:
        client.close()


@contextmanager
def translate_errors(s: SftpSettings, what: str) -> Iterator[None]:
    """Turn paramiko/socket errors raised while doing ``what`` into TransportErrors."""
    try:
        yield
    except TransportError:
        raise
    except (FileNotFoundError, PermissionError) as exc:
        raise RemotePathError(f"{what} on {s.endpoint}: {exc.strerror or type(exc).__name__}") from None
    except TimeoutError as exc:
        raise RetryableTransportError(f"{what} on {s.endpoint}: timed out after {s.timeout:g}s") from exc
    except (paramiko.SSHException, EOFError, OSError) as exc:
        raise RetryableTransportError(f"{what} on {s.endpoint} was interrupted: "
                                      f"{type(exc).__name__}: {exc}") from exc


class SftpSessionHolder:
    """Base for objects that do all their work on one SSH session (``with`` opens and closes it).

    One session for a whole listing-and-download or publish run avoids a TCP and
    key exchange per call (the Airflow hooks open one per call unless managed).
    """

    def __init__(self, settings: SftpSettings) -> None:
        self.settings = settings
        self._stack = ExitStack()
        self._sftp: paramiko.SFTPClient | None = None

    def __enter__(self) -> Self:
        self._sftp = self._stack.enter_context(sftp_session(self.settings))
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._sftp = None
        self._stack.close()

    @property
    def sftp(self) -> paramiko.SFTPClient:
        """The open SFTP client; only inside the ``with`` block."""
        if self._sftp is None:
            raise RuntimeError(f"{type(self).__name__} is used outside its 'with' block")
        return self._sftp
