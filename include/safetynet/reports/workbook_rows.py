"""Case-sheet rows streamed as the XML xlsxwriter itself writes for them (``constant_memory``).

Through the cell API xlsxwriter spends several microseconds on every cell (argument
checks, a cell tuple, then attribute lists and escaping regexes when the row is
flushed): most of a large workbook's time. In ``constant_memory`` mode a flushed row
is plain text appended to the worksheet's row file, so the rows between a sheet's
header and its last row are appended here, each cell as exactly the text xlsxwriter
writes for it: ``<c r s t="inlineStr"><is><t>…</t></is></c>`` for a string,
``<c r s><v>…</v></c>`` for a number or a date. Strings that need any escaping (XML
or control characters, ``_xHHHH_``, surrounding whitespace, over-long) go through
xlsxwriter's own escaping. The row elements (``set_row`` and xlsxwriter's row tag
writer), the formats' index order and the sheet's last row (through the API, so the
worksheet is left as xlsxwriter leaves it) stay xlsxwriter's. Tied to xlsxwriter's
row writer (pinned in requirements.lock): ``tests/unit/reports/test_workbook_rows.py``
checks byte for byte that it writes what the API writes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from xlsxwriter.format import Format
from xlsxwriter.utility import _preserve_whitespace, _utf16_len, _utf16_truncate, xl_col_to_name
from xlsxwriter.worksheet import Worksheet

UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f&<>\ufffe\uffff]|_x")
"""What xlsxwriter's escaping changes in a string (or might: any ``_x``)."""
PLAIN_MAX = 16_383  # longer strings may be truncated by xlsxwriter (32,767 UTF-16 units)


def plain(value: str) -> bool:
    """Whether xlsxwriter writes ``value`` as it is, without escaping or a whitespace attribute."""
    return (len(value) <= PLAIN_MAX and not UNSAFE.search(value)
            and not (value[:1].isspace() or value[-1:].isspace()))


def escaped(ws: Worksheet, value: str) -> str:
    """A string cell's text after ``<c r s``, as xlsxwriter writes it (``_write_string``, ``_write_cell``)."""
    limit = ws.xls_strmax
    if len(value) > limit // 2 and _utf16_len(value) > limit:  # as ``_write_string`` truncates
        value = _utf16_truncate(value, limit)
    text = ws._escape_control_characters(value)
    if text.startswith("<r>") and text.endswith("</r>"):
        return f' t="inlineStr"><is>{text}</is></c>'
    space = ' xml:space="preserve"' if _preserve_whitespace(text) else ""
    return f' t="inlineStr"><is><t{space}>{ws._escape_data(text)}</t></is></c>'


Column = tuple[int, str, Sequence[object], Sequence[bool] | None, Format]
"""A column's index, its kind (text, wrap, date, number), values, which are plain, format."""


def stream_rows(ws: Worksheet, columns: list[Column], at: Sequence[int], heights: Sequence[float]) -> None:
    """Sheet rows ``1 … len(at) - 1`` from the values at positions ``at[:-1]``: every one but the last.

    Call with the header row (row 0) written and nothing after it; every row must hold a value.
    """
    fast = len(at) - 1
    ws._write_single_row(1)  # the header row, as the first cell of row 1 would flush it
    used = []  # the columns with a value in these rows, by where they are first used
    for c, kind, values, plains, style in columns:
        row = next((i for i, p in enumerate(at[:fast]) if values[p] is not None), None)
        if row is not None:
            used.append((row, c, kind, values, plains, style))
    cells = []
    for _row, c, kind, values, plains, style in sorted(used, key=lambda u: (u[0], u[1])):
        cells.append((c, kind, xl_col_to_name(c), style._get_xf_index(), values, plains))  # numbered
    cells.sort(key=lambda cell: cell[0])  # in the order cells first use them, then written by column
    days: dict[object, str] = {}
    fh = ws.fh
    for r in range(1, fast + 1):
        p, n = at[r - 1], r + 1
        ws.set_row(r, heights[r - 1])
        ws._write_row(r, None, ws.row_info[r])
        parts = []
        for _c, kind, letter, xf, values, plains in cells:
            value = values[p]
            if value is None:
                continue
            if kind == "date":
                if value not in days:
                    days[value] = f"{ws._convert_date_time(value):.16G}"
                parts.append(f'<c r="{letter}{n}" s="{xf}"><v>{days[value]}</v></c>')
            elif kind == "number":
                parts.append(f'<c r="{letter}{n}" s="{xf}"><v>{value:.16G}</v></c>')
            elif plains is not None and plains[p]:
                parts.append(f'<c r="{letter}{n}" s="{xf}" t="inlineStr"><is><t>{value}</t></is></c>')
            else:
                parts.append(f'<c r="{letter}{n}" s="{xf}"' + escaped(ws, str(value)))
        parts.append("</row>")
        fh.write("".join(parts))
    ws.previous_row = fast + 1  # the last row's cells go through the API: no row left to flush


def has_values(columns: list[Column], at: np.ndarray) -> bool:
    """Whether every row at ``at`` holds a value in some column (a row without any is not written)."""
    filled = np.zeros(len(at), dtype=bool)
    for _c, _kind, values, _plain, _style in columns:
        filled |= np.fromiter((values[p] is not None for p in at.tolist()), bool, len(at))
        if filled.all():
            return True
    return bool(filled.all())
