"""Source snapshot identifiers: which delivery of each source a case was found in.

Every case carries the identifiers of the snapshots its rule read, so an
inspector (or an auditor, years later) can trace it back to the source rows:

- a file source: the newest loaded file in force for D (a snapshot dated on or
  before D, a month up to D's month) and the start of its SHA-256
  (``property:BDC_QLR_20261120.xlsx#3f2a9c1e0b7d``), found again in ``meta_file``
  and, in full, in the landing folder;
- a database source: the batch (report date) that last loaded it
  (``civil_affairs:batch 2026-11-20``), found again in ``meta_load_log``, the
  watermarks of ``meta_watermark`` and the staged batch folder.

Both are derived from what was loaded, never from clocks, so re-running a day
gives the same identifiers and byte-identical case files.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, func, select

from safetynet.sources.declarations import DB_SPECS, FILE_SPECS
from safetynet.transport.drop import match_name
from safetynet.warehouse.schema import meta_file, meta_load_log

SHA_PREFIX = 12


def snapshot_ids(conn: Connection, d: date) -> dict[str, str]:
    """Each loaded source's snapshot identifier for D (sources never loaded are absent)."""
    out: dict[str, str] = {}
    files = conn.execute(select(meta_file.c.source, meta_file.c.file_name, meta_file.c.sha256).where(
        meta_file.c.outcome == "loaded").order_by(meta_file.c.source, meta_file.c.file_name))
    for source, name, sha in files:
        spec = FILE_SPECS.get(source)
        found = match_name(spec.extra["pattern"], name) if spec else None
        if found and found.group(1) <= d.strftime("%Y%m%d")[: len(found.group(1))]:
            out[source] = f"{source}:{name}#{str(sha)[:SHA_PREFIX]}"  # names sort by date: the last wins
    batches = conn.execute(select(meta_load_log.c.source, func.max(meta_load_log.c.batch_id)).where(
        meta_load_log.c.source.in_(sorted(DB_SPECS))).group_by(meta_load_log.c.source))
    for source, batch in batches:
        out[source] = f"{source}:batch {batch}"
    return out


def rule_snapshot(ids: dict[str, str], sources: tuple[str, ...]) -> str:
    """The identifiers of the snapshots a rule reads, in the rule's order; ``-`` for none loaded."""
    return "; ".join(ids.get(s, f"{s}:-") for s in sources)
