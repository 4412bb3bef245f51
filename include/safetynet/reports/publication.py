"""Record a publication in the audit trail: which files, which checksums, which kind of run."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from safetynet.config import Config
from safetynet.warehouse.audit import publication_kind, record
from safetynet.warehouse.engine import get_engine


def record_publication(cfg: Config, d: date, staged: Path, target: str) -> str:
    """Append the publication of D's extract to ``meta_audit``; return its kind."""
    manifest = json.loads((staged / "manifest.json").read_text("utf-8"))
    files = {f["name"]: f["sha256"] for f in manifest["files"]}
    with get_engine(cfg.warehouse_url).begin() as conn:
        kind = publication_kind(conn, d)
        record(conn, kind, d, {"target": target, "files": files,
                               "stale_sources": manifest["stale_sources"],
                               "cases_by_status": manifest["cases_by_status"]})
    return kind
