"""Delivery folders: which files are complete (have their ``.ok`` marker) and new.

A file without its marker is still being written and is never read. Files are
fingerprinted by size and SHA-256 so a file seen before is a no-op and a
changed file under the same name is processed again (sources.md).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path


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
    """Files in ``folder`` matching ``pattern`` whose ``.ok`` marker exists, by tag."""
    root = Path(folder)
    if not root.is_dir():
        raise DeliveryError(f"delivery folder not found: {root}")
    rx = re.compile(pattern)
    found = []
    for path in sorted(root.iterdir()):
        m = rx.match(path.name)
        if m and path.is_file() and path.with_name(path.name + ".ok").exists():
            found.append(Delivery(path, m.group(1), path.stat().st_size, sha256_of(path)))
    return sorted(found, key=lambda d: (d.tag, d.name))
