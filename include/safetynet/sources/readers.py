"""Readers for the delivered formats, returning every value as delivered (text).

Each reader checks what the contract promises before any row is used: the
encoding, the exact header, a non-empty and complete file. A failure raises
:class:`DeliveryError` naming the file and the problem.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from python_calamine import CalamineWorkbook
from sqlalchemy import Engine, inspect, text

from safetynet.sources.drops import DeliveryError
from safetynet.sources.specs import TableSpec
from safetynet.transforms._common import to_text
from safetynet.transforms.gb18030 import decode_gb18030


def check_header(found: list[str], spec: TableSpec, where: str) -> None:
    """Fail unless ``found`` is exactly the contract's header for ``spec``.

    The message names contract columns only: what is unexpected is counted and
    placed, never quoted, because a file without its header line has a data row
    (a name, an address, an ID number) where the header should be.
    """
    expected = list(spec.columns)
    if found == expected:
        return
    missing = [c for c in expected if c not in found]
    unexpected = [i + 1 for i, c in enumerate(found) if c not in expected]
    detail = []
    if missing:
        detail.append(f"missing columns {missing}")
    if unexpected:
        detail.append(f"{len(unexpected)} unexpected column{'s' if len(unexpected) > 1 else ''} "
                      f"(position {', '.join(map(str, unexpected[:10]))}; not shown: it may be data)")
    if not detail:
        detail.append(f"columns out of order: {found}")  # contract names only
    if len(missing) == len(expected):
        detail.append("is the header line missing?")
    raise DeliveryError(f"{where}: header does not match the contract: {'; '.join(detail)}")


def read_text_file(path: Path, spec: TableSpec) -> pd.DataFrame:
    """Read a delimited text delivery (GB18030 CSV or UTF-8 pipe file) as text."""
    data = path.read_bytes()
    encoding, sep = spec.extra["encoding"], spec.extra["sep"]
    if not data.strip():
        raise DeliveryError(f"{path.name}: the file is empty")
    text_ = _decode(data, encoding, path.name)
    if not text_.endswith(("\n", "\r")):
        raise DeliveryError(f"{path.name}: the file is truncated (its last line is incomplete)")
    header = [h.strip() for h in text_.splitlines()[0].lstrip("\ufeff").split(sep)]
    try:
        check_header(header, spec, path.name)
    except DeliveryError as exc:
        if set(header) & set(spec.columns) or all(c.isascii() for c in spec.columns):
            raise
        # A Chinese header with not one contract column in it: decoding gave other characters
        # (a Big5 or other non-GB export that happens to be valid GB18030 bytes).
        raise DeliveryError(f"{exc}. None of the contract's columns is there: is the file in "
                            f"another encoding than {encoding.upper()}? Ask the sender to re-export "
                            f"it in {encoding.upper()}") from None
    try:
        frame = _read_arrow(text_, sep)
    except pa.ArrowInvalid:  # ragged rows and other oddities: pandas' reader decides as before
        try:
            frame = pd.read_csv(io.StringIO(text_), sep=sep, dtype=str, keep_default_na=False,
                                na_values=[], skipinitialspace=False, quoting=3 if sep == "|" else 0)
        except (pd.errors.ParserError, csv.Error) as exc:  # the parser names the line, not the file
            raise DeliveryError(f"{path.name}: cannot be parsed: {_first_line(str(exc))}") from None
    frame.columns = [c.strip().lstrip("\ufeff") for c in frame.columns]
    _check_records(text_, len(frame), sep, path.name)
    return frame


def _data_lines(text_: str) -> int:
    """Non-empty lines after the header, counted on the bytes (no per-line Python)."""
    b = np.frombuffer(text_.encode("utf-8"), dtype=np.uint8)
    ends = np.flatnonzero(b == 10)
    if len(b) and b[-1] != 10:
        ends = np.append(ends, len(b))
    starts = np.concatenate(([0], ends[:-1] + 1))
    length = ends - starts
    blank = (length == 0) | ((length == 1) & (b[np.minimum(starts, len(b) - 1)] == 13))
    return int((~blank).sum()) - 1  # the header line


def _check_records(text_: str, records: int, sep: str, name: str) -> None:
    """Refuse a file whose records are not its lines: a quote left open merges rows silently."""
    lines = _data_lines(text_)
    if records == lines:
        return
    where = ""
    if sep != "|":  # find the first record that spans lines (only on this failure path)
        reader = csv.reader(io.StringIO(text_))
        previous = 0
        for _ in reader:
            if reader.line_num - previous > 1 and previous > 0:
                where = f"; the record starting on line {previous + 1} spans lines (an unclosed quote?)"
                break
            previous = reader.line_num
    raise DeliveryError(f"{name}: {lines} data lines but {records} records{where}; "
                        "nothing of the source was loaded")


def _first_line(message: str) -> str:
    return message.strip().splitlines()[-1][:200] if message.strip() else "unknown parser error"


def _read_arrow(text_: str, sep: str) -> pd.DataFrame:
    """Arrow's multi-threaded CSV parser; every value stays text, empty stays ``""``.

    Same result as ``pandas.read_csv(dtype=str, keep_default_na=False)`` on a
    well-formed file, several times faster; raises ``ArrowInvalid`` on anything
    irregular so the caller can fall back to pandas.
    """
    data = pa.py_buffer(text_.encode("utf-8"))
    header = text_.split("\n", 1)[0].rstrip("\r").split(sep)
    table = pacsv.read_csv(
        pa.BufferReader(data),
        read_options=pacsv.ReadOptions(column_names=header, skip_rows=1, block_size=1 << 24),
        parse_options=pacsv.ParseOptions(delimiter=sep, quote_char=False if sep == "|" else '"',
                                         newlines_in_values=sep != "|"),
        convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(header, pa.string()),
                                             strings_can_be_null=False, quoted_strings_can_be_null=False))
    return table.to_pandas()


def _decode(data: bytes, encoding: str, name: str) -> str:
    """Decode strictly; a GB18030 delivery that is really UTF-8 is refused too."""
    if encoding == "gb18030" and not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            raise DeliveryError(
                f"{name}: the file is UTF-8 but the contract says GB18030; "
                "ask the sender to re-export it in GB18030"
            )
    try:
        return decode_gb18030(data) if encoding == "gb18030" else data.decode(encoding)
    except UnicodeDecodeError as exc:
        if exc.end >= len(data) and exc.reason.startswith(("unexpected end", "incomplete")):
            raise DeliveryError(f"{name}: the file is truncated (it ends inside a character)") from exc
        raise DeliveryError(
            f"{name}: not valid {encoding.upper()} at byte {exc.start}; "
            f"ask the sender to re-export it in {encoding.upper()}"
        ) from exc


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


def check_table_columns(found: list[str], spec: TableSpec) -> None:
    """Fail unless a source table has exactly the contract's columns (in any order).

    An added column is refused like a missing one (issue #9): it is how a renamed
    column shows up next to the missing old name, and a department that starts
    delivering a new field (or moves data into it) needs a contract change, not a
    silently ignored column. Names are compared case-insensitively, as SQL does.
    Deliberately not configurable: accepting a new column means declaring it in
    ``specs.py`` (or confirming with the department that it is to be ignored).
    """
    have = {c.lower() for c in found}
    want = {c.lower() for c in spec.columns}
    missing = [c for c in spec.columns if c.lower() not in have]
    unexpected = [c for c in found if c.lower() not in want]
    if not missing and not unexpected:
        return
    detail = [f"missing columns {missing}"] if missing else []
    detail += [f"unexpected columns {unexpected}"] if unexpected else []
    raise DeliveryError(f"table {spec.name}: columns do not match the contract: {'; '.join(detail)}; "
                        "nothing of the source was loaded")


def read_db_table(engine: Engine, spec: TableSpec, since: object = None,
                  chunk: int = 200_000) -> Iterator[pd.DataFrame]:
    """Stream a source table's contract columns in a stable order.

    With ``since``, only rows at or after the ``updated_at`` watermark (re-reading
    the boundary is harmless: loads upsert) or after the last loaded id.
    """
    check_table_columns([c["name"] for c in inspect(engine).get_columns(spec.name)], spec)
    sql = f"SELECT {', '.join(spec.columns)} FROM {spec.name}"
    params = {}
    if since is not None and spec.watermark:
        op = ">=" if spec.watermark == "updated_at" else ">"
        sql += f" WHERE {spec.watermark} {op} :since"
        params["since"] = since
    if spec.order_by:
        sql += f" ORDER BY {spec.order_by}"
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True).execute(text(sql), params)
        names = list(spec.columns)
        cursor = result.cursor  # plain DB-API tuples: building SQLAlchemy Rows costs 5x the fetch
        empty = True
        while rows := cursor.fetchmany(chunk):
            empty = False
            yield pd.DataFrame(rows, columns=names, dtype=object)
        if empty:  # an empty table is still a delivery: staged with its columns, judged for volume
            yield pd.DataFrame({c: pd.Series(dtype=object) for c in names})


def read_db_groups(engine: Engine, spec: TableSpec, groups: list[str],
                   chunk: int = 5_000) -> Iterator[pd.DataFrame]:
    """Every row of the given groups (``spec.replace_group`` values, compared trimmed).

    Read in slices of ``chunk`` group keys, each in ``order_by`` order; ``groups``
    sorted gives a stable order overall. No groups yields one empty frame, so the
    item is still staged (and its groups emptied at load).
    """
    assert spec.replace_group is not None
    check_table_columns([c["name"] for c in inspect(engine).get_columns(spec.name)], spec)
    names = list(spec.columns)
    if not groups:
        yield pd.DataFrame({c: pd.Series(dtype=object) for c in names})
        return
    order = f" ORDER BY {spec.order_by}" if spec.order_by else ""
    with engine.connect() as conn:
        for start in range(0, len(groups), chunk):
            part = groups[start:start + chunk]
            marks = ", ".join(f":g{i}" for i in range(len(part)))
            sql = (f"SELECT {', '.join(names)} FROM {spec.name} "
                   f"WHERE TRIM({spec.replace_group}) IN ({marks}){order}")
            rows = conn.execute(text(sql), {f"g{i}": g for i, g in enumerate(part)}).all()
            yield pd.DataFrame([tuple(r) for r in rows], columns=names, dtype=object)
