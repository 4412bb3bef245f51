"""The staged rows of an item on disk (``<item>.rows.parquet``), written and rewritten in batches.

Conform appends each block it finishes; validation and the cross-block key check
move named rows out to the quarantine. Neither ever holds the item whole: a
two-million-row snapshot would be gigabytes as a frame.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

HELPER_SUFFIXES = ("_norm", "_birth", "_problem")  # derived at conform time, not delivered
BATCH_ROWS = 200_000


class RowSink:
    """Append conformed chunks to one staged Parquet file (one row group per chunk)."""

    def __init__(self, path: Path) -> None:
        self.path, self.rows = path, 0
        self._writer: pq.ParquetWriter | None = None

    def write(self, rows: pd.DataFrame) -> None:
        """Append a chunk; every chunk is cast to the first chunk's schema."""
        table = pa.Table.from_pandas(rows, preserve_index=False)
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, table.schema)
        self._writer.write_table(table.cast(self._writer.schema))
        self.rows += len(rows)

    def close(self) -> int:
        """Finish the file (an empty one when nothing was written); return the rows written."""
        if self._writer is None:
            pd.DataFrame().to_parquet(self.path, index=False)
        else:
            self._writer.close()
        return self.rows


def take_rows(rows_path: Path, numbers: Iterable[int]) -> pd.DataFrame:
    """Rewrite the staged rows without those whose ``_row`` is in ``numbers``; return those rows.

    The new file replaces the old one only once it is complete.
    """
    named = pa.array(sorted(set(numbers)), type=pa.int64())
    source = pq.ParquetFile(rows_path)
    partial = rows_path.with_name(rows_path.name + ".part")
    moved: list[pa.RecordBatch] = []
    with pq.ParquetWriter(partial, source.schema_arrow) as writer:
        for batch in source.iter_batches(batch_size=BATCH_ROWS):
            hit = pc.is_in(batch.column("_row"), value_set=named)
            moved.append(batch.filter(hit))
            writer.write_batch(batch.filter(pc.invert(hit)))
    partial.replace(rows_path)
    return pa.Table.from_batches(moved, schema=source.schema_arrow).to_pandas()


def delivered_json(rows: pd.DataFrame) -> list[str]:
    """Each staged row's delivered columns (no helpers, keys or row numbers) as a JSON object."""
    delivered = [c for c in rows.columns
                 if not c.startswith("_") and c != "row_key" and not c.endswith(HELPER_SUFFIXES)]
    raw = rows[delivered].astype(object).where(rows[delivered].notna(), None)
    return [json.dumps(r, ensure_ascii=False, default=str) for r in raw.to_dict("records")]
