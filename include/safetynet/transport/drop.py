"""Reading a department's SFTP drop into a local landing folder.

A drop file counts only once its ``.ok`` marker exists (sources.md, "Completion
markers"). Downloads go to ``.<name>.part`` and resume after a cut as long as
the remote file is unchanged, so a flaky link costs the missing bytes only; the
final name appears by an atomic rename after the size is checked, and a local
``.ok`` is written after it, so :func:`safetynet.sources.drops.complete_deliveries`
reads the landing folder exactly as it reads a local drop.
"""

from __future__ import annotations

import json
import logging
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from safetynet.faults import fault_point
from safetynet.transport.errors import TransferIncomplete
from safetynet.transport.session import SftpSessionHolder, translate_errors
from safetynet.transport.settings import SftpSettings, parse_location, settings_from_connection

log = logging.getLogger(__name__)
CHUNK = 32768  # one SFTP read request; sequential reads, no prefetch (some servers stall it)


def match_name(pattern: str, name: str) -> re.Match[str] | None:
    r"""``name`` matched in full against ``pattern`` with ASCII classes only.

    Not ``re.match``: a trailing newline (``DL_202610.csv\n``) would pass ``$``, and
    ``\d`` would accept other scripts' digits (``DL_20260٩.csv``).
    """
    return re.fullmatch(pattern, name, re.ASCII)


@dataclass(frozen=True)
class RemoteFile:
    """A complete file on the drop, as listed."""

    name: str
    size: int
    mtime: int

    def stamp(self) -> dict[str, int]:
        """Size and mtime: what identifies this version of the file."""
        return {"size": self.size, "mtime": self.mtime}


class SftpDrop(SftpSessionHolder):
    """One SSH session on a remote drop folder, for listing and downloading."""

    def __init__(self, settings: SftpSettings, remote_dir: str) -> None:
        super().__init__(settings)
        self.remote_dir = remote_dir.rstrip("/") or "/"

    def _remote(self, name: str) -> str:
        return f"{self.remote_dir}/{name}" if self.remote_dir != "/" else f"/{name}"

    def list_complete(self, pattern: str) -> list[RemoteFile]:
        """Regular files whose name matches ``pattern`` and whose ``<name>.ok`` exists, by name.

        The listing's own attributes decide: a symbolic link, a directory or a device on
        the drop is never fetched, whatever it points at.
        """
        with translate_errors(self.settings, f"listing {self.remote_dir}"):
            entries = self.sftp.listdir_attr(self.remote_dir)
        names = {e.filename for e in entries}
        found = [RemoteFile(e.filename, int(e.st_size or 0), int(e.st_mtime or 0)) for e in entries
                 if match_name(pattern, e.filename) and stat.S_ISREG(e.st_mode or 0)
                 and f"{e.filename}.ok" in names]
        fault_point("drop.listed")
        return sorted(found, key=lambda f: f.name)

    def download(self, remote: RemoteFile, dest_dir: Path) -> Path:
        """Download ``remote`` to ``dest_dir/<name>``, resuming an earlier ``.part`` of the same version."""
        dest_dir.mkdir(parents=True, exist_ok=True)
        final = dest_dir / remote.name
        part, source = dest_dir / f".{remote.name}.part", dest_dir / f".{remote.name}.part.src"
        offset = _resume_offset(part, source, remote)
        if offset == 0:
            source.write_text(json.dumps(remote.stamp()), encoding="utf-8")
        path, what = self._remote(remote.name), f"downloading {self._remote(remote.name)}"
        with translate_errors(self.settings, what), part.open("ab" if offset else "wb") as out:
            with self.sftp.open(path, "rb") as src:
                src.seek(offset)
                while offset < remote.size:
                    block = src.read(min(CHUNK, remote.size - offset))
                    if not block:
                        break
                    out.write(block)
                    offset += len(block)
                    fault_point("download.chunk")
            out.flush()
            os.fsync(out.fileno())
            now = self.sftp.stat(path)
        if (int(now.st_size or 0), int(now.st_mtime or 0)) != (remote.size, remote.mtime):
            part.unlink(missing_ok=True)
            source.unlink(missing_ok=True)
            raise TransferIncomplete(f"{what}: the remote file changed during the download; list again")
        if part.stat().st_size != remote.size:
            raise TransferIncomplete(f"{what}: got {part.stat().st_size} of {remote.size} bytes")
        os.replace(part, final)
        source.unlink(missing_ok=True)
        return final


def _resume_offset(part: Path, source: Path, remote: RemoteFile) -> int:
    """Bytes already held for this very version of the file; 0 means start afresh."""
    try:
        same = json.loads(source.read_text(encoding="utf-8")) == remote.stamp()
        size = part.stat().st_size
    except (OSError, ValueError):
        return 0
    return size if same and size <= remote.size else 0


def fetch_complete(location: str, pattern: str, landing: Path,
                   settings: SftpSettings | None = None) -> list[Path]:
    """Land every complete file of the ``sftp://`` ``location`` in ``landing``; return their paths.

    A file already landed from the same remote version (size and mtime, kept in
    its local ``.ok``) is not downloaded again.
    """
    conn_id, remote_dir = parse_location(location)
    settings = settings or settings_from_connection(conn_id)
    landing.mkdir(parents=True, exist_ok=True)
    landed = []
    with SftpDrop(settings, remote_dir) as drop:
        for remote in drop.list_complete(pattern):
            final, marker = landing / remote.name, landing / f"{remote.name}.ok"
            if _already_landed(final, marker, remote):
                log.info("%s: already landed from the same remote version, skipped", remote.name)
            else:
                marker.unlink(missing_ok=True)
                drop.download(remote, landing)
                fault_point("download.landed")
                tmp = landing / f".{remote.name}.ok.tmp"
                tmp.write_text(json.dumps(remote.stamp()), encoding="utf-8")
                os.replace(tmp, marker)
                log.info("%s: downloaded %d bytes", remote.name, remote.size)
            landed.append(final)
    return landed


def _already_landed(final: Path, marker: Path, remote: RemoteFile) -> bool:
    try:
        return (final.stat().st_size == remote.size
                and json.loads(marker.read_text(encoding="utf-8")) == remote.stamp())
    except (OSError, ValueError):
        return False


def delivery_folder(location: str, pattern: str, landing: Path) -> Path:
    """The local folder to read deliveries from: ``location`` itself, or ``landing`` after fetching."""
    if location.startswith("sftp://"):
        fetch_complete(location, pattern, landing)
        return landing
    return Path(location)
