"""Reading one returned workbook (outputs.md, issue 17): the day's ``mismatches_*.xlsx`` filled in.

No database here. A case sheet is any worksheet whose header row (row 1, or one
of the first ``HEADER_ROWS``) holds ``疑点编号``, ``核查结论``, ``核查说明`` and
``屏蔽至``, found by their text wherever they stand; other columns and sheets
(the summary ``汇总``) are ignored. A row with an empty ``核查结论`` is no
decision; any other row becomes a ``Decision`` or a ``Rejection``
(:mod:`safetynet.dispositions_parse`) numbered by its row on its sheet, the
reason starting with the sheet's name. A case filled on several rows (it stands
on ``全部疑点`` and on its rule's sheet) counts once when the decisions are
identical; differing ones are all rejected, never chosen between, as is a usable
row of a case whose other row was rejected. A workbook that cannot be opened or
has no case sheet raises ``FileRejected``. Reasons hold sheet names, row
numbers, column names and fixed words, never a cell's value.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pandas as pd
from python_calamine import CalamineWorkbook, SheetTypeEnum

from safetynet.dispositions_kinds import CASE_DECISIONS, DecisionKind
from safetynet.dispositions_parse import (
    BAD_DATE,
    LONG_KEY,
    MAX_KEY,
    NUL,
    RAW_LIMIT,
    UNKNOWN_CASE,
    Decision,
    FileRejected,
    Rejection,
    unknown_outcome,
)
from safetynet.sources.limits import MB, RATIO_FROM
from safetynet.transforms import parse_dates

HEADERS = CASE_DECISIONS.sheet_headers
HEADER_ROWS = 10
MAX_SHEETS = 200  # case sheets: keeps sheet_no × SHEET_ROWS + row within a 32-bit integer
MAX_UNPACKED = 1024 * MB  # an inspector's workbook is a day's cases; more is refused unread
MAX_RATIO = 200  # ... as is a sizeable entry packed more than this (a zip bomb)
UNREADABLE = "not a readable XLSX workbook"
NO_SHEET = f"no sheet with the columns {', '.join(HEADERS)}"
MISSING_KEY = "missing case key"
CONFLICT = "conflicting decisions for this case in"


@dataclass
class _Found:
    """What the case sheets held so far."""

    decisions: list[tuple[Decision, str]] = field(default_factory=list)  # with its cells as text
    rejected: list[tuple[int, int, Rejection]] = field(default_factory=list)  # by sheet number, row
    broken: dict[str, list[str]] = field(default_factory=dict)  # case key -> sheets of rejected rows


def parse_xlsx(data: bytes, kind: DecisionKind = CASE_DECISIONS) -> tuple[list[Decision], list[Rejection]]:
    """Usable and rejected rows of one workbook; raises :class:`FileRejected` for the whole file.

    ``kind`` says whose workbook: its item sheets are those with ``kind.sheet_headers``."""
    _check_archive(data)
    found = _Found()
    sheets = 0
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        for meta in book.sheets_metadata:
            if meta.typ != SheetTypeEnum.WorkSheet:
                continue
            cells = book.get_sheet_by_name(meta.name).to_python(skip_empty_area=False)  # [0]: row 1
            header = _header(cells, kind.sheet_headers)
            if header is None:
                continue
            sheets += 1
            if sheets > MAX_SHEETS:
                raise FileRejected(f"more than {MAX_SHEETS} sheets with the columns "
                                   f"{', '.join(kind.sheet_headers)}")
            _read_sheet(meta.name, sheets, cells, *header, found, kind)
    except FileRejected:
        raise
    except Exception as exc:  # calamine's and zip's errors: their messages may quote the file
        raise FileRejected(f"{UNREADABLE} ({type(exc).__name__})") from None
    if not sheets:
        raise FileRejected(f"no sheet with the columns {', '.join(kind.sheet_headers)}")
    kept = _one_per_case(found, kind)
    return kept, [r for *_, r in sorted(found.rejected, key=lambda x: x[:2])]


def _check_archive(data: bytes) -> None:
    """Refuse a workbook whose zip directory promises too much, before unpacking any entry."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise FileRejected(f"{UNREADABLE} ({type(exc).__name__})") from None
    if sum(e.file_size for e in entries) > MAX_UNPACKED or any(
            e.file_size >= RATIO_FROM and e.file_size > MAX_RATIO * max(e.compress_size, 1)
            for e in entries):
        raise FileRejected(f"not read: it would unpack beyond {MAX_UNPACKED // MB:,} MB "
                           f"or {MAX_RATIO} times its size (a zip bomb?)")


