"""The file registry (``meta_file``): every delivered file seen, with its SHA-256 and outcome.

Outcomes: ``loaded`` (its rows are in the warehouse) and ``duplicate`` (the same
content as a loaded file under another name: not loaded). A file is known by
source and name; registering it again replaces its record.

A delivery refused by a reader or by validation (a file, or a table read in
full) is kept apart in ``meta_refused``, so a refused re-send never hides the
loaded delivery of the same name: it is tried again on every run, and reported
stale, until it is replaced by a delivery that loads or an operator accepts it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, delete, insert, select

from safetynet.privacy import mask_text
from safetynet.warehouse.schema import meta_file, meta_refused

log = logging.getLogger("safetynet")


def register_file(target: Engine | Connection, source: str, name: str, size: int | None, sha256: str,
                  outcome: str, at: datetime | None = None) -> None:
    """Record ``name`` of ``source`` with ``outcome`` (in its own transaction for an engine)."""
    if isinstance(target, Engine):
        with target.begin() as conn:
            register_file(conn, source, name, size, sha256, outcome, at)
        return
    target.execute(delete(meta_file).where(meta_file.c.source == source, meta_file.c.file_name == name))
    target.execute(insert(meta_file).values(
        source=source, file_name=name, size=size, sha256=sha256, outcome=outcome,
        seen_at=at or datetime.now(UTC).replace(tzinfo=None, microsecond=0)))


def record_refusal(target: Engine | Connection, source: str, item: str, sha256: str | None,
                   size: int | None, reason: str, batch_id: str) -> None:
    """Record that ``item`` of ``source`` was refused (the reason is masked and kept short)."""
    if isinstance(target, Engine):
        with target.begin() as conn:
            record_refusal(conn, source, item, sha256, size, reason, batch_id)
        return
    clear_refusal(target, source, item)
    target.execute(insert(meta_refused).values(
        source=source, item=item, sha256=sha256, size=size, reason=mask_text(reason)[:1000],
        batch_id=batch_id, refused_at=datetime.now(UTC).replace(tzinfo=None, microsecond=0)))


def clear_refusal(conn: Connection, source: str, item: str) -> None:
    """Forget a refusal: the item loaded (replaced or accepted)."""
    conn.execute(delete(meta_refused).where(meta_refused.c.source == source, meta_refused.c.item == item))


def known_files(engine: Engine, source: str, versions: bool) -> tuple[dict[str, str], dict[str, str]]:
    """What the registry knows of ``source``: ``(name -> sha256 of files that need no work,
    sha256 -> name of the file whose content is in the warehouse)``.

    Files that need no work are the ones loaded or recorded as duplicates. Content
    in the warehouse is every loaded file (each month stays until its own name is
    re-delivered), except for ``versions`` (dated snapshots): those are never
    duplicates of each other, each date is a version of its own whatever its content.
    """
    with engine.connect() as conn:
        rows = conn.execute(select(meta_file.c.file_name, meta_file.c.sha256, meta_file.c.outcome,
                                   meta_file.c.seen_at).where(
            meta_file.c.source == source, meta_file.c.outcome.in_(("loaded", "duplicate")))).all()
    seen = {name: sha for name, sha, _, _ in rows}
    if versions:
        return seen, {}
    loaded = sorted((at, name, sha) for name, sha, outcome, at in rows if outcome == "loaded")
    return seen, {sha: name for _, name, sha in loaded}


def record_duplicate(engine: Engine, source: str, name: str, size: int | None, sha256: str,
                     original: str) -> None:
    """Register (and log) a file whose content equals a loaded one under another name.

    It is not loaded: a utility month re-sent under another month's name would load
    rows that all belong to the original month. The registry row makes it a no-op
    from now on and tells the operator it was seen.
    """
    log.warning("%s: %s has the same content (SHA-256 %s…) as %s, which is loaded; "
                "recorded as a duplicate, not loaded", source, name, sha256[:12], original)
    register_file(engine, source, name, size, sha256, "duplicate")
