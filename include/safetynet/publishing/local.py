"""Atomic publishing to a local outbox folder (outputs.md, "Publishing is atomic").

Readers wait for ``_SUCCESS``. Re-publishing D first removes ``_SUCCESS``, then
writes every file under a temporary name, checks its size and SHA-256, renames
it into place, removes files the new extract no longer has, and writes an empty
``_SUCCESS`` last.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from safetynet.faults import fault_point

SUCCESS = "_SUCCESS"


class PublishError(RuntimeError):
    """A published file did not arrive intact."""


def publish_folder(staged: Path, outbox: Path, folder_name: str) -> Path:
    """Publish every file of ``staged`` to ``outbox/folder_name``; return the folder."""
    target = outbox / folder_name
    target.mkdir(parents=True, exist_ok=True)
    (target / SUCCESS).unlink(missing_ok=True)
    names = sorted(p.name for p in staged.iterdir() if p.is_file())
    for name in names:
        data = (staged / name).read_bytes()
        tmp = target / f".{name}.part"
        with tmp.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if hashlib.sha256(tmp.read_bytes()).hexdigest() != hashlib.sha256(data).hexdigest():
            raise PublishError(f"{name}: checksum mismatch after writing to {target}")
        tmp.replace(target / name)
        fault_point("publish.file")
    for old in target.iterdir():
        if old.name not in names:
            old.unlink()
    fault_point("publish.renamed")
    (target / SUCCESS).touch()
    _fsync_dir(target)
    return target


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
