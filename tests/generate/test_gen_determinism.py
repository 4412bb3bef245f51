"""Same arguments → byte-identical files; another seed → different data."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

from safetynet.generate import generate_deployment


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_two_runs_identical(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate_deployment(a, households=300, seed=5, report_date=date(2026, 11, 20))
    generate_deployment(b, households=300, seed=5, report_date=date(2026, 11, 20))
    da, db = _digest(a), _digest(b)
    assert len(da) > 60
    assert da == db
    generate_deployment(c, households=300, seed=6, report_date=date(2026, 11, 20))
    dc = _digest(c)
    assert set(dc) == set(da)
    changed = [k for k in da if da[k] != dc[k] and not k.endswith(".ok")]
    assert "sources/civil_affairs.db" in changed
    assert "drop/property/BDC_QLR_20261120.xlsx" in changed
    assert "drop/vehicles/JDC_20261120.csv" in changed
    assert "sources/business.db" in changed
    assert "drop/medical/YB_202610.csv" in changed
    assert "expected_cases.json" in changed
