"""Delivery folders: which files are complete (have their ``.ok`` marker) and new.

A file without its marker is still being written and is never read. Files are
fingerprinted by size and SHA-256 so a file seen before is a no-op and a
changed file under the same name is processed again (sources.md).
"""

from __future__ import annotations

import hashlib
import logging
import stat
from dataclasses import dataclass
from pathlib import Path

from safetynet.transport.drop import match_name

log = logging.getLogger("safetynet")


class DeliveryError(RuntimeError):
    """A delivered file cannot be read as the contract describes."""


@dataclass(frozen=True)
class Delivery:
    """One complete delivered file."""

    path: Path
    tag: str  # the date or month in the file name
    size: int
    sha256: str

    @property
    def name(self) -> str:
        """The file name, as recorded in the file registry."""
        return self.path.name


def sha256_of(path: Path) -> str:
    """SHA-256 of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def complete_deliveries(folder: str | Path, pattern: str) -> list[Delivery]:
    """Regular files in ``folder`` whose name matches ``pattern`` in full and whose ``.ok``
    marker exists, by tag. Symbolic links, directories and devices are never read."""
    root = Path(folder)
    if not root.is_dir():
        raise DeliveryError(f"delivery folder not found: {root}")
    found = []
    for path in sorted(root.iterdir()):
        m = match_name(pattern, path.name)
        if not m or not path.with_name(path.name + ".ok").exists():
            continue
        if not stat.S_ISREG(path.lstat().st_mode):  # a link, directory or device is never read
            log.warning("%s: %s is not a regular file (a link, directory or device): not read",
                        root.name, path.name)
            continue
        found.append(Delivery(path, m.group(1), path.lstat().st_size, sha256_of(path)))
    return sorted(found, key=lambda d: (d.tag, d.name))
