"""Reading one ``dispositions_*.csv`` (outputs.md, issue 15): decode, check the header, split rows.

No database here. The text is UTF-8 (with or without BOM), else GB18030 — what
Excel and WPS save on Chinese Windows. The header must be exactly
``case_key,outcome,note,suppress_until``. Rows are read with the ``csv`` module,
so a quoted note may hold commas and line breaks; a record is numbered by the
physical line it starts on (the header is row 1). A file that cannot be used at
all raises :class:`FileRejected`; a row that cannot be used becomes a
:class:`Rejection`. Reasons never quote the file's content (it may hold personal
data), only column names the contract knows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pandas as pd

from safetynet.dispositions_kinds import CASE_DECISIONS, WARNING_DECISIONS, DecisionKind
from safetynet.transforms import parse_dates
from safetynet.transforms.gb18030 import decode_gb18030

HEADER = CASE_DECISIONS.csv_header
OUTCOMES = CASE_DECISIONS.outcomes
KNOWN_COLUMNS = {*HEADER, *CASE_DECISIONS.sheet_headers, *WARNING_DECISIONS.key_columns,
                 *WARNING_DECISIONS.sheet_headers}
"""Column names a reason may repeat; anything else found in a header is shown as ``?``."""
MAX_KEY = 200
RAW_LIMIT = 4000

NOT_TEXT = "not UTF-8 or GB18030 text"
NO_HEADER = f"empty file: no header (expected {','.join(HEADER)})"
UNKNOWN_OUTCOME = f"unknown outcome (expected {CASE_DECISIONS.outcome_hint})"
BAD_DATE = "bad date in suppress_until"
EMPTY_KEY = "empty case_key"
LONG_KEY = f"case_key longer than {MAX_KEY} characters"
NUL = "contains a NUL character"
UNKNOWN_CASE = "unknown case"


class FileRejected(Exception):
    """The whole file is unusable; ``reason`` names what, without quoting its content."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


SHEET_ROWS = 10_000_000
"""A workbook's decision is kept as row ``sheet_no × SHEET_ROWS + row``: unique within the file."""


@dataclass(frozen=True)
class Decision:
    """One usable row: the case, its outcome code, the note and the suppression date.

    From a workbook, ``sheet`` names the sheet (``row`` is its row number there)
    and ``sheet_no`` numbers it among the workbook's case sheets (from 1); a CSV's
    rows have neither.
    """

    row: int
    case_key: str
    outcome: str
    note: str | None
    suppress_until: date | None
    sheet: str | None = None
    sheet_no: int = 0

    @property
    def stored_row(self) -> int:
        """The row number kept with the decision: the CSV line, or the sheet's number and row."""
        return self.sheet_no * SHEET_ROWS + self.row


@dataclass(frozen=True)
class Rejection:
    """One unusable row: its line number, why, the column at fault (if one) and its raw text."""

    row: int
    reason: str
    column: str | None
    raw: str


def decode(data: bytes) -> str:
    """The file's text: strict UTF-8 (a BOM dropped), else GB18030, else :class:`FileRejected`."""
    for decoder in (lambda b: b.decode("utf-8-sig"), decode_gb18030):
        try:
            return decoder(data)
        except UnicodeDecodeError:
            continue
    raise FileRejected(NOT_TEXT)


def unknown_outcome(kind: DecisionKind) -> str:
    """The rejection reason of an outcome ``kind`` does not know, naming those it does."""
    return f"unknown outcome (expected {kind.outcome_hint})"


