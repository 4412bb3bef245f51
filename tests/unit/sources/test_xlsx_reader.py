"""XLSX cells rendered column by column, exactly as one by one (``_cell`` then ``to_text``)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from safetynet.sources.xlsx_reader import XLSX_MISSING, _cell, column_text
from safetynet.transforms._common import to_text

FAST = settings(max_examples=300, deadline=None, database=None)
CELLS = st.one_of(
    st.sampled_from(sorted(XLSX_MISSING)), st.text(max_size=5),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1e20, 2.0**53, 2.0**53 - 1, 0.5, 1e-7, 85.37]),
    st.dates(), st.datetimes(), st.times(), st.integers(-10**20, 10**20),
)


def _one_by_one(values: list[object]) -> list[object]:
    """The reference: each cell as calamine gives it, through ``_cell``, one column through ``to_text``."""
    return list(to_text(pd.Series([_cell(v) for v in values], dtype=object)).astype(object))


@FAST
@given(st.lists(CELLS, min_size=1, max_size=15))
def test_column_text_equals_the_cell_by_cell_rendering(values: list[object]) -> None:
    got = column_text(values)
    assert str(got.dtype) == "string"
    assert list(got.astype(object)) == _one_by_one(values)


def test_edge_cells() -> None:
    cells = [1e20, -0.0, 0.5, 1e-7, float("nan"), float("inf"), "NA", "", " x ", dt.date(1, 1, 1),
             dt.datetime(2020, 1, 2, 3, 4, 5, 6), dt.time(1, 2), 1.0000000000000002]
    assert list(column_text(cells).astype(object)) == [
        "100000000000000000000", "0", "0.5", "1e-07", pd.NA, "inf", pd.NA, pd.NA, " x ",
        "0001-01-01T00:00:00", "2020-01-02T03:04:05.000006", "01:02:00", "1.0000000000000002"]


def test_a_truth_value_and_a_number_are_not_taken_for_each_other() -> None:
    # rendering the distinct values of the whole column took True and 1 for one value
    assert list(column_text([True, 1.0, False, 0.0]).astype(object)) == ["True", "1", "False", "0"]
