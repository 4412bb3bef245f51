"""Transport errors, split by whether retrying can help.

A dropped connection, a timeout or an EOF in the middle of a transfer is
transient: the caller (an Airflow task retry, a re-run of ``safetynet run``)
may try again, and downloads resume from their ``.part`` file. A host-key
mismatch, a refused login or a bad connection definition will fail the same way
every time, and retrying a host-key failure only hides a possible attack, so
those are marked not retryable. Messages name hosts, ports, paths and key
fingerprints, never file contents or secrets.
"""

from __future__ import annotations


class TransportError(RuntimeError):
    """An SFTP operation failed; ``retryable`` says whether trying again can help."""

    retryable: bool = False


class ConnectionSettingsError(TransportError):
    """The connection definition is missing, malformed or asks for a password login."""


class HostKeyError(TransportError):
    """The server's host key is unknown or differs from the pinned key (never retried)."""


class AuthenticationError(TransportError):
    """The server refused our key."""


class RemotePathError(TransportError):
    """A remote file or folder is missing or not accessible."""


class RetryableTransportError(TransportError):
    """A transient fault: connection refused or reset, timeout, EOF mid-transfer."""

    retryable = True


class TransferIncomplete(RetryableTransportError):
    """A transfer ended short, or the remote file changed while it was read."""


class IntegrityError(RetryableTransportError):
    """A file arrived with the wrong size or SHA-256."""
