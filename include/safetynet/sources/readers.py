"""Readers for the delivered formats, returning every value as delivered (text).

Each reader checks what the contract promises before any row is used: the
encoding, the exact header, a non-empty and complete file. A failure raises
:class:`DeliveryError` naming the file and the problem.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import Engine, inspect, text

from safetynet.sources.drops import DeliveryError
from safetynet.sources.specs import TableSpec


def check_header(found: list[str], spec: TableSpec, where: str) -> None:
    """Fail unless ``found`` is exactly the contract's header for ``spec``."""
    expected = list(spec.columns)
    if found == expected:
        return
    missing = [c for c in expected if c not in found]
    unexpected = [c for c in found if c not in expected]
    detail = []
    if missing:
        detail.append(f"missing columns {missing}")
    if unexpected:
        detail.append(f"unexpected columns {unexpected}")
    if not detail:
        detail.append(f"columns out of order: {found}")
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
    header = text_.splitlines()[0].lstrip("\ufeff").split(sep)
    check_header([h.strip() for h in header], spec, path.name)
    try:
        frame = _read_arrow(text_, sep)
    except pa.ArrowInvalid:  # ragged rows and other oddities: pandas' reader decides as before
        frame = pd.read_csv(io.StringIO(text_), sep=sep, dtype=str, keep_default_na=False,
                            na_values=[], skipinitialspace=False, quoting=3 if sep == "|" else 0)
    frame.columns = [c.strip().lstrip("\ufeff") for c in frame.columns]
    return frame


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
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        if exc.end >= len(data) and exc.reason.startswith(("unexpected end", "incomplete")):
            raise DeliveryError(f"{name}: the file is truncated (it ends inside a character)") from exc
        raise DeliveryError(
            f"{name}: not valid {encoding.upper()} at byte {exc.start}; "
            f"ask the sender to re-export it in {encoding.upper()}"
        ) from exc


def read_xlsx(path: Path, spec: TableSpec) -> pd.DataFrame:
    """Read the registry snapshot's sheet with calamine (values as delivered).

    A snapshot larger than one sheet (1,048,575 rows) continues on sheets named
    like the first with a number appended (``权利人信息2``, ``权利人信息3``); they are
    read in order, each with the contract's header.
    """
    if path.stat().st_size == 0:
        raise DeliveryError(f"{path.name}: the file is empty")
    sheet = spec.extra["sheet"]
    try:
        book = pd.ExcelFile(path, engine="calamine")
        names = [n for n in book.sheet_names if n == sheet or re.fullmatch(re.escape(sheet) + r"\d+", n)]
        if sheet not in names:
            raise DeliveryError(f"{path.name}: no sheet named {sheet!r} (found {book.sheet_names})")
        names.sort(key=lambda n: (len(n), n))
        frames = [book.parse(n, dtype=object, header=0) for n in names]
    except DeliveryError:
        raise
    except Exception as exc:  # zip/xml errors from a truncated or corrupt workbook
        raise DeliveryError(
            f"{path.name}: not a readable XLSX workbook (truncated or corrupt: {type(exc).__name__})"
        ) from exc
    for name, frame in zip(names, frames, strict=True):
        check_header([str(c).strip() for c in frame.columns], spec, f"{path.name} sheet {name}")
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def read_db_table(engine: Engine, spec: TableSpec, since: object = None,
                  chunk: int = 200_000) -> Iterator[pd.DataFrame]:
    """Stream a source table's contract columns in a stable order.

    With ``since``, only rows at or after the ``updated_at`` watermark (re-reading
    the boundary is harmless: loads upsert) or after the last loaded id.
    """
    cols = [c["name"] for c in inspect(engine).get_columns(spec.name)]
    missing = [c for c in spec.columns if c not in cols]
    if missing:
        raise DeliveryError(f"table {spec.name}: missing columns {missing}")
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
        while rows := cursor.fetchmany(chunk):
            yield pd.DataFrame(rows, columns=names, dtype=object)
