"""What GX is given: no ID numbers, names or addresses; derived presence, salted hashes, datetimes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from safetynet.validation.projection import as_datetime, new_salt, project

SUITE = {"name": "t", "expectations": [
    {"type": "expect_table_columns_to_match_set", "meta": {"level": "batch", "check": "columns"},
     "kwargs": {"column_set": ["_row", "id_hash", "id_present", "id_problem", "month", "usage"]}},
    {"type": "expect_column_max_to_be_between", "meta": {"level": "batch", "check": "freshness"},
     "kwargs": {"column": "month", "min_value": {"$PARAMETER": "fresh_since"}}},
]}


def _staged(tmp_path: Path) -> Path:
    frame = pd.DataFrame({
        "id_raw": pd.Series(["361103195601010011", None, "361103195601010011 "], dtype="string"),
        "id_norm": pd.Series(["361103195601010011", None, "361103195601010011"], dtype="string"),
        "id_birth": pd.Series(["1956-01-01", None, "1956-01-01"], dtype="string"),
        "id_problem": pd.Series([None, "empty", None], dtype="string"),
        "holder_name": ["张三", "李四", "王五"], "address": ["a", "b", "c"], "row_key": ["k1", "k2", "k3"],
        "month": pd.Series(["2026-10", "2026-09", None], dtype="string"),
        "usage": pd.Series([1.5, 2.0, 3.0], dtype="Float64"), "_row": [2, 3, 4],
    })
    path = tmp_path / "x.rows.parquet"
    frame.to_parquet(path, index=False)
    return path


def test_projection_holds_no_personal_data(tmp_path: Path) -> None:
    frame = project(_staged(tmp_path), SUITE, new_salt())
    assert sorted(frame.columns) == ["_row", "id_hash", "id_present", "id_problem", "month", "usage"]
    assert frame["id_present"].tolist() == [True, False, True]
    text = frame.astype(str).to_csv()
    assert "361103195601010011" not in text and "张三" not in text and "1956" not in text


def test_hashes_match_within_a_run_and_differ_between_runs(tmp_path: Path) -> None:
    path = _staged(tmp_path)
    one, two = project(path, SUITE, new_salt()), project(path, SUITE, new_salt())
    assert one["id_hash"][0] == one["id_hash"][2] and pd.isna(one["id_hash"][1])
    assert one["id_hash"][0] != two["id_hash"][0]


def test_freshness_columns_become_datetimes() -> None:
    got = as_datetime(pd.Series(["2026-10", "2026-11-20", "2026-11-20 13:05:00", None], dtype="string"))
    assert got.dt.strftime("%Y-%m-%d").tolist()[:3] == ["2026-10-01", "2026-11-20", "2026-11-20"]
    assert pd.isna(got[3])


def test_repeated_and_missing_values_keep_their_rows() -> None:
    """Each distinct value is parsed once, then put back on every row it came from."""
    values = pd.Series(["2026-09", None, "2026-09", "bad", "2026-10-03"], index=[7, 3, 9, 1, 5],
                       dtype="string")
    got = as_datetime(values)
    assert got.index.tolist() == [7, 3, 9, 1, 5]
    assert got.dt.strftime("%Y-%m-%d").fillna("-").tolist() == ["2026-09-01", "-", "2026-09-01", "-",
                                                                "2026-10-03"]
    assert as_datetime(pd.Series([None, None], dtype="string")).isna().all()
