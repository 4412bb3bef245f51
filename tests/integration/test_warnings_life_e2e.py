"""Warning life over several days on a generated deployment, driven through its sources and inbox.

Two uncovered severely disabled people (H02) are warned on D. The bureau marks
one 无需救助 until the 22nd (a CSV with a key it never received); the other is
taken into a covered household at the civil-affairs source. The first stays out
of the list through the 22nd and comes back OPEN with its decision on the 23rd;
the second is RESOLVED on the day the source shows the enrolment, then leaves
the list, and the bureau's figure of H02 people later enrolled counts it.
"""

from __future__ import annotations

import csv
import json
import sqlite3
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from safetynet.pipeline import run

D = date(2026, 11, 20)


def _day(config: Path, day: date) -> tuple[dict[str, dict[str, str]], dict]:
    folder = config.parent / "warnings" / day.isoformat()
    with (folder / f"warnings_{day:%Y%m%d}.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = {r["warning_key"]: r for r in csv.DictReader(fh)}
    return rows, json.loads((folder / "manifest.json").read_text("utf-8"))


def test_not_needed_until_its_date_and_resolved_once_enrolled(
        deployment: Callable[..., Path], tmp_path: Path) -> None:
    config = deployment(tmp_path, households=400)
    expected = json.loads((config.parent / "expected_cases.json").read_text("utf-8"))["warnings"]
    enrolled, declined = sorted(expected["H02"])[:2]
    run(D, config)
    day1, _ = _day(config, D)
    assert day1[enrolled]["status"] == "NEW" and day1[declined]["status"] == "NEW"
    (config.parent / "inbox" / "warning_dispositions_20261121.csv").write_text(
        "warning_key,outcome,note,suppress_until\n"
        f"{declined},无需救助,子女已接回赡养,2026-11-22\n"
        "H02:000000000000000000,ASSISTED,,\n", encoding="utf-8")
    run(D + timedelta(1), config)
    day2, manifest2 = _day(config, D + timedelta(1))
    assert day2[enrolled]["status"] == "OPEN" and declined not in day2
    assert [u["case_key"] for u in manifest2["dispositions"]["unknown_cases"]] == ["H02:000000000000000000"]
    before = manifest2["figures"]["h02_enrolled"]
    person = enrolled.split(":", 1)[1]
    with sqlite3.connect(config.parent / "sources" / "civil_affairs.db") as db:  # taken in on the 22nd
        (household,) = db.execute(
            "SELECT household_id FROM sa_household WHERE status = 'ACTIVE' AND terminated_on IS NULL "
            "AND approved_on <= '2026-01-01' ORDER BY household_id LIMIT 1").fetchone()
        db.execute("INSERT INTO sa_member VALUES (?, ?, '新成员', '其他', '2026-11-22', NULL, "
                   "'2026-11-22 08:00:00')", (household, person))
    run(D + timedelta(2), config)
    day3, manifest3 = _day(config, D + timedelta(2))
    assert day3[enrolled]["status"] == "RESOLVED" and declined not in day3
    assert manifest3["figures"]["h02_enrolled"]["enrolled"] == before["enrolled"] + 1
    run(D + timedelta(3), config)
    day4, _ = _day(config, D + timedelta(3))
    assert enrolled not in day4
    assert day4[declined]["status"] == "OPEN" and day4[declined]["disposition"] == "NOT_NEEDED"
    assert day4[declined]["disposition_note"] == "子女已接回赡养"
    inspectors = (config.parent / "outbox" / (D + timedelta(3)).isoformat()).iterdir()
    assert not [p.name for p in inspectors if "warning" in p.name]  # the inspectors never see one
