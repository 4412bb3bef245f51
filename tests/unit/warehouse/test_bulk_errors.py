"""A COPY the server refuses is named by its file (or table) and delivered row, never its values."""

from __future__ import annotations

import pyarrow as pa
import pytest
from sqlalchemy import Column, MetaData, String, Table

from safetynet.warehouse.bulk import BulkLoadError
from safetynet.warehouse.engine import get_engine
from safetynet.warehouse.load import _insert_naming_the_row


def test_a_refused_copy_names_the_file_and_row_not_the_values(pg_database: str) -> None:
    table = Table("t_narrow", MetaData(), Column("code", String(4)), Column("name", String(40)))
    rows = pa.table({"_row": [2, 3, 17], "code": ["A1", "B2", "TOOLONG"],
                     "name": ["王秀英", "李四", "张三丰"]})
    engine = get_engine(pg_database)
    with engine.connect() as conn:
        table.create(conn)
        with pytest.raises(BulkLoadError) as caught:
            _insert_naming_the_row(conn, table, rows, "DL_202610.csv")
    message = str(caught.value)
    assert message.startswith("DL_202610.csv, row 17: COPY into t_narrow failed")
    assert "TOOLONG" not in message and "张三丰" not in message
