"""Rows deleted at a database source: the keys and groups the warehouse holds and the source lost."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
from sqlalchemy import create_engine

from safetynet.sources.declarations import DB_SPECS
from safetynet.sources.deletions import vanished_groups, vanished_keys

HOUSEHOLD = next(s for s in DB_SPECS["civil_affairs"] if s.name == "sa_household")
MEMBER = next(s for s in DB_SPECS["civil_affairs"] if s.name == "sa_member")


def _db(path: Path, tables: dict[str, tuple[list[str], list[tuple]]]) -> str:
    with sqlite3.connect(path) as db:
        for name, (columns, rows) in tables.items():
            db.execute(f"CREATE TABLE {name} ({', '.join(columns)})")
            db.executemany(f"INSERT INTO {name} VALUES ({', '.join('?' for _ in columns)})", rows)
    return f"sqlite:///{path}"


def _setup(tmp_path: Path) -> tuple[Any, Any]:
    source = _db(tmp_path / "source.db", {
        "sa_household": (["household_id"], [("H1",), (" H2 ",), ("",), (None,), (5,)]),
        "sa_member": (["household_id", "id_number"], [
            ("H1", "A"), ("H1", " B\t"), ("H2", None), (" H3", "C"), ("", "D"), (None, "E")]),
    })
    warehouse = _db(tmp_path / "warehouse.db", {
        "core_household": (["row_key"], [("H1",), ("H2",), ("H4",), ("H4",), (None,), ("H0",), ("5",)]),
        "core_member": (["household_id", "id_raw"], [
            ("H1", "A"), ("H1", "B"), ("H1", "Z"), ("H2", None), ("H2", ""), ("H3", "C"), ("H3", "X"),
            ("H5", "F"), (None, "D"), ("", "E"), ("H6", None)]),
    })
    return SimpleNamespace(warehouse_url=warehouse), create_engine(source)


def test_keys_the_source_no_longer_has_sorted_as_text(tmp_path: Path) -> None:
    cfg, engine = _setup(tmp_path)
    gone = vanished_keys(cfg, engine, HOUSEHOLD)
    assert gone.tolist() == ["H0", "H4"]  # trimmed source keys match; an integer key reads as text
    assert str(gone.dtype) == "string" and gone.name == "k"
    assert gone.index.equals(pd.RangeIndex(2))


def test_groups_that_lost_a_member(tmp_path: Path) -> None:
    cfg, engine = _setup(tmp_path)
    # H1 lost Z, H3 lost X, H5 and H6 (a member without an ID) are gone; H2's member without an ID
    # is still there (absent and empty IDs compare equal); a member without a household names no group.
    assert vanished_groups(cfg, engine, MEMBER) == {"H1", "H3", "H5", "H6"}


def test_empty_tables(tmp_path: Path) -> None:
    source = create_engine(_db(tmp_path / "s.db", {"sa_household": (["household_id"], []),
                                                   "sa_member": (["household_id", "id_number"], [])}))
    cfg: Any = SimpleNamespace(warehouse_url=_db(tmp_path / "w.db", {
        "core_household": (["row_key"], [("H1",)]), "core_member": (["household_id", "id_raw"], [])}))
    assert vanished_keys(cfg, source, HOUSEHOLD).tolist() == ["H1"]
    assert vanished_groups(cfg, source, MEMBER) == set()


def test_a_pair_is_never_taken_for_another_whatever_its_characters(tmp_path: Path) -> None:
    """("H1:", "A") and ("H1", ":A") joined with a separator would be one text; they are two pairs."""
    source = create_engine(_db(tmp_path / "s.db", {"sa_member": (["household_id", "id_number"], [
        ("H1", ":A"), ("H2:1", "2")])}))
    cfg: Any = SimpleNamespace(warehouse_url=_db(tmp_path / "w.db", {"core_member": (
        ["household_id", "id_raw"], [("H1:", "A"), ("H2", "1:2"), ("H1", ":A")])}))
    assert vanished_groups(cfg, source, MEMBER) == {"H1:", "H2"}
