"""Case life over several days on a generated deployment, driven through its sources and inbox."""

from __future__ import annotations

import csv
import json
import sqlite3
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

from safetynet.pipeline import run

D = date(2026, 11, 20)


def _extract(config: Path, day: date) -> dict[str, dict[str, str]]:
    path = config.parent / "outbox" / day.isoformat() / f"mismatches_{day:%Y%m%d}.csv"
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return {r["case_key"]: r for r in csv.DictReader(fh)}


def test_resolved_after_the_source_is_corrected_and_explained_until_its_date(
        deployment: Callable[..., Path], tmp_path: Path) -> None:
    config = deployment(tmp_path, households=400)
    expected = json.loads((config.parent / "expected_cases.json").read_text("utf-8"))["cases"]
    fixed, explained = sorted(expected["R08"])[0], sorted(expected["R09"])[0]
    run(D, config)
    day1 = _extract(config, D)
    assert day1[fixed]["status"] == "NEW" and day1[explained]["status"] == "NEW"
    (config.parent / "inbox" / "dispositions_20261121.csv").write_text(
        "case_key,outcome,note,suppress_until\n"
        f"{explained},EXPLAINED,户籍系统已更正,2026-11-22\n"
        "R01:000000000000000000,CONFIRMED,,\n", encoding="utf-8")
    run(D + timedelta(1), config)
    day2 = _extract(config, D + timedelta(1))
    assert day2[fixed]["status"] == "OPEN" and explained not in day2
    manifest = json.loads((config.parent / "outbox" / "2026-11-21" / "manifest.json").read_text("utf-8"))
    assert [u["case_key"] for u in manifest["dispositions"]["unknown_cases"]] == ["R01:000000000000000000"]
    person = fixed.split(":", 1)[1]
    with sqlite3.connect(config.parent / "sources" / "civil_affairs.db") as db:  # the source is corrected
        households = [h for (h,) in db.execute(
            "SELECT household_id FROM sa_member WHERE REPLACE(UPPER(TRIM(id_number)), ' ', '') = ? "
            "ORDER BY household_id", (person,))]
        db.execute("UPDATE sa_member SET left_on = '2026-11-21', updated_at = '2026-11-22 08:00:00' "
                   "WHERE household_id = ? AND REPLACE(UPPER(TRIM(id_number)), ' ', '') = ?",
                   (households[-1], person))
    run(D + timedelta(2), config)
    day3 = _extract(config, D + timedelta(2))
    assert day3[fixed]["status"] == "RESOLVED" and explained not in day3
    run(D + timedelta(3), config)
    day4 = _extract(config, D + timedelta(3))
    assert fixed not in day4
    assert day4[explained]["status"] == "OPEN" and day4[explained]["disposition"] == "EXPLAINED"