def _header(cells: list[list[Any]], headers: tuple[str, ...]) -> tuple[int, list[int]] | None:
    """The header row's index and the four columns' positions, or None: not a case sheet."""
    for at, row in enumerate(cells[:HEADER_ROWS]):
        found = [_text(v) for v in row]
        if all(h in found for h in headers):
            return at, [found.index(h) for h in headers]
    return None


def _read_sheet(name: str, sheet_no: int, cells: list[list[Any]], at: int, where: list[int],
                into: _Found, kind: DecisionKind) -> None:
    """Read every row below the header whose ``核查结论`` is filled ``into`` decisions or rejections."""
    rows = []
    for index in range(at + 1, len(cells)):
        values = [cells[index][c] if c < len(cells[index]) else "" for c in where]
        if _text(values[1]):
            rows.append((index + 1, values))
    dates = parse_dates(pd.Series([_text(v[3]) for _, v in rows], dtype="object"))
    for (row, values), parsed in zip(rows, dates, strict=True):
        texts = [_text(v) for v in values]
        raw = ",".join(texts).replace("\x00", "\ufffd")[:RAW_LIMIT]
        reason, column = _problem(texts, values[3], parsed, kind)
        if reason:
            into.rejected.append((sheet_no, row, Rejection(row, f"{name} row {row}: {reason}", column, raw)))
            if texts[0]:
                into.broken.setdefault(texts[0], []).append(name)
            continue
        into.decisions.append((Decision(row, texts[0], kind.outcomes[texts[1].upper()], texts[2] or None,
                                 _day(values[3], parsed), name, sheet_no), raw))


def _problem(texts: list[str], until: Any, parsed: Any, kind: DecisionKind) -> tuple[str | None, str | None]:
    """Why a filled row cannot be used (and the column at fault), or ``(None, None)``."""
    key, decision, _, until_header = kind.sheet_headers
    if any("\x00" in t for t in texts):
        return NUL, None
    if not texts[0]:
        return MISSING_KEY, key
    if len(texts[0]) > MAX_KEY:
        return LONG_KEY, key
    if texts[1].upper() not in kind.outcomes:
        return unknown_outcome(kind), decision
    if texts[3] and not isinstance(until, date) and pd.isna(parsed):
        return BAD_DATE, until_header
    return None, None


def _day(until: Any, parsed: Any) -> date | None:
    """``屏蔽至`` as a date: a date cell's own, else the text's as parsed (checked before)."""
    if isinstance(until, datetime):
        return until.date()
    if isinstance(until, date):
        return until
    return None if pd.isna(parsed) else date.fromisoformat(str(parsed)[:10])


def unknown_case(x: Decision, kind: DecisionKind = CASE_DECISIONS) -> Rejection:
    """A workbook's decision naming a case never reported, as a rejected row naming its sheet."""
    raw = ",".join((x.case_key, x.outcome, x.note or "", str(x.suppress_until or "")))
    return Rejection(x.row, f"{x.sheet} row {x.row}: {UNKNOWN_CASE}", kind.sheet_headers[0], raw[:RAW_LIMIT])


def _one_per_case(found: _Found, kind: DecisionKind) -> list[Decision]:
    """One decision per case: identical repeats count once; differing ones, or a usable row beside
    one rejected for the same case, are all rejected (added to ``found.rejected``)."""
    by_case: dict[str, list[tuple[Decision, str]]] = {}
    for x, raw in found.decisions:
        by_case.setdefault(x.case_key, []).append((x, raw))
    kept: list[Decision] = []
    for key, group in by_case.items():
        if len({(x.outcome, x.note, x.suppress_until) for x, _ in group}) == 1 and key not in found.broken:
            kept.append(group[0][0])
            continue
        sheets = list(dict.fromkeys([*(str(x.sheet) for x, _ in group), *found.broken.get(key, [])]))
        where = f"sheet {sheets[0]}" if len(sheets) == 1 else \
            f"sheets {', '.join(sheets[:-1])} and {sheets[-1]}"
        found.rejected += [(x.sheet_no, x.row, Rejection(
            x.row, f"{x.sheet} row {x.row}: {CONFLICT} {where}", kind.sheet_headers[1], raw))
            for x, raw in group]
    return kept


def _text(value: Any) -> str:
    """A cell as trimmed text: whole numbers without ``.0``, dates in ISO form, empty as ``""``."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()
