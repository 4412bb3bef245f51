"""Publishing the extract to the inspectors' outbox: a local folder, or SFTP in production."""

from __future__ import annotations

from pathlib import Path

from safetynet.publishing.local import SUCCESS, PublishError
from safetynet.publishing.local import publish_folder as publish_local

__all__ = ["SUCCESS", "PublishError", "publish_folder"]


def publish_folder(location: str, staged: Path, folder_name: str) -> str:
    """Publish ``staged`` as ``folder_name`` under the outbox ``location``."""
    if location.startswith("sftp://"):
        from safetynet.transport import publish_sftp

        return publish_sftp(location, staged, folder_name)
    return str(publish_local(staged, Path(location), folder_name))
