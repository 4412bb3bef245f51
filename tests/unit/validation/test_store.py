"""Quarantining inside the staged batch keeps read == loaded + quarantined + duplicates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from safetynet.validation.outcome import Finding
from safetynet.validation.store import quarantine_rows


def test_failing_rows_move_with_their_first_reason(tmp_path: Path) -> None:
    rows = pd.DataFrame({"account_no": ["a", "b", "c", "d"], "usage": [1.0, -5.0, 9e9, 2.0],
                         "holder_id_raw": ["x", None, None, None], "holder_id_norm": ["X", None, None, None],
                         "row_key": ["k"] * 4, "_row": [2, 3, 4, 5]})
    rows.to_parquet(tmp_path / "DL_1.csv.rows.parquet", index=False)
    old_q = pd.DataFrame({"row_number": [6], "column_name": ["户号"], "reason": ["missing key"],
                          "raw": ["{}"]})
    old_q.to_parquet(tmp_path / "DL_1.csv.quarantine.parquet", index=False)
    item: dict[str, Any] = {"item": "DL_1.csv", "read": 6, "loaded": 4, "quarantined": 1, "duplicates": 1}
    first = Finding("DL_1.csv", "expect_column_values_to_be_between", "usage", "row", False, "quarantined",
                    "", "", 2, rows=[3, 4])
    second = Finding("DL_1.csv", "expect_column_values_to_not_be_null", "x", "row", False, "quarantined",
                     "", "", 1, rows=[4])
    assert quarantine_rows(tmp_path, item, [first, second]) == 2
    assert item["read"] == item["loaded"] + item["quarantined"] + item["duplicates"] == 6
    left = pd.read_parquet(tmp_path / "DL_1.csv.rows.parquet")
    assert left["_row"].tolist() == [2, 5]
    q = pd.read_parquet(tmp_path / "DL_1.csv.quarantine.parquet")
    assert q["row_number"].tolist() == [6, 3, 4]
    assert q["reason"].tolist()[1:] == ["expectation expect_column_values_to_be_between [usage]"] * 2
    assert json.loads(q["raw"][1]) == {"account_no": "b", "usage": -5.0, "holder_id_raw": None}
