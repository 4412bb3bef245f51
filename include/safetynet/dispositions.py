"""Inspectors' decisions (反馈): ``dispositions_*.csv`` from the inbox (outputs.md).

Each new file is loaded once (registered by name and SHA-256) and each row kept
with its file and row number. ``EXPLAINED`` leaves a case out of reports until
its ``suppress_until`` date (inclusive; empty means until the evidence changes)
or until its evidence changes, compared by the SHA-256 of the case's evidence
when the decision arrived. ``CONFIRMED`` and ``UNDER_REVIEW`` are shown on the
case. Rows naming a case that never appeared are kept, never applied, and
reported in the next extract's manifest.

On an SFTP inbox a file is read once its ``.ok`` marker exists, the same
completion convention as the departments' drops, so a file still being uploaded
is never read.
"""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import Connection, delete, insert, select, text

from safetynet.config import Config
from safetynet.sources.drops import complete_deliveries, sha256_of
from safetynet.transforms import parse_dates
from safetynet.warehouse.audit import record
from safetynet.warehouse.bulk import insert_frame
from safetynet.warehouse.schema import core_disposition, meta_file, meta_quarantine

HEADER = ["case_key", "outcome", "note", "suppress_until"]
OUTCOMES = ("CONFIRMED", "EXPLAINED", "UNDER_REVIEW")
PATTERN = r"^dispositions_(.+)\.csv$"


def inbox_files(cfg: Config) -> list[Path]:
    """Disposition files ready to read, oldest name first."""
    location = cfg.inbox
    if not location:
        return []
    if location.startswith("sftp://"):
        from safetynet.transport import delivery_folder

        folder = delivery_folder(location, PATTERN, cfg.work_dir / "landing" / "inbox")
        return [d.path for d in complete_deliveries(folder, PATTERN)]
    root = Path(location)
    return sorted(p for p in root.glob("dispositions_*.csv") if p.is_file()) if root.is_dir() else []


def load_dispositions(conn: Connection, cfg: Config, d: date) -> dict:
    """Load every new inbox file once; return counts (no personal data)."""
    seen = dict(conn.execute(select(meta_file.c.file_name, meta_file.c.sha256).where(
        meta_file.c.source == "dispositions")).all())
    counts = {"files": 0, "rows": 0, "rejected_rows": 0}
    for path in inbox_files(cfg):
        sha = sha256_of(path)
        if seen.get(path.name) == sha:
            continue
        rows, rejected = _parse(path)
        rows["evidence_sha256"] = [_evidence_sha(conn, k) for k in rows["case_key"]]
        rows["known"] = rows["evidence_sha256"].notna()
        rows = rows.assign(file_name=path.name, file_sha256=sha, loaded_for=d.isoformat())
        conn.execute(delete(core_disposition).where(core_disposition.c.file_name == path.name))
        insert_frame(conn, core_disposition, rows)
        conn.execute(delete(meta_quarantine).where(meta_quarantine.c.source == "dispositions",
                                                   meta_quarantine.c.item == path.name))
        insert_frame(conn, meta_quarantine, rejected.assign(source="dispositions", item=path.name,
                                                            batch_id=d.isoformat()))
        conn.execute(delete(meta_file).where(meta_file.c.source == "dispositions",
                                             meta_file.c.file_name == path.name))
        conn.execute(insert(meta_file).values(
            source="dispositions", file_name=path.name, size=path.stat().st_size, sha256=sha,
            seen_at=datetime.now(UTC).replace(tzinfo=None, microsecond=0), outcome="loaded"))
        record(conn, "disposition_file_applied", d, {
            "file": path.name, "sha256": sha, "rows": len(rows), "rejected_rows": len(rejected),
            "unknown_cases": int((~rows["known"]).sum())})
        counts["files"] += 1
        counts["rows"] += len(rows)
        counts["rejected_rows"] += len(rejected)
    return counts


def _parse(path: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split a file into usable rows and rejected rows (with row number and reason)."""
    frame = pd.read_csv(io.StringIO(path.read_bytes().decode("utf-8-sig")), dtype=str,
                        keep_default_na=False)
    if [c.strip() for c in frame.columns] != HEADER:
        raise ValueError(f"{path.name}: header must be {','.join(HEADER)}")
    frame.columns = HEADER
    frame = frame.apply(lambda s: s.str.strip())
    raw_until = frame["suppress_until"]
    raw = frame["case_key"] + "," + frame["outcome"] + "," + frame["note"] + "," + raw_until
    frame["row_number"] = range(2, len(frame) + 2)
    frame["outcome"] = frame["outcome"].str.upper()
    frame["suppress_until"] = parse_dates(raw_until)
    reason = pd.Series(None, index=frame.index, dtype="object")
    reason[frame["suppress_until"].isna() & (raw_until != "")] = "unparseable suppress_until"
    reason[~frame["outcome"].isin(OUTCOMES)] = f"outcome must be one of {', '.join(OUTCOMES)}"
    reason[frame["case_key"] == ""] = "missing case_key"
    bad = reason.notna()
    quarantine = pd.DataFrame({"row_number": frame.loc[bad, "row_number"], "column_name": "outcome",
                               "reason": reason[bad],
                               "raw": raw[bad]})
    return frame[~bad].replace({"": None}), quarantine


def _evidence_sha(conn: Connection, case_key: str) -> str | None:
    """SHA-256 of the case's evidence on its latest report, or None for an unknown case."""
    evidence = conn.execute(text(
        "SELECT evidence FROM mart_case_day WHERE case_key = :k ORDER BY report_date DESC"),
        {"k": case_key}).scalar()
    return None if evidence is None else evidence_sha(evidence)


def current_decisions(conn: Connection) -> pd.DataFrame:
    """The latest applicable decision per known case (latest file name, then row)."""
    rows = pd.read_sql(text(
        "SELECT case_key, outcome, note, suppress_until, evidence_sha256, file_name, row_number "
        "FROM core_disposition WHERE known = :t"), conn, params={"t": True})
    rows = rows.sort_values(["case_key", "file_name", "row_number"])
    return rows.drop_duplicates("case_key", keep="last").set_index("case_key")


def unknown_rows(conn: Connection, d: date) -> list[dict]:
    """Decisions loaded for D that name no known case: reported back in the manifest."""
    rows = conn.execute(text(
        "SELECT file_name, row_number, case_key, outcome FROM core_disposition "
        "WHERE known = :f AND loaded_for = :d ORDER BY file_name, row_number"),
        {"f": False, "d": d.isoformat()}).mappings().all()
    return [dict(r) for r in rows]


def evidence_sha(evidence: str) -> str:
    """The fingerprint EXPLAINED decisions are compared against."""
    return hashlib.sha256(evidence.encode("utf-8")).hexdigest()
