"""Inspectors' decisions (反馈) from the inbox (outputs.md, issues 15 and 17).

Files are ``dispositions_*.csv``, or workbooks: the day's ``mismatches_*.xlsx``
returned with its decision columns filled in, or any ``dispositions_*.xlsx``.
Each file is read on its own (:mod:`safetynet.dispositions_parse`,
:mod:`safetynet.dispositions_xlsx`) and nothing
it contains can stop the day's extract: a file that cannot be used is rejected
by name, a row that cannot be used is quarantined with its row number and
reason, and both are reported (:mod:`safetynet.dispositions_report`). Every
file, loaded or rejected, is registered by name and SHA-256, so it is read
again only when it changes; a rejected new version leaves the file's earlier
decisions in force.

Each decision is kept with its file, row and the first report date it applies to
(``loaded_for``: the run's date, or the day after the latest report already
evaluated when an earlier day is re-run or back-filled, so a decision never
changes a report published before it arrived), and applies from that date on.
``EXPLAINED`` leaves a case out of reports until its ``suppress_until`` date
(inclusive; empty means until the evidence changes) or until its evidence
changes, compared by the SHA-256 of the case's evidence on the newest report up
to that date. ``CONFIRMED`` and ``UNDER_REVIEW`` are shown
on the case. Rows naming a case that never appeared are kept, never applied, and
reported in the extract's manifest: a CSV's in ``core_disposition`` (``known``
false, listed with their case key), a workbook's as rejected rows naming their
sheet. A workbook's decision is kept as row ``sheet_no × 10,000,000 + row``
(:attr:`~safetynet.dispositions_parse.Decision.stored_row`), unique in the file.

On an SFTP inbox a file is read once its ``.ok`` marker exists, the same
completion convention as the departments' drops, so a file still being uploaded
is never read.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Connection, delete, insert, select, text

from safetynet.config import Config
from safetynet.dispositions_kinds import CASE_DECISIONS, DecisionKind
from safetynet.dispositions_parse import Decision, FileRejected, Rejection, parse
from safetynet.dispositions_report import disposition_report, unknown_rows
from safetynet.dispositions_xlsx import parse_xlsx, unknown_case
from safetynet.privacy import mask_text
from safetynet.rules.chain import applies_from
from safetynet.rules.decisions import evidence_sha
from safetynet.sources.drops import complete_deliveries
from safetynet.transport.drop import match_name
from safetynet.warehouse.audit import record
from safetynet.warehouse.schema import meta_file, meta_quarantine, metadata

__all__ = ["disposition_report", "inbox_files", "load_dispositions", "unknown_rows"]

PATTERN = CASE_DECISIONS.pattern
"""``dispositions_*.csv``, ``dispositions_*.xlsx`` and ``mismatches_*.xlsx`` (not the extract's CSV)."""
log = logging.getLogger(__name__)


def inbox_files(cfg: Config, kind: DecisionKind = CASE_DECISIONS) -> list[Path]:
    """``kind``'s decision files ready to read, oldest name first."""
    location, pattern = cfg.inbox, kind.pattern
    if not location:
        return []
    if location.startswith("sftp://"):
        from safetynet.transport import delivery_folder

        folder = delivery_folder(location, pattern, cfg.work_dir / "landing" / kind.name)
        return [d.path for d in complete_deliveries(folder, pattern)]
    root = Path(location)
    return sorted(p for p in root.iterdir() if match_name(pattern, p.name) and p.is_file()) \
        if root.is_dir() else []


def load_dispositions(conn: Connection, cfg: Config, d: date, kind: DecisionKind = CASE_DECISIONS) -> dict:
    """Read every new or changed inbox file of ``kind`` (the inspectors' on cases by default,
    the bureau's on warnings) for report date D; return counts (no personal data).

    Only a database error raises: whatever a file holds rejects that file or its rows.
    """
    seen = dict(conn.execute(select(meta_file.c.file_name, meta_file.c.sha256).where(
        meta_file.c.source == kind.name)).all())
    counts = {"files": 0, "rows": 0, "rejected_rows": 0, "rejected_files": 0}
    for path in inbox_files(cfg, kind):
        try:
            data = path.read_bytes()
        except OSError as exc:  # vanished or unreadable: not registered, tried again next run
            _reject(conn, kind, path.name, None, 0, f"cannot be read ({type(exc).__name__})", d)
            counts["rejected_files"] += 1
            continue
        sha = hashlib.sha256(data).hexdigest()
        if seen.get(path.name) == sha:
            continue
        try:
            decisions, rejected = parse_xlsx(data, kind) if path.suffix == ".xlsx" else parse(data, kind)
        except Exception as exc:  # not only FileRejected: a parser bug must not stop the extract either
            reason = exc.reason if isinstance(exc, FileRejected) else f"unreadable ({type(exc).__name__})"
            _reject(conn, kind, path.name, sha, len(data), reason, d)  # (a bug's message may quote data)
            counts["rejected_files"] += 1
            continue
        stored, refused = _store(conn, kind, path.name, sha, len(data), decisions, rejected, d)
        counts["files"] += 1
        counts["rows"] += stored
        counts["rejected_rows"] += refused
    return counts


def _store(conn: Connection, kind: DecisionKind, name: str, sha: str, size: int, decisions: list[Decision],
           rejected: list[Rejection], d: date) -> tuple[int, int]:
    """Replace the file's decisions and quarantined rows, register and audit it.

    Returns the decisions kept and the rows rejected (a CSV's unknown cases counted in both).
    """
    effective = applies_from(conn, d)  # never an already published report (rules.chain)
    shas: dict[str, str | None] = {}
    for k in {x.case_key for x in decisions}:
        shas[k] = _evidence_sha(conn, kind, k, effective)
    outside = [x for x in decisions if x.sheet is not None and shas[x.case_key] is None]
    if outside:  # a workbook's unknown cases: rejected rows naming their sheet
        decisions = [x for x in decisions if x.sheet is None or shas[x.case_key] is not None]
        rejected = sorted([*rejected, *(unknown_case(x, kind) for x in outside)], key=lambda r: r.row)
    table = metadata.tables[kind.decisions_table]
    conn.execute(delete(table).where(table.c.file_name == name))
    if decisions:
        conn.execute(insert(table), [
            {"file_name": name, "row_number": x.stored_row, "file_sha256": sha, "case_key": x.case_key,
             "outcome": x.outcome, "note": x.note, "suppress_until": x.suppress_until,
             "evidence_sha256": shas[x.case_key], "known": shas[x.case_key] is not None,
             "loaded_for": effective} for x in decisions])
    conn.execute(delete(meta_quarantine).where(meta_quarantine.c.source == kind.name,
                                               meta_quarantine.c.item == name))
    if rejected:
        conn.execute(insert(meta_quarantine), [
            {"source": kind.name, "item": name, "batch_id": d.isoformat(), "row_number": r.row,
             "column_name": r.column, "reason": r.reason, "raw": r.raw} for r in rejected])
    unknown = sum(shas[x.case_key] is None for x in decisions)
    _register(conn, kind, name, sha, size, "loaded")
    record(conn, kind.applied, d, {"file": name, "sha256": sha, "rows": len(decisions),
                              "rejected_rows": len(rejected), "unknown_cases": unknown})
    log.info("disposition file %s: %d rows applied, %d rejected, %d naming an unknown case",
             mask_text(name), len(decisions) - unknown, len(rejected), unknown)
    for r in rejected[:20]:
        log.warning("disposition file %s row %d rejected: %s", mask_text(name), r.row, mask_text(r.reason))
    return len(decisions), len(rejected) + unknown


def _reject(conn: Connection, kind: DecisionKind, name: str, sha: str | None, size: int, reason: str,
            d: date) -> None:
    """Register (when its SHA-256 is known) and audit a file nothing is used from."""
    if sha is not None:
        _register(conn, kind, name, sha, size, "rejected")
    record(conn, kind.rejected, d, {"file": name, "sha256": sha, "reason": reason})
    log.warning("disposition file %s rejected: %s", mask_text(name), mask_text(reason))


def _register(conn: Connection, kind: DecisionKind, name: str, sha: str, size: int, outcome: str) -> None:
    conn.execute(delete(meta_file).where(meta_file.c.source == kind.name,
                                         meta_file.c.file_name == name))
    conn.execute(insert(meta_file).values(
        source=kind.name, file_name=name, size=size, sha256=sha,
        seen_at=datetime.now(UTC).replace(tzinfo=None, microsecond=0), outcome=outcome))


def _evidence_sha(conn: Connection, kind: DecisionKind, case_key: str, d: date) -> str | None:
    """SHA-256 of the item's evidence on its newest report on or before D; None for an unknown item."""
    evidence = conn.execute(text(
        f"SELECT evidence FROM {kind.items_table} WHERE case_key = :k AND report_date <= :d "
        "ORDER BY report_date DESC LIMIT 1"), {"k": case_key, "d": d.isoformat()}).scalar()
    return None if evidence is None else evidence_sha(evidence)
