"""Readers for the delivered text files (GB18030 CSV, UTF-8 pipe text), every value as delivered.

Each reader checks what the contract promises before any row is used: the
encoding, the exact header, a non-empty and complete file whose records are its
lines. A failure raises :class:`DeliveryError` naming the file and the problem.
Registry workbooks are read by ``xlsx_reader``, database tables by ``db_readers``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from safetynet.sources.drops import DeliveryError
from safetynet.sources.specs import TableSpec
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
    line_one = text_.partition("\n")[0]  # the first line, without splitting the whole file
    header = [h.strip() for h in (line_one.splitlines() or [""])[0].lstrip("\ufeff").split(sep)]
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
    utf8 = text_.encode("utf-8")  # once, for the parser and the line count
    try:
        frame = _read_arrow(utf8, line_one.rstrip("\r").split(sep), sep)
    except pa.ArrowInvalid:  # ragged rows and other oddities: pandas' reader decides as before
        try:
            frame = pd.read_csv(io.StringIO(text_), sep=sep, dtype=str, keep_default_na=False,
                                na_values=[], skipinitialspace=False, quoting=3 if sep == "|" else 0)
        except (pd.errors.ParserError, csv.Error) as exc:  # the parser names the line, not the file
            raise DeliveryError(f"{path.name}: cannot be parsed: {_first_line(str(exc))}") from None
    frame.columns = [c.strip().lstrip("\ufeff") for c in frame.columns]
    _check_records(text_, utf8, len(frame), sep, path.name)
    return frame


def _data_lines(utf8: bytes) -> int:
    """Non-empty lines after the header, counted on the UTF-8 bytes (no per-line Python)."""
    b = np.frombuffer(utf8, dtype=np.uint8)
    ends = np.flatnonzero(b == 10)
    if len(b) and b[-1] != 10:
        ends = np.append(ends, len(b))
    starts = np.concatenate(([0], ends[:-1] + 1))
    length = ends - starts
    blank = (length == 0) | ((length == 1) & (b[np.minimum(starts, len(b) - 1)] == 13))
    return int((~blank).sum()) - 1  # the header line


def _check_records(text_: str, utf8: bytes, records: int, sep: str, name: str) -> None:
    """Refuse a file whose records are not its lines: a quote left open merges rows silently."""
    lines = _data_lines(utf8)
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


def _read_arrow(utf8: bytes, header: list[str], sep: str) -> pd.DataFrame:
    """Arrow's multi-threaded CSV parser; every value stays text, empty stays ``""``.

    Same result as ``pandas.read_csv(dtype=str, keep_default_na=False)`` on a
    well-formed file, several times faster; raises ``ArrowInvalid`` on anything
    irregular so the caller can fall back to pandas.
    """
    data = pa.py_buffer(utf8)
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
