"""What a validation result means for the batch, in words safe to store and log.

Each expectation's ``meta.level`` decides: a failing ``row`` expectation
quarantines the rows GX names by their ``_row`` number; a failing ``batch``
expectation rejects the batch. Two guards keep that honest:

- a row-level check failing on more than ``row_failure_ceiling`` of an item's
  rows is a broken delivery (shifted columns, a wrong export), not dirty rows, so
  it rejects the batch instead of silently quarantining most of it;
- a share (``mostly``, or an ID presence/validity share) over fewer than
  ``min_rows`` rows is not judged: one bad or missing ID number in a three-row
  incremental delta is dirt, not a collapse.

Observed values are summarised (counts, shares, a few sample values) and masked
for anything shaped like an ID number, because GX results carry raw values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

ID_LIKE = re.compile(r"(?:\d ?){14,17}[\dXx]")  # 15 or 18 characters, maybe spaced
NO_SAMPLES = ("_hash",)  # hashed person keys are never shown, even salted
SHARES = ("id_presence", "id_validity")  # batch checks that are shares of rows, judged from min_rows on


class BatchRejected(RuntimeError):
    """A whole batch failed validation (non-retryable: the data, not the transport, is wrong)."""


@dataclass
class Finding:
    """One expectation's outcome on one item: what is stored in ``meta_validation``."""

    item: str
    expectation: str
    column: str | None
    level: str
    success: bool
    outcome: str  # passed | quarantined | rejected | not_judged
    observed: str
    expected: str
    unexpected_count: int | None
    rows: list[int] = field(default_factory=list)  # failing _row numbers (row level only)

    @property
    def reason(self) -> str:
        """The quarantine reason for a row this finding moves."""
        return f"expectation {self.expectation} [{self.column}]" if self.column else \
            f"expectation {self.expectation}"

    def as_result(self) -> dict[str, Any]:
        """The finding as a report row (``validation.docs``): what ``meta_validation`` stores."""
        return {"item": self.item, "expectation": self.expectation, "column": self.column,
                "level": self.level, "outcome": self.outcome, "observed": self.observed,
                "expected": self.expected, "unexpected_count": self.unexpected_count}

    def line(self) -> str:
        """One log/message line naming the item, the expectation and the observed value."""
        col = f" [{self.column}]" if self.column else ""
        return f"{self.item}: {self.expectation}{col} {self.outcome}: observed {self.observed}; " \
               f"expected {self.expected}"


def judge(item: str, result: Any, n_rows: int, min_rows: int, ceiling: float) -> Finding:
    """Turn one GX ``ExpectationValidationResult`` into a :class:`Finding`."""
    cfg = result.expectation_config
    kwargs, res = dict(cfg.kwargs), dict(result.result or {})
    level = (cfg.meta or {}).get("level", "batch")
    found = Finding(item, cfg.type, column_label(kwargs), level, bool(result.success), "passed",
                    observed(kwargs, res), expected(kwargs), _int(res.get("unexpected_count")))
    error = _exception_message(result.exception_info)
    if error:
        found.success, found.observed = False, "error: " + mask(error)[:200]
    if found.success:
        return found
    counted = _int(res.get("element_count"))
    if level == "row":
        index = res.get("unexpected_index_list")
        too_many = n_rows >= min_rows and (found.unexpected_count or 0) > ceiling * n_rows
        if index is None or too_many:
            found.outcome = "rejected"
            found.expected += f" (at most {ceiling:.0%} of rows failing)" if too_many else ""
        else:
            found.outcome = "quarantined"
            found.rows = sorted({int(r["_row"]) for r in index})
    elif (cfg.meta or {}).get("check") in SHARES or "mostly" in kwargs:
        found.outcome = "not_judged" if (n_rows if counted is None else counted) < min_rows else "rejected"
    else:
        found.outcome = "rejected"
    return found


def column_label(kwargs: dict) -> str | None:
    """The column(s) an expectation is about, as one label."""
    if "column" in kwargs:
        return str(kwargs["column"])
    if "column_A" in kwargs:
        return f"{kwargs['column_B']}, {kwargs['column_A']}"
    if "column_list" in kwargs:
        return ", ".join(kwargs["column_list"])
    return None


def observed(kwargs: dict, res: dict) -> str:
    """A short, masked description of what GX saw."""
    if "observed_value" in res:
        return mask(_plain(res["observed_value"]))[:300]
    if "unexpected_count" not in res:
        return "n/a"
    bad, total = res.get("unexpected_count") or 0, res.get("element_count") or 0
    text = f"{bad} of {total} unexpected ({(bad / total if total else 0):.2%})"
    label = column_label(kwargs) or ""
    if bad and not label.endswith(NO_SAMPLES) and "_hash" not in label:
        sample = [_plain(v.get("value")) for v in (res.get("partial_unexpected_counts") or [])[:3]]
        text += f", e.g. {', '.join(sample)}" if sample else ""
    return mask(text)[:300]


def expected(kwargs: dict) -> str:
    """The expectation's bounds after suite parameters were filled in."""
    parts = [f"{k} {_plain(kwargs[k])}" for k in ("min_value", "max_value", "mostly")
             if kwargs.get(k) is not None]
    if "value_set" in kwargs:
        parts.append(f"in {{{', '.join(map(str, kwargs['value_set']))}}}")
    if "regex" in kwargs:
        parts.append(f"matching {kwargs['regex']}")
    if "column_set" in kwargs:
        parts.append(f"columns {', '.join(kwargs['column_set'])}")
    return "; ".join(parts) or "to hold"


def mask(text: str) -> str:
    """Hide anything shaped like a citizen ID number (15 or 18 characters)."""
    return ID_LIKE.sub("[masked]", text)


def _plain(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()[:10]
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_plain(v) for v in value) + "]"
    if isinstance(value, float) or type(value).__name__.startswith("float"):
        return f"{float(value):g}"
    return str(value)


def _exception_message(info: Any) -> str | None:
    """GX puts an exception at the top of ``exception_info`` or one level down, per metric."""
    for entry in [info, *(info.values() if isinstance(info, dict) else [])]:
        if isinstance(entry, dict) and entry.get("raised_exception"):
            return str(entry.get("exception_message"))
    return None


def _int(value: Any) -> int | None:
    return None if value is None else int(value)
