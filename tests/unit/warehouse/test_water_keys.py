"""``int_water_key`` kept up to date by each water load: the new keys of a later month, else a rebuild."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from safetynet.warehouse.engine import get_engine, migrate
from safetynet.warehouse.water_keys import rebuild_water_keys, update_water_keys

A, B, C = "110101194901010011", "110101195002020022", "110101196003030033"


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'w.db'}" if request.param == "sqlite" else request.getfixturevalue(
        "pg_database")


def _replace_month(conn: Connection, month: str, readings: list[tuple[str | None, str | None]]) -> None:
    """A water load of ``month``: its readings (holder ID, address key) replace the month's."""
    conn.execute(text("DELETE FROM core_utility_reading WHERE source = 'water' AND month = :m"), {"m": month})
    for i, (holder, address) in enumerate(readings):
        conn.execute(text(
            "INSERT INTO core_utility_reading (source, account_no, month, holder_id_norm, holder_id_birth, "
            "address_norm, usage) VALUES ('water', :a, :m, :h, :b, :addr, 1.0)"),
            {"a": f"W{i}", "m": month, "h": holder, "addr": address,
             "b": f"{holder[6:10]}-{holder[10:12]}-{holder[12:14]}" if holder else None})


def _keys(conn: Connection) -> set[tuple]:
    return {(k, key, str(b) if b else None, m) for k, key, b, m in
            conn.execute(text("SELECT kind, key, birth, first_month FROM int_water_key"))}


def _rebuilt(conn: Connection) -> set[tuple]:
    rebuild_water_keys(conn)
    return _keys(conn)


def test_each_kind_of_load_gives_what_a_rebuild_gives(url: str) -> None:
    engine = get_engine(url)
    migrate(engine)
    loads: list[tuple[str, list[tuple[str | None, str | None]]]] = [
        ("2026-01", [(A, "甲村1组"), (B, None)]),
        ("2026-02", [(A, "甲村1组"), (C, "乙村2组")]),  # a later month: C and 乙村2组 are new
        ("2026-02", [(A, "甲村1组")]),  # redelivered: C was first read there and goes
        ("2025-12", [(C, "丙村3组")]),  # back-filled: C's first month is earlier than any
        ("2026-03", [(B, "甲村1组"), (C, None)]),  # later again: nothing new
    ]
    with engine.begin() as conn:
        for month, readings in loads:
            _replace_month(conn, month, readings)
            update_water_keys(conn, [month])
            after = _keys(conn)
            assert after == _rebuilt(conn), month
    assert ("id", C, "1960-03-03", "2025-12") in after and ("address", "丙村3组", None, "2025-12") in after


def test_a_later_month_only_adds_its_new_keys(url: str) -> None:
    """The monthly delivery does not rebuild: a key the readings no longer hold would stay."""
    engine = get_engine(url)
    migrate(engine)
    with engine.begin() as conn:
        _replace_month(conn, "2026-01", [(A, "甲村1组")])
        update_water_keys(conn, ["2026-01"])  # an empty table: filled whole
        conn.execute(text("INSERT INTO int_water_key (kind, key, first_month) "
                          "VALUES ('address', '旧', '2025-01')"))
        _replace_month(conn, "2026-02", [(A, "甲村1组"), (B, None)])
        update_water_keys(conn, ["2026-02"])
        assert _keys(conn) == {("id", A, "1949-01-01", "2026-01"), ("address", "甲村1组", None, "2026-01"),
                               ("address", "旧", None, "2025-01"), ("id", B, "1950-02-02", "2026-02")}
        update_water_keys(conn, ["2026-01"])  # a month not after every first month: rebuilt
        assert ("address", "旧", None, "2025-01") not in _keys(conn)
