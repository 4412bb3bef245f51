"""A bad delivery fails only its own source, clearly, and never touches the warehouse."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text

from safetynet.config import load_config
from safetynet.pipeline import run
from safetynet.warehouse.engine import get_engine

D = date(2026, 11, 20)
LATER = date(2026, 11, 21)  # a bad registry snapshot must be the newest to be read
DROPS = {"power": "electricity", "water": "water", "property": "property"}
CASES = [  # (extras folder, file, what the message must say)
    ("power", "DL_202509.csv", "header does not match the contract: missing columns ['本月电量']"),
    ("power", "DL_202508.csv", "the file is empty"),
    ("power", "DL_202507.csv", "truncated"),
    ("power", "DL_202506.csv", "UTF-8 but the contract says GB18030"),
    ("water", "SS_202509.txt", "missing columns ['HOLDER_ID']"),
    ("water", "SS_202508.txt", "the file is empty"),
    ("water", "SS_202507.txt", "truncated"),
    ("water", "SS_202506.txt", "not valid UTF-8"),
    ("property", "BDC_QLR_20261016.xlsx", "missing columns ['证件号码']"),
    ("property", "BDC_QLR_20261009.xlsx", "the file is empty"),
    ("property", "BDC_QLR_20261002.xlsx", "not a readable XLSX"),
    ("property", "BDC_QLR_20260925.xlsx", "not a readable XLSX"),
]


def _rows(config: Path, source: str) -> int:
    table = "core_property_right" if source == "property" else "core_utility_reading"
    where = "" if source == "property" else f" WHERE source = '{source}'"
    with get_engine(load_config(config).warehouse_url).connect() as conn:
        return int(conn.execute(text(f"SELECT COUNT(*) FROM {table}{where}")).scalar() or 0)


@pytest.mark.parametrize(("folder", "name", "problem"), CASES, ids=[c[1] for c in CASES])
def test_bad_file_fails_its_source_only(deployment: Callable[..., Path], tmp_path: Path,
                                        folder: str, name: str, problem: str) -> None:
    config = deployment(tmp_path, households=200)
    assert run(D, config)["failed_sources"] == {}
    source = DROPS[folder]
    before = _rows(config, source)
    drop = config.parent / "drop" / folder
    target = "BDC_QLR_20261121.xlsx" if folder == "property" else name
    shutil.copy(config.parent / "extras" / "bad" / folder / name, drop / target)
    (drop / f"{target}.ok").touch()
    result = run(LATER, config)
    assert set(result["failed_sources"]) == {source}
    message = result["failed_sources"][source]
    assert target in message and problem in message, message
    assert _rows(config, source) == before
    assert result["stale_sources"] == [source]
    with get_engine(load_config(config).warehouse_url).connect() as conn:
        refused = conn.execute(text("SELECT reason FROM meta_refused WHERE item = :f"),
                               {"f": target}).scalar()
        registered = conn.execute(text("SELECT COUNT(*) FROM meta_file WHERE file_name = :f"),
                                  {"f": target}).scalar()
    assert refused and problem in refused and registered == 0  # refused, never registered as loaded
