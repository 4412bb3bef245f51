"""Atomic publishing of the daily extract to the inspectors' SFTP outbox.

Mirrors :mod:`safetynet.publishing.local` over SFTP (outputs.md, "Publishing is
atomic"): readers wait for ``_SUCCESS``, so it is removed first and written
last; every file travels under a hidden ``.<name>.part`` name, is read back and
checked (size and SHA-256) on the server, and only then renamed over its final
name with the atomic ``posix-rename@openssh.com``. A cut anywhere leaves the
folder without ``_SUCCESS``; publishing again repairs it.
"""

from __future__ import annotations

import hashlib
import logging
import stat
from contextlib import suppress
from pathlib import Path

import paramiko

from safetynet.faults import fault_point
from safetynet.transport.errors import IntegrityError, RemotePathError
from safetynet.transport.session import SftpSessionHolder, translate_errors
from safetynet.transport.settings import SftpSettings, parse_location, settings_from_connection

log = logging.getLogger(__name__)
SUCCESS = "_SUCCESS"
BLOCK = 1 << 20


def _join(folder: str, name: str) -> str:
    return f"{folder.rstrip('/')}/{name}" if folder.rstrip("/") else f"/{name}"


class SftpOutbox(SftpSessionHolder):
    """One SSH session on the outbox server, for publishing report folders."""

    def publish_folder(self, staged: Path, remote_root: str, folder_name: str) -> str:
        """Publish every file of ``staged`` as ``remote_root/folder_name``; return that remote path."""
        target = _join(remote_root, folder_name)
        names = sorted(p.name for p in staged.iterdir() if p.is_file() and p.name != SUCCESS)
        with translate_errors(self.settings, f"publishing to {target}"):
            self._makedirs(target)
            self._remove(_join(target, SUCCESS))
            for name in names:
                self._upload(staged / name, target, name)
                fault_point("publish.file")
            for entry in self.sftp.listdir_attr(target):
                if entry.filename not in names and not stat.S_ISDIR(entry.st_mode or 0):
                    self._remove(_join(target, entry.filename))
            fault_point("publish.renamed")
            with self.sftp.open(_join(target, SUCCESS), "wb"):
                pass
        log.info("published %d files to %s:%s", len(names), self.settings.endpoint, target)
        return target

    def _makedirs(self, folder: str) -> None:
        path = "/" if folder.startswith("/") else ""
        for part in [p for p in folder.split("/") if p]:
            path = f"{path}{part}" if path in ("", "/") else f"{path}/{part}"
            try:
                if not stat.S_ISDIR(self.sftp.stat(path).st_mode or 0):
                    raise RemotePathError(f"{self.settings.endpoint}:{path} exists and is not a folder")
            except FileNotFoundError:
                self.sftp.mkdir(path)

    def _remove(self, path: str) -> None:
        with suppress(FileNotFoundError):
            self.sftp.remove(path)

    def _upload(self, local: Path, target: str, name: str) -> None:
        final, part = _join(target, name), _join(target, f".{name}.part")
        digest, size = hashlib.sha256(), 0
        with local.open("rb") as src, self.sftp.open(part, "wb") as dst:
            dst.set_pipelined(True)
            for block in iter(lambda: src.read(BLOCK), b""):
                dst.write(block)
                digest.update(block)
                size += len(block)
        remote_size = int(self.sftp.stat(part).st_size or 0)
        remote_digest = _remote_sha256(self.sftp, part)
        if remote_size != size or remote_digest != digest.hexdigest():
            self._remove(part)
            raise IntegrityError(f"{self.settings.endpoint}:{final}: uploaded copy differs from the staged "
                                 f"file ({remote_size} of {size} bytes, SHA-256 "
                                 f"{'matches' if remote_digest == digest.hexdigest() else 'differs'})")
        self.sftp.posix_rename(part, final)


def _remote_sha256(sftp: paramiko.SFTPClient, path: str) -> str:
    """SHA-256 of a remote file, read back sequentially (no prefetch)."""
    digest = hashlib.sha256()
    with sftp.open(path, "rb") as fh:
        for block in iter(lambda: fh.read(32768), b""):
            digest.update(block)
    return digest.hexdigest()


def publish_sftp(location: str, staged: Path, folder_name: str, settings: SftpSettings | None = None) -> str:
    """Publish ``staged`` to the ``sftp://<connection id>/<path>`` outbox; return the folder's location."""
    conn_id, remote_root = parse_location(location)
    settings = settings or settings_from_connection(conn_id)
    with SftpOutbox(settings) as outbox:
        outbox.publish_folder(staged, remote_root, folder_name)
    return f"{location.rstrip('/')}/{folder_name}"