def parse(data: bytes, kind: DecisionKind = CASE_DECISIONS) -> tuple[list[Decision], list[Rejection]]:
    """Usable and rejected rows of one file; raises :class:`FileRejected` for the whole file."""
    records = _records(decode(data))
    first = next((r for r in records if r[1] or r[3]), None)  # blank lines before the header too
    if first is None:
        raise FileRejected(f"empty file: no header (expected {','.join(kind.csv_header)})")
    _check_header(first[1], first[3], kind)
    kept: list[tuple[int, list[str], str]] = []
    rejected: list[Rejection] = []
    for row, fields, raw, error in records:
        if error is not None:
            rejected.append(Rejection(row, f"unreadable CSV row ({error})", None, raw))
        elif any(f.strip() for f in fields):  # entirely blank lines (also ",,,") are skipped
            reason, column = _check_row(row, fields, raw, kind)
            if reason:
                rejected.append(Rejection(row, reason, column, raw))
            else:
                kept.append((row, fields, raw))
    dates = parse_dates(pd.Series([f[3].strip() for _, f, _ in kept], dtype="object"))
    decisions = []
    for (row, fields, raw), parsed in zip(kept, dates, strict=True):
        if fields[3].strip() and pd.isna(parsed):
            rejected.append(Rejection(row, BAD_DATE, "suppress_until", raw))
            continue
        decisions.append(Decision(row, fields[0].strip(), kind.outcomes[fields[1].strip().upper()],
                                  fields[2].strip() or None,
                                  None if pd.isna(parsed) else date.fromisoformat(str(parsed)[:10])))
    return decisions, sorted(rejected, key=lambda r: r.row)


def _records(text: str) -> Iterator[tuple[int, list[str], str, str | None]]:
    """``(first line, fields, raw text, csv error or None)`` per record, blank lines as ``[]``."""
    taken: list[str] = []

    def lines() -> Iterator[str]:
        for line in io.StringIO(text, newline=""):
            taken.append(line)
            yield line

    reader = csv.reader(lines())
    start = 1
    while True:
        try:
            fields, error = next(reader), None
        except StopIteration:
            return
        except csv.Error as exc:  # its messages name the problem, never the data
            fields, error = [], str(exc)
        raw = "".join(taken).rstrip("\r\n").replace("\x00", "\ufffd")[:RAW_LIMIT]
        taken.clear()
        yield start, fields, raw, error
        start = reader.line_num + 1


def _check_header(fields: list[str], error: str | None, kind: DecisionKind) -> None:
    found = [f.strip().lstrip("\ufeff").strip() for f in fields]
    expected = kind.csv_header
    if error is None and len(found) == len(expected) and found[0] in kind.key_columns \
            and tuple(found[1:]) == expected[1:]:
        return
    if error is not None or not found:
        raise FileRejected(f"unreadable header; expected {','.join(expected)}")
    shown = [f if f in KNOWN_COLUMNS else "(empty)" if not f else "?" for f in found]
    missing = [h for h in expected if h not in found and not (h in kind.key_columns and
                                                               set(found) & set(kind.key_columns))]
    reason = f"header must be {','.join(expected)}; found {len(found)} columns: {', '.join(shown)}"
    raise FileRejected(reason + (f"; missing {', '.join(missing)}" if missing else ""))


def _check_row(row: int, fields: list[str], raw: str, kind: DecisionKind) -> tuple[str | None, str | None]:
    """Why a record cannot be used (and the column at fault), or ``(None, None)``."""
    if len(fields) != len(HEADER):
        reason = f"{len(fields)} fields, expected {len(HEADER)}"
        lines = raw.count("\n") + (raw.count("\r") if "\n" not in raw else 0)
        if lines:
            reason += f" (the record runs over lines {row}-{row + lines}: is a quote left open?)"
        elif len(fields) > len(HEADER):
            reason += " (quote a note that contains a comma)"
        return reason, None
    if any("\x00" in f for f in fields):
        return NUL, None
    key = fields[0].strip()
    if not key:
        return EMPTY_KEY, "case_key"
    if len(key) > MAX_KEY:
        return LONG_KEY, "case_key"
    if fields[1].strip().upper() not in kind.outcomes:
        return unknown_outcome(kind), "outcome"
    return None, None
