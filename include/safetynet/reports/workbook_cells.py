"""The case sheets' cells, prepared and measured once per workbook (``workbook_cases``).

Every case is written twice (on 全部疑点 and on its rule's sheet), and each sheet
fits its column widths and row heights to its own rows. So each column of the
people frame is converted to cell values once, and its text measured once,
vectorised: the display width of every line (CJK and wider characters counting
two) from the text's UTF-32 code points. A sheet then takes its rows' values by
position, its widths as the widest of its rows' lines and its row heights from
the lines each text wraps to at the sheet's width (computed once per width).
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
from xlsxwriter.worksheet import Worksheet

from safetynet.reports.workbook_rows import Column, has_values, plain, stream_rows

LINE_HEIGHT = 15.0  # points per line of 11-point text
WIDE = 0x2E80  # from here on (CJK and wider) a character takes two columns on screen and paper
NEWLINE = 10
CHUNK = 2048  # texts measured at once: bounds the arrays (bytes a character) of long texts


def missing(value: object) -> bool:
    """A cell left empty: None, NaN or ``pd.NA``."""
    return value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA


def line_widths(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The display width of every line of ``texts`` (split at ``\\n``), in order, and each
    text's first line's index among them (every text has at least one line)."""
    widths, firsts, lines = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)], 0
    for start in range(0, len(texts), CHUNK):
        part_widths, part_firsts = _line_widths(texts[start:start + CHUNK])
        widths.append(part_widths)
        firsts.append(part_firsts + lines)
        lines += len(part_widths)
    return np.concatenate(widths), np.concatenate(firsts)


def _line_widths(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    codes = np.frombuffer("\n".join(texts).encode("utf-32-le"), dtype=np.uint32)
    breaks = np.flatnonzero(codes == NEWLINE)
    wide = np.concatenate(([0], np.cumsum(codes >= WIDE)))  # wide characters before each position
    ends = np.append(breaks, len(codes))
    starts = np.concatenate(([0], breaks + 1))
    widths = ends - starts + wide[ends] - wide[starts]  # a line's range never holds its newline
    lines = np.fromiter((t.count("\n") + 1 for t in texts), np.int64, len(texts))
    return widths, np.concatenate(([0], np.cumsum(lines)[:-1]))


class PreparedCells:
    """The people frame's columns as cell values, with what each sheet's fitting needs."""

    def __init__(self, people: pd.DataFrame, kinds: dict[str, str]) -> None:
        """``kinds``: each written field's kind (text, wrap, date, number), as in ``Col``."""
        people = people.reset_index(drop=True)  # rows are addressed by position
        self.size = len(people)
        self.values: dict[str, list[object]] = {}  # the fields with a value in some row
        self.widest: dict[str, np.ndarray] = {}  # per row, its widest line (-1: no value)
        self.wrapped: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._lines: dict[tuple[str, int], np.ndarray] = {}
        self._plain: dict[str, list[bool]] = {}
        for field, kind in kinds.items():
            if field not in people:
                continue
            raw = list(people[field])
            values = _cells(raw, kind)
            if any(v is not None for v in values):
                self.values[field] = values
            if kind != "date":
                self.widest[field] = self._widest(people[field])
            if kind == "wrap":
                rows = [i for i, v in enumerate(raw) if isinstance(v, str)]
                widths, firsts = line_widths([str(raw[i]) for i in rows])
                self.wrapped[field] = (np.array(rows, dtype=np.int64), widths, firsts)

    def _widest(self, column: pd.Series) -> np.ndarray:
        text = column.dropna().astype("string")  # as a person reads any value: its text
        widest = np.full(self.size, -1, dtype=np.int64)
        widths, firsts = line_widths(text.tolist())
        if len(firsts):
            positions = np.asarray(text.index, dtype=np.int64)
            widest[positions] = np.maximum.reduceat(widths, firsts)
        return widest

    def longest(self, field: str, rows: np.ndarray) -> int:
        """The widest line among ``rows``' values of ``field`` (0: none)."""
        widest = self.widest[field][rows] if field in self.widest else np.zeros(0, np.int64)
        return int(widest.max()) if len(widest) and widest.max() >= 0 else 0

    def plain(self, field: str) -> list[bool]:
        """Per row, whether its ``field`` text is written as it is (``workbook_rows.plain``)."""
        if field not in self._plain:
            self._plain[field] = [isinstance(v, str) and plain(v) for v in self.values[field]]
        return self._plain[field]

    def lines(self, field: str, width: int) -> np.ndarray:
        """Per row, the lines its ``field`` text wraps to in a column ``width`` wide (0: no text)."""
        key = (field, width)
        if key not in self._lines:
            out = np.zeros(self.size, dtype=np.int64)
            if field in self.wrapped:
                rows, widths, firsts = self.wrapped[field]
                per_line = np.maximum(1, np.ceil(widths / max(width - 2, 1))).astype(np.int64)
                if len(rows):
                    out[rows] = np.add.reduceat(per_line, firsts)
            self._lines[key] = out
        return self._lines[key]


def _cells(raw: list[object], kind: str) -> list[object]:
    """A column's cell values as written (None: left empty)."""
    if kind == "date":
        days: dict[str, datetime] = {}
        out: list[object] = []
        for v in raw:
            day = None if missing(v) else str(v)[:10]
            if day is not None and day not in days:
                days[day] = datetime.fromisoformat(day)
            out.append(None if day is None else days[day])
        return out
    if kind == "number":
        return [None if missing(v) else int(v) for v in raw]  # type: ignore[call-overload]
    return [None if missing(v) else str(v) for v in raw]


def write_rows(ws: Worksheet, fmt: dict, columns: list[tuple[str, str]], widths: list[int],
               cells: PreparedCells, at: np.ndarray) -> None:
    """Rows 1… of a case sheet: ``cells``' rows at positions ``at``, in the ``(field, kind)``
    ``columns`` ``widths`` wide; each row's height is set from the lines its wrapped texts take.

    All rows but the last are streamed (``workbook_rows``); the last, or every row of a
    sheet with a row holding no value at all, goes through xlsxwriter's cell API.
    """
    height = np.ones(len(at), dtype=np.int64)
    for (field, kind), width in zip(columns, widths, strict=True):
        if kind == "wrap":
            height = np.maximum(height, cells.lines(field, width)[at])
    heights = [LINE_HEIGHT * h + (3 if h > 1 else 0) for h in height.tolist()]
    styles = {"date": fmt["date"], "number": fmt["top"], "wrap": fmt["wrap"]}
    plan: list[Column] = [
        (c, kind, cells.values[field], None if kind in ("date", "number") else cells.plain(field),
         styles.get(kind, fmt["top"])) for c, (field, kind) in enumerate(columns) if field in cells.values]
    positions = at.tolist()
    start = 0
    if len(positions) > 1 and has_values(plan, at):
        stream_rows(ws, plan, positions, heights)
        start = len(positions) - 1
    methods = {"date": ws.write_datetime, "number": ws.write_number}
    for r in range(start + 1, len(positions) + 1):
        p = positions[r - 1]
        ws.set_row(r, heights[r - 1])
        for c, kind, values, _plain, style in plan:
            value = values[p]
            if value is not None:
                methods.get(kind, ws.write_string)(r, c, value, style)  # type: ignore[operator]
