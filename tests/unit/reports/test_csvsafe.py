"""No published CSV holds a text cell a spreadsheet would run as a formula (outputs.md)."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from safetynet.reports.csvsafe import spreadsheet_safe, write_safe_csv


def test_text_cells_starting_a_formula_get_a_leading_quote_and_numbers_stay_numbers(tmp_path: Path) -> None:
    frame = pd.DataFrame({
        "name": ['=HYPERLINK("http://x","点我")', "+86 123", "-张三", "@SUM(A1)", "\tTAB", "\rCR",
                 "张三", None],
        "note": ["ok", "a=b", "", " =lead space", "1-2", "'quoted", "'=already", "x"],
        "count": [-5, 3, 0, -1, 2, 1, 0, 7],
        "share": [-0.5, 1.5, 0.0, 2.0, -3.25, 0.1, 0.2, 0.3],
    })
    safe = spreadsheet_safe(frame)
    assert safe["name"].tolist()[:7] == ["'=HYPERLINK(\"http://x\",\"点我\")", "'+86 123", "'-张三",
                                         "'@SUM(A1)", "'\tTAB", "'\rCR", "张三"]
    assert pd.isna(safe["name"].iat[7])  # a missing value stays missing
    assert safe["note"].tolist() == frame["note"].tolist()  # only a leading trigger counts
    assert safe["count"].tolist() == frame["count"].tolist() and safe["share"].dtype.kind == "f"
    path = tmp_path / "x.csv"
    assert write_safe_csv(frame, path) == len(frame)
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert all(not r["name"].startswith(("=", "+", "-", "@", "\t", "\r")) for r in rows)
    assert [r["count"] for r in rows][:2] == ["-5", "3"]  # numbers are written as numbers
    assert frame["name"].iat[0].startswith("=")  # the caller's frame is not changed
