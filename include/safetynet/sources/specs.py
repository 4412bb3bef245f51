"""The types a source is declared with (``sources.declarations``): tables and sources.

Column kinds drive normalisation (see ``conform``): ``key`` (required text),
``text``, ``code`` (text with whitespace removed), ``id`` (ID number), ``name``,
``date``, ``number``, ``month``, ``address``. The header of every file must equal
the declared columns exactly (sources.md); database tables must contain them.

Database tables with a ``watermark`` are read incrementally (``updated_at`` from
the last committed watermark, ids after the last loaded id for the append-only
tables) and upserted by ``key``, or, with ``replace_group``, replaced group by
group (``sa_member`` has no key of its own: a household's whole membership is
re-read when one of its rows changed). Tables without a watermark are read whole
each time and replace the warehouse's table: the personnel register (monthly)
has no key a corrected ID or employer could be upserted by (docs/over-time.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class TableSpec:
    """One delivered table or file layout and its warehouse target."""

    name: str
    target: str
    columns: dict[str, tuple[str, str]]  # delivered column -> (warehouse column, kind)
    key: tuple[str, ...] = ()  # warehouse columns that identify a row
    order_by: str | None = None
    derived: dict[str, tuple[str, str]] = field(default_factory=dict)  # column -> (from, how)
    watermark: str | None = None  # delivered column read incrementally (None: full extract)
    replace_group: str | None = None  # delivered column whose groups are replaced whole
    group_id_column: str | None = None  # delivered ID column: a changed row's ID names its old group too
    extra: dict[str, str] = field(default_factory=dict)
    personal: tuple[str, ...] = ()  # warehouse columns personal beyond their kind (medical figures)


@dataclass(frozen=True)
class Source:
    """One partner's delivery: everything the pipeline needs to know about it, as data.

    ``kind`` is ``database`` (``tables`` are read through a SQLAlchemy URL) or
    ``files`` (one layout in ``tables``; ``file_name`` with ``{tag}`` names each
    delivery: a month ``YYYYMM`` for ``cadence="monthly"``, a date ``YYYYMMDD`` for
    dated snapshot versions, ``cadence="snapshot"``). Everything else — the DAG, its
    schedule and sensor, configuration keys, validation's freshness, the manifest,
    labels, privacy lists — is derived from these fields (``sources.declarations``).
    """

    name: str
    label_zh: str
    label_en: str
    kind: str  # database | files
    tables: tuple[TableSpec, ...]
    schedule: str  # cron of the ingest DAG, Asia/Shanghai
    stale_after_days: int  # validation: the newest data may be this old on the report date
    freshness: tuple[str, str]  # warehouse table and column the newest data is read from
    cadence: str | None = None  # files: monthly | snapshot
    file_name: str | None = None  # files: e.g. "DL_{tag}.csv"
    sensor_timeout_hours: float = 72.0  # files: how long the delivery sensor waits
    optional: bool = False  # a deployment may run without it (its rules are not evaluated)
    warnings_only: bool = False  # read only by the hardship warnings: never in the inspectors' reports
    rebuild: tuple[str, ...] = ()  # derived tables brought up to date in every load's transaction
    doc: str = ""  # what the ingest DAG does, for its documentation

    @property
    def pattern(self) -> str:
        """The regular expression a delivered file's whole name must match (files only)."""
        if self.file_name is None:
            raise ValueError(f"{self.name} is not a file source")
        digits = 6 if self.cadence == "monthly" else 8
        before, _, after = self.file_name.partition("{tag}")
        return "^" + re.escape(before) + r"(\d{" + str(digits) + "})" + re.escape(after) + "$"

    @property
    def is_xlsx(self) -> bool:
        """True when the delivered files are workbooks (read sheet by sheet), not delimited text."""
        return (self.file_name or "").lower().endswith(".xlsx")

    @property
    def month_column(self) -> str | None:
        """The warehouse column of a monthly file's reading month (each row must fall in the file's month)."""
        if self.cadence != "monthly":
            return None
        spec = self.tables[0]
        delivered = (target for target, kind in spec.columns.values() if kind == "month")
        derived = (column for column, (_, how) in spec.derived.items() if how == "month_of")
        return next(delivered, next(derived, None))

    @property
    def layout(self) -> TableSpec:
        """A file source's one layout, with its file-name pattern."""
        spec = self.tables[0]
        return replace(spec, extra={**spec.extra, "pattern": self.pattern})


def columns(**cols: tuple[str, str]) -> dict[str, tuple[str, str]]:
    """Delivered column -> (warehouse column, kind), in delivery order."""
    return cols
