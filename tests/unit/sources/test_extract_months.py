"""No utility row leaves the accounting: a wrong or missing reading month is quarantined."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from safetynet.sources.conform import Conformed
from safetynet.sources.drops import Delivery
from safetynet.sources.extract import _check_month


def test_rows_of_another_month_or_none_are_quarantined_with_their_reason() -> None:
    rows = pd.DataFrame({"_row": [2, 3, 4, 5], "account_no": ["a", "b", "c", "d"],
                         "month": pd.array(["2026-10", None, "2026-09", "2026-10"], dtype="string")})
    empty_q = pd.DataFrame({"row_number": pd.Series(dtype="int64"), "column_name": [], "reason": [],
                            "raw": []})
    c = Conformed(rows, empty_q, read=4, duplicates=0)
    _check_month(c, Delivery(Path("DL_202610.csv"), "202610", 1, "0" * 64), "electricity")
    assert c.rows["account_no"].tolist() == ["a", "d"]
    assert c.quarantine[["row_number", "reason"]].values.tolist() == [
        [3, "reading month missing"], [4, "reading month differs from the file's month 2026-10"]]
    assert len(c.rows) + len(c.quarantine) == c.read  # read = loaded + quarantined
