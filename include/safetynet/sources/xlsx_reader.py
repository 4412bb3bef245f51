"""Read the registry's XLSX snapshots with calamine, in blocks, every value as delivered (text)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

import pandas as pd
from python_calamine import CalamineWorkbook

from safetynet.sources.drops import DeliveryError
from safetynet.sources.readers import check_header
from safetynet.sources.specs import TableSpec
from safetynet.transforms._common import to_text


def read_xlsx(path: Path, spec: TableSpec) -> pd.DataFrame:
    """The whole registry snapshot as one frame (see :func:`iter_xlsx`; for small files)."""
    frames = list(iter_xlsx(path, spec))
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def iter_xlsx(path: Path, spec: TableSpec) -> Iterator[pd.DataFrame]:
    """Read the registry snapshot's sheet with calamine in blocks, every value as delivered, as text.

    A snapshot larger than one sheet (1,048,575 rows) continues on sheets named
    like the first with a number appended (``权利人信息2``, ``权利人信息3``); they are
    read in order, each with the contract's header, and each sheet is released
    before the next is parsed. Rows are taken in blocks of ``XLSX_BLOCK`` and each
    block's cells become Arrow-backed text at once (as ``pandas.read_excel`` would
    give them, then rendered like :func:`safetynet.transforms.to_text`), so a
    two-million-row snapshot is never whole in memory: only the sheet being read
    (about 600 bytes a row inside calamine) and one block.
    """
    if path.stat().st_size == 0:
        raise DeliveryError(f"{path.name}: the file is empty")
    sheet = spec.extra["sheet"]
    with _readable(path.name):
        book = CalamineWorkbook.from_path(str(path))
        names = [n for n in book.sheet_names if n == sheet or re.fullmatch(re.escape(sheet) + r"\d+", n)]
    if sheet not in names:
        raise DeliveryError(f"{path.name}: no sheet named {sheet!r} (found {book.sheet_names})")
    names.sort(key=lambda n: (len(n), n))
    for name in names:
        yield from _sheet_blocks(book, name, spec, path.name)


@contextmanager
def _readable(file: str) -> Iterator[None]:
    """Turn zip/XML errors of a truncated or corrupt workbook into a :class:`DeliveryError`."""
    try:
        yield
    except DeliveryError:
        raise
    except Exception as exc:
        raise DeliveryError(
            f"{file}: not a readable XLSX workbook (truncated or corrupt: {type(exc).__name__})"
        ) from exc


XLSX_BLOCK = 50_000  # rows per block: its Python cells cost ~1 KB a row until they become Arrow text
XLSX_MISSING = frozenset({  # cells pandas.read_excel reads as missing (its default na_values)
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null"})


def _sheet_blocks(book: CalamineWorkbook, name: str, spec: TableSpec, file: str) -> Iterator[pd.DataFrame]:
    with _readable(file):
        rows = book.get_sheet_by_name(name).iter_rows()
        header = [str(c).strip() for c in next(rows, [])]
    check_header(header, spec, f"{file} sheet {name}")
    empty = True
    while True:
        with _readable(file):
            block = list(itertools.islice(rows, XLSX_BLOCK))
        if not block:
            break
        empty = False
        cells = pd.DataFrame([[_cell(v) for v in row] for row in block], columns=header, dtype=object)
        del block
        yield cells.apply(to_text)
    if empty:
        yield pd.DataFrame({c: pd.Series(dtype="string") for c in header})


def _cell(value: object) -> object:
    """One cell as ``pandas.read_excel(engine="calamine", dtype=object)`` gives it."""
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, str):
        return None if value in XLSX_MISSING else value
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day)
    return value
