"""Timeline events at the inbox and the operator's console: dispositions and acceptances.

Dispositions files are written as inspectors' spreadsheets save them (UTF-8 with
or without BOM, or GB18030 with Chinese outcome labels, CRLF line ends), on
purpose broken where asked: a wrong header (the whole file is rejected) or notes
with an unquoted comma (those rows are rejected). The reference is told the rows
it may use; an acceptance is recorded for the reference and returned as the
``safetynet`` command line the test runs.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from pathlib import Path

from safetynet.generate.reference_timeline import OUTCOMES, Decision
from safetynet.generate.timeline_base import TimelineBase

HEADER = ("case_key", "outcome", "note", "suppress_until")
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y年%m月%d日")


def _date(text: str) -> date | None:
    """A ``suppress_until`` in one of the contract's date styles; ValueError otherwise."""
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def usable(data: bytes) -> list[Decision]:
    """The decisions a correct reader takes from a dispositions file's bytes.

    UTF-8 (BOM or not) else GB18030; the header must be exactly
    ``case_key,outcome,note,suppress_until`` (else nothing is used); a row is used
    when it has four fields, a case key, a known outcome (code in any case, or the
    Chinese label) and an empty or readable date. Rows are numbered from 2.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("gb18030")
    records = [r for r in csv.reader(io.StringIO(text, newline="")) if any(f.strip() for f in r)]
    if not records or tuple(f.strip() for f in records[0]) != HEADER:
        return []
    out = []
    for i, fields in enumerate(records[1:]):
        if len(fields) != len(HEADER):
            continue
        key, outcome, _, until = (f.strip() for f in fields)
        if not key or len(key) > 200 or outcome.upper() not in OUTCOMES:
            continue
        try:
            when = _date(until) if until else None
        except ValueError:
            continue
        out.append(Decision(key, OUTCOMES[outcome.upper()], when, i + 2))
    return out


class InboxEvents(TimelineBase):
    """Inspectors' decisions and operators' acceptances."""

    def inbox(self) -> Path:
        """The local inbox folder."""
        return self.root / self.raw["inbox"]["location"]

    def dispositions(self, name: str, rows: list[tuple[str, str, str, str]],
                     encoding: str = "utf-8", header: tuple[str, ...] = HEADER,
                     raw: set[int] | None = None) -> Path:
        """Write ``inbox/<name>``: rows of (case_key, outcome or label, note, suppress_until).

        Rows whose index is in ``raw`` are written without quoting (a comma in
        their note then splits the row). Returns the file's path.
        """
        raw = raw or set()
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerow(header)
        for i, row in enumerate(rows):
            if i in raw:
                buf.write(",".join(row) + "\r\n")
            else:
                w.writerow(row)
        path = self.inbox() / name
        path.parent.mkdir(parents=True, exist_ok=True)
        data = buf.getvalue().encode(encoding)
        path.write_bytes(data)
        self.ref.place_dispositions(name, usable(data))
        return path

    def accept(self, source: str, item: str) -> list[str]:
        """An operator accepts a refused delivery: ``safetynet`` arguments that do it."""
        self.ref.ledger.accept(source, item)
        return ["accept", "--config", str(self.config), "--source", source, "--item", item]
