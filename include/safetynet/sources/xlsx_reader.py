"""Read the registry's XLSX snapshots with calamine, in blocks, every value as delivered (text)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from python_calamine import CalamineWorkbook

from safetynet.sources.drops import DeliveryError
from safetynet.sources.readers import check_header
from safetynet.sources.specs import TableSpec
from safetynet.transforms._common import scalar_text, to_text


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
        if any(len(row) != len(header) for row in block):  # never from calamine: as pandas takes it
            yield pd.DataFrame([[_cell(v) for v in row] for row in block], columns=header,
                               dtype=object).apply(to_text)
            continue
        columns = list(zip(*block, strict=True))
        del block
        yield pd.DataFrame({name: column_text(values) for name, values in zip(header, columns, strict=True)})
    if empty:
        yield pd.DataFrame({c: pd.Series(dtype="string") for c in header})


_INTEGRAL = 2.0 ** 53
"""Floats below this size that are whole numbers are exactly their ``int``: printed by Arrow."""


def column_text(values: Sequence[object]) -> pd.Series:
    """One column of calamine cells as text, each exactly as :func:`_cell` then ``to_text`` render it.

    The common cells are rendered by kind at once instead of one by one: texts as they
    are (``XLSX_MISSING`` ones missing), finite floats as Python prints them (whole
    numbers as integers, by Arrow), dates as their ISO date at midnight (Arrow); any other
    cell (a time, a truth value, a huge or infinite number) goes through ``_cell``
    and ``scalar_text`` itself.
    """
    kind = np.fromiter(map(_KINDS.get, map(type, values), itertools.repeat(0)), dtype=np.int8,
                       count=len(values))
    if (kind == _KINDS[str]).all():  # the usual column: no copy into Python objects
        return _as_string(_without_missing(pa.array(values, type=pa.large_string())))
    cells = np.empty(len(values), dtype=object)
    cells[:] = values
    out = np.empty(len(values), dtype=object)
    text = kind == _KINDS[str]
    out[text] = _without_missing(pa.array(cells[text], type=pa.large_string())).to_numpy(zero_copy_only=False)
    number = np.flatnonzero(kind == _KINDS[float])
    x = cells[number].astype(np.float64)
    finite = np.isfinite(x)
    integral = finite & (x == np.trunc(x))
    whole, part = integral & (np.abs(x) < _INTEGRAL), finite & ~integral
    out[number[whole]] = pc.cast(pa.array(x[whole].astype(np.int64)), pa.large_string()).to_numpy(
        zero_copy_only=False)
    out[number[part]] = list(map(float.__repr__, x[part].tolist()))  # str() of a float is its repr
    day = kind == _KINDS[date]
    iso = pc.cast(pa.array(cells[day], type=pa.date32()), pa.string())  # as datetime.isoformat
    out[day] = pc.binary_join_element_wise(iso, "T00:00:00", "").to_numpy(zero_copy_only=False)
    done = text | day
    done[number[whole | part]] = True
    out[~done] = [scalar_text(_cell(v)) for v in cells[~done]]
    return _as_string(pa.array(out, type=pa.large_string()))


def _without_missing(texts: pa.Array) -> pa.Array:
    """Texts with the cells pandas reads as missing (``XLSX_MISSING``) made null."""
    return pc.if_else(pc.is_in(texts, value_set=_MISSING), pa.scalar(None, pa.large_string()), texts)


def _as_string(texts: pa.Array) -> pd.Series:
    return pd.Series(pd.arrays.ArrowStringArray(texts)).astype("string")


_MISSING = pa.array(sorted(XLSX_MISSING), type=pa.large_string())
_KINDS = {str: 1, float: 2, date: 3}  # exact types: a datetime is not a date here


def _cell(value: object) -> object:
    """One cell as ``pandas.read_excel(engine="calamine", dtype=object)`` gives it."""
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, str):
        return None if value in XLSX_MISSING else value
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day)
    return value
