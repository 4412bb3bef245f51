"""Hostile and malformed rows are quarantined with file, row and reason on both warehouses (issue 16)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import text

from safetynet import pipeline
from safetynet.config import load_config
from safetynet.warehouse.engine import get_engine

D = date(2026, 11, 20)


def test_a_nul_byte_quarantines_its_row_not_the_source(warehouse_config: Path) -> None:
    """On PostgreSQL one NUL failed the whole source (12 files) every run, naming no file."""
    config = warehouse_config
    path = config.parent / "drop" / "power" / "DL_202609.csv"
    lines = path.read_bytes().decode("gb18030").split("\n")
    fields = lines[5].split(",")
    fields[1] = fields[1][:1] + "\x00" + fields[1][1:]  # the holder's name of data row 5 (line 6)
    lines[5] = ",".join(fields)
    lines[7] = lines[7].replace(",", ",\x1b", 1)  # an escape character at the start of another field
    path.write_bytes("\n".join(lines).encode("gb18030"))
    result = pipeline.ingest("electricity", D, config)
    with get_engine(load_config(config).warehouse_url).connect() as conn:
        rows = conn.execute(text(
            "SELECT row_number, column_name, reason FROM meta_quarantine WHERE source = 'electricity' "
            "AND item = 'DL_202609.csv' ORDER BY row_number")).all()
        state = conn.execute(text("SELECT last_outcome FROM meta_source_state "
                                  "WHERE source = 'electricity'")).scalar()
    control = [(n, c) for n, c, r in rows if r.startswith("control character")]
    assert control == [(6, "户名"), (8, "户名")]
    assert state == "loaded" and result["quarantined"] >= 2


def test_a_zip_bomb_snapshot_is_refused_unread_and_the_last_good_one_stays(warehouse_config: Path) -> None:
    config = warehouse_config
    from tests.unit.sources.test_limits import _bomb

    pipeline.ingest("property", D, config)
    drop = config.parent / "drop" / "property"
    _bomb(drop / "BDC_QLR_20261127.xlsx", 64)
    (drop / "BDC_QLR_20261127.xlsx.ok").touch()
    result = pipeline.run(date(2026, 11, 27), config)
    assert "unpacks" in result["failed_sources"]["property"] and result["stale_sources"] == ["property"]
    with get_engine(load_config(config).warehouse_url).connect() as conn:
        versions = conn.execute(text("SELECT DISTINCT snapshot_date FROM core_property_right")).all()
    assert [str(v)[:10] for (v,) in versions] == ["2026-11-20"]


def test_the_2022_gb18030_characters_reach_the_extract_as_meant(warehouse_config: Path) -> None:
    """Each of the 24 two-byte codes GB18030-2022 moved, in an inspectors' GB18030 file, is
    published as the 2022 character (not the private-use one Python's codec gives)."""
    config = warehouse_config
    import csv

    from safetynet.transforms.gb18030 import MOVED_2022

    pipeline.run(D, config)
    folder = config.parent / "outbox"
    with (folder / D.isoformat() / f"mismatches_{D:%Y%m%d}.csv").open(encoding="utf-8-sig") as fh:
        key = next(csv.DictReader(fh))["case_key"]
    note = b"".join(bytes.fromhex(c) for c in sorted(MOVED_2022))
    (config.parent / "inbox" / "dispositions_wps.csv").write_bytes(
        "case_key,outcome,note,suppress_until\n".encode("gb18030")
        + f"{key},属实,".encode("gb18030") + note + b",\n")
    later = date(2026, 11, 21)
    pipeline.run(later, config)
    with (folder / later.isoformat() / f"mismatches_{later:%Y%m%d}.csv").open(encoding="utf-8-sig") as fh:
        row = next(r for r in csv.DictReader(fh) if r["case_key"] == key)
    assert row["disposition"] == "CONFIRMED"
    assert row["disposition_note"] == "".join(chr(MOVED_2022[c][1]) for c in sorted(MOVED_2022))


def test_a_value_too_long_for_its_column_quarantines_its_row(warehouse_config: Path) -> None:
    """A 13-character region code failed a PostgreSQL COPY (the whole source) and passed SQLite."""
    config = warehouse_config
    import sqlite3

    with sqlite3.connect(config.parent / "sources" / "civil_affairs.db") as db:
        (household,) = db.execute("SELECT household_id FROM sa_household ORDER BY household_id "
                                  "LIMIT 1 OFFSET 7").fetchone()
        db.execute("UPDATE sa_household SET region_code = region_code || '9' WHERE household_id = ?",
                   (household,))
    pipeline.ingest("civil_affairs", D, config)
    with get_engine(load_config(config).warehouse_url).connect() as conn:
        rows = conn.execute(text("SELECT row_number, column_name, reason FROM meta_quarantine "
                                 "WHERE item = 'sa_household'")).all()
        held = conn.execute(text("SELECT COUNT(*) FROM core_household WHERE household_id = :h"),
                            {"h": household}).scalar()
    assert [(c, r) for _, c, r in rows] == [("region_code", "value longer than 12 characters")]
    assert held == 0
