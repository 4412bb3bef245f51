"""Rows as pairs of keyed hashes: missing versus empty cells, duplicates as the texts compare them."""

from __future__ import annotations

import numpy as np
import pandas as pd

from safetynet.sources.rowhash import RowHashes, row_hashes, same_hashes


def test_row_hashes_tell_a_missing_cell_from_an_empty_one() -> None:
    """A row with a missing cell is not taken for the same row with an empty text there."""
    hashes = RowHashes()
    first = pd.DataFrame({"a": ["x", "y"], "b": pd.array([None, "z"], dtype="string")})
    assert not hashes.repeated(*row_hashes(first), np.zeros(2, dtype=bool)).any()
    again = pd.DataFrame({"a": ["x", "x", "y"], "b": pd.array(["", None, "z"], dtype="string")})
    assert hashes.repeated(*row_hashes(again), np.zeros(3, dtype=bool)).tolist() == [False, True, True]
    assert same_hashes(*row_hashes(again)).tolist() == [False, False, False]


def test_duplicates_within_a_block_by_hashes_equal_the_texts_compared() -> None:
    """Conformed with ``seen`` (hashes) or without (texts): the same duplicates, keys and clashes."""
    rows = pd.DataFrame({"a": ["1", "1", " 1", "2", "2", "1", None, None],
                         "b": pd.array(["x", "x", "x", None, "", "x", None, None], dtype="string")})
    a, b = row_hashes(rows)
    assert same_hashes(a, b).tolist() == rows.duplicated().tolist()
    assert same_hashes(a, b, keep=False).tolist() == rows.duplicated(keep=False).tolist()
