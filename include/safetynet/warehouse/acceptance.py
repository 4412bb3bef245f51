"""Operators' acceptances of refused deliveries (``safetynet accept``).

A full delivery far below the previous one is refused by the volume guard
(docs/over-time.md). When the drop is genuine (a registry purged old rights, a
month really had fewer accounts), an operator accepts it by name: a file is
accepted by its SHA-256 as refused (a later, different file under the same name
is judged afresh), a table read in full for its next read. The acceptance goes
to ``meta_acceptance`` and the audit trail; the next run validates that
delivery without a lower volume bound and loads it.
"""

from __future__ import annotations

import getpass
from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, select, update

from safetynet.sources.batch import StagedItem
from safetynet.sources.declarations import DB_SPECS, FILE_SPECS
from safetynet.warehouse.audit import record
from safetynet.warehouse.schema import meta_acceptance, meta_refused


class AcceptError(ValueError):
    """The named source or item cannot be accepted (the message says what can)."""


def accept(engine: Engine, source: str, item: str) -> str:
    """Record the acceptance of ``item`` of ``source``; return a line for the operator."""
    with engine.begin() as conn:
        sha = _accepted_sha(conn, source, item)
        conn.execute(meta_acceptance.insert().values(
            source=source, item=item, sha256=sha, accepted_at=_now(), accepted_by=_who()))
        record(conn, "delivery_accepted", None, {"source": source, "item": item, "sha256": sha,
                                                 "by": _who()})
    what = f"file {item} (SHA-256 {sha[:12]}…)" if sha else f"the next read of table {item}"
    return f"accepted {what} of {source}: the next run loads it without the volume floor"


def _accepted_sha(conn: Connection, source: str, item: str) -> str | None:
    """The refused file's SHA-256, or None for a table read in full; else :class:`AcceptError`."""
    if source in DB_SPECS:
        full = [s.name for s in DB_SPECS[source] if s.watermark is None and s.replace_group is None]
        if item not in full:
            raise AcceptError(f"{source} has no table {item!r} read in full; tables that can be "
                              f"accepted: {', '.join(full) or 'none'}")
        return None
    if source not in FILE_SPECS:
        raise AcceptError(f"unknown source {source!r}; expected one of "
                          f"{', '.join(sorted({*DB_SPECS, *FILE_SPECS}))}")
    sha = conn.execute(select(meta_refused.c.sha256).where(
        meta_refused.c.source == source, meta_refused.c.item == item)).scalar()
    if sha is None:
        raise AcceptError(f"{source} has no refused delivery named {item!r} "
                          "(`safetynet status` lists refused deliveries)")
    return str(sha)


def pending(conn: Connection, source: str) -> set[tuple[str, str | None]]:
    """``(item, sha256 or None)`` accepted for ``source`` and not yet used."""
    rows = conn.execute(select(meta_acceptance.c.item, meta_acceptance.c.sha256).where(
        meta_acceptance.c.source == source, meta_acceptance.c.used_by_batch.is_(None)))
    return {(item, sha) for item, sha in rows}


def is_accepted(accepted: set[tuple[str, str | None]], item: StagedItem) -> bool:
    """Whether a staged item is the accepted delivery (its file's SHA-256, or its table)."""
    return (item["item"], item.get("sha256")) in accepted


def mark_used(conn: Connection, source: str, item: StagedItem, batch_id: str) -> None:
    """Consume the acceptance of a loaded item (inside the load's transaction)."""
    conn.execute(update(meta_acceptance).where(
        meta_acceptance.c.source == source, meta_acceptance.c.item == item["item"],
        meta_acceptance.c.used_by_batch.is_(None)).values(used_by_batch=batch_id))


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def _who() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry in some containers
        return "unknown"
