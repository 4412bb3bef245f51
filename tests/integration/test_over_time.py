"""Deliveries over time (sources.md; docs/over-time.md): corrections replace, emptied full
deliveries are refused until accepted, future timestamps never hide later changes.

Each test runs on the embedded SQLite warehouse and on PostgreSQL, through
``safetynet.pipeline`` and the ``safetynet`` command line, against a generated
deployment whose source database is edited between days.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import text

from safetynet import pipeline
from safetynet.config import load_config
from safetynet.dashboard.page import render
from safetynet.dashboard.summary import load_summary
from safetynet.warehouse.engine import get_engine

D = date(2026, 11, 20)
DAY = timedelta(days=1)


def _wh(config: Path, sql: str, **params: object) -> list[tuple]:
    with get_engine(load_config(config).warehouse_url).connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params)]


def _source(config: Path, name: str) -> sqlite3.Connection:
    return sqlite3.connect(config.parent / "sources" / f"{name}.db")


def _cases(config: Path, day: date) -> dict[str, str]:
    import csv

    path = config.parent / "outbox" / day.isoformat() / f"mismatches_{day:%Y%m%d}.csv"
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return {r["case_key"]: r["status"] for r in csv.DictReader(fh)}


def _summary_text(workbook: Path) -> str:
    from openpyxl import load_workbook

    sheet = load_workbook(workbook, read_only=True)["汇总"]
    return "\n".join(str(v) for row in sheet.iter_rows(values_only=True) for v in row if v is not None)


def _cli(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "safetynet.cli", *args, "--config", str(config)],
                          capture_output=True, text=True, timeout=600, check=False)


def test_member_corrections_replace_the_household_and_a_future_clock_hides_nothing(
        warehouse_config: Path) -> None:
    config = warehouse_config
    pipeline.run(D, config)
    with _source(config, "civil_affairs") as db:  # an invalid ID in a household of several members
        household, bad_id, good_id = next(
            (k.split(":", 2)[1], k.split(":", 2)[2], other[0])
            for k in sorted(_cases(config, D)) if k.startswith("R09:DB")
            for other in db.execute("SELECT id_number FROM sa_member WHERE household_id = ? AND "
                                    "TRIM(id_number) <> ? ORDER BY id_number LIMIT 1",
                                    (k.split(":", 2)[1], k.split(":", 2)[2])).fetchall())
        r09 = f"R09:{household}:{bad_id}"
        other = db.execute("SELECT household_id FROM sa_household WHERE household_id <> ? "
                           "AND status = 'ACTIVE' ORDER BY household_id LIMIT 1", (household,)).fetchone()[0]
        # the invalid ID corrected, stamped by a source clock far ahead ...
        fixed = db.execute("UPDATE sa_member SET id_number = '110101190001011234', name = '更正后', "
                           "updated_at = '2099-01-01 00:00:00' "
                           "WHERE household_id = ? AND TRIM(id_number) = ?", (household, bad_id)).rowcount
        # ... and a valid member moved to another household, the same day
        db.execute("UPDATE sa_member SET household_id = ?, updated_at = '2026-11-21 08:00:00' "
                   "WHERE household_id = ? AND id_number = ?", (other, household, good_id))
    assert fixed >= 1
    pipeline.run(D + DAY, config)
    day2 = _cases(config, D + DAY)
    assert day2[r09] == "RESOLVED"
    with _source(config, "civil_affairs") as db:
        for hid in (household, other):
            truth = sorted(db.execute("SELECT TRIM(id_number), name FROM sa_member WHERE household_id = ? "
                                      "GROUP BY TRIM(id_number), name", (hid,)).fetchall())
            held = sorted(_wh(config, "SELECT id_raw, name FROM core_member WHERE household_id = :h",
                              h=hid))
            assert [r[0] for r in held] == [r[0] for r in truth], hid  # replaced, nothing added
    assert _wh(config, "SELECT value FROM meta_watermark WHERE table_name = 'sa_member'") == [
        ('"2026-11-21 08:00:00"',)]
    manifest = json.loads((config.parent / "outbox" / (D + DAY).isoformat() / "manifest.json").read_text())
    assert manifest["sources"]["civil_affairs"]["future_rows"] >= 1
    assert manifest["sources"]["civil_affairs"]["future_max"] == "2099-01-01 00:00:00"
    # a later, ordinary change of the same table is still extracted
    with _source(config, "civil_affairs") as db:
        db.execute("UPDATE sa_member SET left_on = '2026-11-22', updated_at = '2026-11-22 09:00:00' "
                   "WHERE household_id = ? AND id_number = ?", (other, good_id))
    pipeline.run(D + 2 * DAY, config)
    assert _wh(config, "SELECT left_on FROM core_member WHERE household_id = :h AND id_raw = :i",
               h=other, i=good_id.strip())[0][0] is not None
    status = _cli(config, "status")
    assert "future" in status.stdout and "2099-01-01" in status.stdout, status.stdout


def test_an_emptied_full_read_table_is_refused_until_accepted(warehouse_config: Path) -> None:
    config = warehouse_config
    pipeline.run(D, config)
    pipeline.run(D + DAY, config)
    extract = config.parent / "outbox" / (D + DAY).isoformat() / f"mismatches_{D + DAY:%Y%m%d}.csv"
    good = extract.read_bytes()
    declared = _wh(config, "SELECT COUNT(*) FROM core_declared_relative")[0][0]
    assert declared > 0 and any(k.startswith("R03:") for k in _cases(config, D + DAY))
    with _source(config, "personnel") as db:
        db.execute("DELETE FROM hr_relative")
    result = pipeline.run(D + DAY, config)  # the same day again, with the emptied table
    assert set(result["failed_sources"]) == {"personnel"}
    assert "hr_relative" in result["failed_sources"]["personnel"]
    assert "safetynet accept --source personnel --item hr_relative" in result["failed_sources"]["personnel"]
    assert _wh(config, "SELECT COUNT(*) FROM core_declared_relative")[0][0] == declared  # nothing replaced
    manifest = json.loads((extract.parent / "manifest.json").read_text())
    assert manifest["stale_sources"] == ["personnel"]
    assert extract.read_bytes() == good  # the leads stand, byte for byte
    assert [(r["source"], r["item"]) for r in manifest["refused"]] == [("personnel", "hr_relative")]
    summary = _summary_text(extract.with_suffix(".xlsx"))
    assert "拒收 hr_relative" in summary
    assert "safetynet accept --source personnel --item hr_relative" in summary
    page = load_summary(config)
    assert [(r["source"], r["item"]) for r in page["refused"]] == [("personnel", "hr_relative")]
    assert "hr_relative" in render(page)
    assert "hr_relative" in _cli(config, "status").stdout
    bad = _cli(config, "accept", "--source", "personnel", "--item", "sa_member")
    assert bad.returncode == 2 and "hr_relative" in bad.stderr
    ok = _cli(config, "accept", "--source", "personnel", "--item", "hr_relative")
    assert ok.returncode == 0, ok.stderr
    audit = _wh(config, "SELECT detail FROM meta_audit WHERE action = 'delivery_accepted'")
    assert [json.loads(d)["item"] for (d,) in audit] == ["hr_relative"]
    result = pipeline.run(D + 2 * DAY, config)
    assert result["failed_sources"] == {}
    assert _wh(config, "SELECT COUNT(*) FROM core_declared_relative")[0][0] == 0
    assert load_summary(config)["refused"] == []
    with _source(config, "personnel") as db:  # the next collapse is refused again: the acceptance is spent
        db.execute("DELETE FROM hr_village_cadre WHERE rowid % 3 <> 0")
    assert set(pipeline.run(D + 3 * DAY, config)["failed_sources"]) == {"personnel"}


def test_a_corrected_staff_record_replaces_the_old_one(warehouse_config: Path) -> None:
    config = warehouse_config
    pipeline.run(D, config)
    r02 = sorted(k for k, s in _cases(config, D).items() if k.startswith("R02:"))[0]
    person = r02.split(":", 1)[1]
    with _source(config, "personnel") as db:
        changed = db.execute("UPDATE hr_staff SET id_number = '110101190001011234', "
                             "updated_at = '2026-11-21 08:00:00' "
                             "WHERE REPLACE(UPPER(TRIM(id_number)), ' ', '') = ?", (person,)).rowcount
    assert changed >= 1
    pipeline.run(D + DAY, config)
    assert _cases(config, D + DAY)[r02] == "RESOLVED"
    assert _wh(config, "SELECT COUNT(*) FROM core_staff WHERE id_norm = :p", p=person) == [(0,)]


def test_a_second_run_exits_at_once_naming_the_holder(warehouse_config: Path) -> None:
    config = warehouse_config
    from safetynet.locking import holder_text, run_lock

    with run_lock(load_config(config), holder_text("safetynet run --date 2026-11-20")):
        second = _cli(config, "run", "--date", "2026-11-21")
    assert second.returncode == 3
    assert "safetynet run --date 2026-11-20" in second.stderr and f"pid {os.getpid()}" in second.stderr
    assert not (config.parent / "outbox" / "2026-11-21").exists()  # it did nothing
    assert not (config.parent / "work" / "batches").exists()


def test_rows_deleted_at_the_source_leave_the_warehouse(warehouse_config: Path) -> None:
    """The replica keeps no tombstones: a deleted cremation record (an error withdrawn) must
    resolve its R01 case, and a deleted member row must leave its household."""
    config = warehouse_config
    pipeline.run(D, config)
    r01 = sorted(k for k in _cases(config, D) if k.startswith("R01:"))[0]
    records = [r for (r,) in _wh(config, "SELECT record_id FROM core_cremation WHERE id_norm = :p",
                                 p=r01.split(":", 1)[1])]
    with _source(config, "civil_affairs") as db:
        gone = sum(db.execute("DELETE FROM sa_cremation WHERE TRIM(record_id) = ?", (r,)).rowcount
                   for r in records)
        household, member = db.execute(
            "SELECT household_id, id_number FROM sa_member WHERE household_id IN (SELECT household_id "
            "FROM sa_member GROUP BY household_id HAVING COUNT(DISTINCT id_number) > 2) "
            "ORDER BY household_id, id_number LIMIT 1").fetchone()
        db.execute("DELETE FROM sa_member WHERE household_id = ? AND id_number = ?", (household, member))
        truth = sorted({(i or "").strip() for (i,) in db.execute(
            "SELECT id_number FROM sa_member WHERE household_id = ?", (household,))})
    assert gone >= 1
    pipeline.run(D + DAY, config)
    assert _cases(config, D + DAY)[r01] == "RESOLVED"
    held = sorted({i or "" for (i,) in _wh(config, "SELECT id_raw FROM core_member WHERE household_id = :h",
                                           h=household)})
    assert held == truth
    removed = dict(_wh(config, "SELECT item, rows_removed FROM meta_load_log WHERE rows_removed > 0"))
    assert removed == {"sa_cremation": gone, "sa_member": 1}


def test_a_change_stamped_with_the_watermark_itself_is_still_read(warehouse_config: Path) -> None:
    """The same-timestamp boundary: a row committed after the extraction with exactly the
    watermark's timestamp is read again (the read is inclusive) and applied."""
    config = warehouse_config
    pipeline.run(D, config)
    ((mark,),) = _wh(config, "SELECT value FROM meta_watermark WHERE table_name = 'sa_household'")
    stamp = json.loads(mark)
    with _source(config, "civil_affairs") as db:
        (household,) = db.execute("SELECT household_id FROM sa_household WHERE status = 'ACTIVE' AND "
                                  "updated_at < ? ORDER BY household_id LIMIT 1", (stamp,)).fetchone()
        db.execute("UPDATE sa_household SET status = 'SUSPENDED', updated_at = ? WHERE household_id = ?",
                   (stamp, household))
    pipeline.run(D + DAY, config)
    assert _wh(config, "SELECT status FROM core_household WHERE household_id = :h", h=household) == [
        ("SUSPENDED",)]
    assert _wh(config, "SELECT value FROM meta_watermark WHERE table_name = 'sa_household'") == [(mark,)]
