"""The case sheets' streamed rows are byte for byte what xlsxwriter's cell API writes.

``workbook_rows`` appends rows to xlsxwriter's ``constant_memory`` row file itself;
these tests write the same sheets both ways (streamed, and every row through the
API) with values that need every kind of escaping, and compare the files. The
measuring (``workbook_cells``) is compared with the per-cell definitions.
"""

from __future__ import annotations

import random
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest
import xlsxwriter

from safetynet.reports import workbook_cells
from safetynet.reports.workbook import formats
from safetynet.reports.workbook_cases import (
    ALL_COLUMNS,
    RULE_COLUMNS,
    _lines,
    _width,
    prepare_cells,
    write_case_sheet,
)

TRICKY = ["", " ", "plain", "张三", "A&B <c> \"q\" 'a'", " leading", "trailing ", "\ttab", "line\n",
          "two\nlines 第二行", "ctl\x01\x1f", "_x0041_ literal", "<r>rich</r>", "\ufffe\uffff", "emoji 😀",
          "a" * 20_000, "长" * 17_000, "x" * 40_000, "\u3000全角空格", "mixed\u00a0nbsp", "_x", "a_xb"]


def _text(rng: random.Random) -> str | None:
    pick = rng.random()
    if pick < 0.15:
        return None
    if pick < 0.5:
        return rng.choice(TRICKY)
    return "\n".join("".join(rng.choice("ab 张三李四&<_x0") for _ in range(rng.randint(0, 60)))
                     for _ in range(rng.randint(1, 4)))


def _people(rows: int, seed: int = 7) -> pd.DataFrame:
    rng = random.Random(seed)
    frame = pd.DataFrame({c.field: [_text(rng) for _ in range(rows)]
                          for c in RULE_COLUMNS if c.kind in ("text", "wrap")})
    frame["priority"] = range(1, rows + 1)
    frame["first_seen"] = [None] * (rows - 1) + [date(2026, 11, 20)]  # a format first used last
    frame["rule_code"] = [rng.choice(["R01", "R02"]) for _ in range(rows)]
    frame["decision"] = frame["note"] = frame["suppress_until"] = None
    frame.loc[3, "first_seen"] = "2026-10-01 08:00:00"
    frame.loc[5, "priority"] = None  # a number column with a gap
    return frame


def _workbook(path: Path, people: pd.DataFrame) -> bytes:
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False,
                                         "strings_to_formulas": False, "strings_to_urls": False})
    wb.set_properties({"created": datetime(2026, 11, 20)})
    fmt = formats(wb)
    cells = prepare_cells(people, ALL_COLUMNS, RULE_COLUMNS)
    write_case_sheet(wb, fmt, "all", people, ALL_COLUMNS, cells=cells)
    for code in ("R01", "R02"):
        write_case_sheet(wb, fmt, code, people[people["rule_code"] == code], RULE_COLUMNS, cells=cells)
    write_case_sheet(wb, fmt, "one", people.iloc[:1], RULE_COLUMNS, cells=cells)
    write_case_sheet(wb, fmt, "none", people.iloc[:0], RULE_COLUMNS, cells=cells)
    write_case_sheet(wb, fmt, "alone", people.iloc[2:6].reset_index(drop=True), ALL_COLUMNS)
    wb.close()
    return path.read_bytes()


@pytest.mark.parametrize("rows", [2, 3, 40, 400])
def test_streamed_rows_are_what_the_cell_api_writes(rows: int, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    people = _people(max(rows, 6)).iloc[:rows]
    streamed = _workbook(tmp_path / "streamed.xlsx", people)
    monkeypatch.setattr(workbook_cells, "has_values", lambda *_: False)  # every row through the API
    assert streamed == _workbook(tmp_path / "api.xlsx", people)


def test_widths_and_line_counts_are_the_per_cell_definitions() -> None:
    people = _people(300, seed=3)
    cells = prepare_cells(people, RULE_COLUMNS)
    subset = people[people["rule_code"] == "R01"]
    at = subset.index.to_numpy()
    for col in RULE_COLUMNS:
        if col.kind == "date":
            continue
        texts = subset[col.field].dropna().astype("string")
        lines = [line for t in texts for line in str(t).split("\n")]
        assert cells.longest(col.field, at) == max((_width(s) for s in lines), default=0), col.field
        if col.kind == "wrap":
            for width in (6, 16, 44):
                expected = [_lines(v, width) if isinstance(v, str) else 0 for v in people[col.field]]
                assert cells.lines(col.field, width).tolist() == expected, (col.field, width)
