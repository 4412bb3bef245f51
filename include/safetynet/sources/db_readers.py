"""Read a database source's tables: contract columns checked, streamed in a stable order."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
from sqlalchemy import Engine, inspect, text

from safetynet.sources.drops import DeliveryError
from safetynet.sources.specs import TableSpec


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
