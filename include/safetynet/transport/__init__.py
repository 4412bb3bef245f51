"""SFTP transport: the one implementation behind ``sftp://<connection id>/<path>`` locations.

Built on paramiko directly, so it works with or without Airflow installed (the
connection is taken from Airflow inside a task, from ``AIRFLOW_CONN_<ID>``
elsewhere). Every session verifies the server's host key and logs in with a key;
every error is a :class:`TransportError` that says whether a retry can help.
"""

from safetynet.transport.drop import RemoteFile, SftpDrop, delivery_folder, fetch_complete
from safetynet.transport.errors import (
    AuthenticationError,
    ConnectionSettingsError,
    HostKeyError,
    IntegrityError,
    RemotePathError,
    RetryableTransportError,
    TransferIncomplete,
    TransportError,
)
from safetynet.transport.outbox import SUCCESS, SftpOutbox, publish_sftp
from safetynet.transport.settings import (
    SftpSettings,
    parse_location,
    settings_from_connection,
    settings_from_fields,
)

__all__ = [
    "SUCCESS",
    "AuthenticationError",
    "ConnectionSettingsError",
    "HostKeyError",
    "IntegrityError",
    "RemoteFile",
    "RemotePathError",
    "RetryableTransportError",
    "SftpDrop",
    "SftpOutbox",
    "SftpSettings",
    "TransferIncomplete",
    "TransportError",
    "delivery_folder",
    "fetch_complete",
    "parse_location",
    "publish_sftp",
    "settings_from_connection",
    "settings_from_fields",
]
