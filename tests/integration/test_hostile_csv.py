"""Hostile text from a partner never reaches a published CSV as a formula (outputs.md, issue 16)."""

from __future__ import annotations

import csv
import sqlite3
from collections.abc import Callable
from datetime import date
from pathlib import Path

from safetynet.pipeline import run

D = date(2026, 11, 20)
EVIL = '=HYPERLINK("http://evil.example/x","点此核实")'


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_names_and_township_names_are_written_formula_safe(deployment: Callable[..., Path],
                                                           tmp_path: Path) -> None:
    config = deployment(tmp_path)
    regions = config.parent / "regions.csv"
    lines = regions.read_text("utf-8").splitlines()
    town = next(i for i, line in enumerate(lines) if ",township," in line)
    code, _, *rest = lines[town].split(",")
    lines[town] = ",".join([code, "+1 乡", *rest])
    regions.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with sqlite3.connect(config.parent / "sources" / "civil_affairs.db") as db:
        db.execute("UPDATE sa_member SET name = ? WHERE relation = '户主'", (EVIL,))
        db.execute("UPDATE sa_allowance SET name = ?", ("@SUM(1+1)",))
    run(D, config)
    folder = config.parent / "outbox" / D.isoformat()
    cases = _rows(folder / f"mismatches_{D:%Y%m%d}.csv")
    monitoring = _rows(folder / f"monitoring_{D:%Y%m%d}.csv")
    cells = [v for r in cases + monitoring for v in r.values() if v]
    assert cells and not [v for v in cells if v.startswith(("=", "+", "-", "@", "\t", "\r"))]
    assert f"'{EVIL}" in {r["name"] for r in cases}
    assert "'@SUM(1+1)" in {r["name"] for r in cases}
    assert "'+1 乡" in {r["township_name"] for r in cases} | {r["township_name"] for r in monitoring}
