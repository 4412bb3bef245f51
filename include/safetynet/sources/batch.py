"""The staged batch's shape: what extract writes to ``batch.json``, validate adjusts and load reads.

A batch stays plain JSON on disk (and its reference in XCom), so these are
``TypedDict``\\s rather than classes: the type checker holds every stage to the
same keys, while the file a person opens while repairing a day is unchanged.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NotRequired, TypedDict

BATCH_FILE = "batch.json"


class StagedItem(TypedDict):
    """One delivered item (a file, or a table of a database source) and its accounting.

    ``read == loaded + quarantined + duplicates`` holds at every stage: validation
    moves rows from ``loaded`` to ``quarantined``, never out of the count.
    """

    item: str  # the file name, or the table name
    target: str  # the warehouse table its rows load into
    read: int
    loaded: int
    quarantined: int
    duplicates: int
    # a delivered file
    file_name: NotRequired[str]
    size: NotRequired[int]
    sha256: NotRequired[str]
    tag: NotRequired[str]  # YYYYMM of a monthly file, YYYYMMDD of a snapshot
    # a table of a database source
    mode: NotRequired[str]  # "incremental" (from a watermark) or "full"
    replace: NotRequired[str]  # what the rows supersede: "table", "keys" or "groups"
    watermark_column: NotRequired[str | None]
    since: NotRequired[Any]
    watermark: NotRequired[Any]
    future_rows: NotRequired[int]
    future_max: NotRequired[str | None]
    digest: NotRequired[str]  # a table read whole: its content digest
    removed: NotRequired[int]
    removed_from: NotRequired[int]
    group_column: NotRequired[str]
    groups: NotRequired[int]


class StagedBatch(TypedDict):
    """A source's batch for one report date: its folder and its items."""

    source: str
    report_date: str  # YYYY-MM-DD, also the batch id
    path: str
    items: list[StagedItem]


class BatchRef(TypedDict):
    """What the extract task hands on (XCom): where the batch is and how big it is."""

    source: str
    report_date: str
    path: str
    items: int
    read: int


def read_batch(path: str | Path) -> StagedBatch:
    """The batch staged in folder ``path``."""
    batch: StagedBatch = json.loads((Path(path) / BATCH_FILE).read_text("utf-8"))
    return batch


def write_batch(batch: StagedBatch) -> None:
    """Write (or rewrite, after its items' counts changed) the batch's ``batch.json``."""
    text = json.dumps(batch, ensure_ascii=False, indent=2)
    (Path(batch["path"]) / BATCH_FILE).write_text(text, "utf-8")


def reference(batch: StagedBatch) -> BatchRef:
    """The batch's XCom reference."""
    return {"source": batch["source"], "report_date": batch["report_date"], "path": batch["path"],
            "items": len(batch["items"]), "read": sum(i["read"] for i in batch["items"])}


def stem(item: str) -> str:
    """The file-name stem of an item's staged files (the extracts write them, the loads read them)."""
    return item.replace("/", "_")
