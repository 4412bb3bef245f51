"""Who returns decisions, in what words, about what (outputs.md "Dispositions", "Hardship warnings").

The inspectors decide on cases (CONFIRMED, EXPLAINED, UNDER_REVIEW); the
bureau's social-assistance unit on hardship warnings (ASSISTED, NOT_NEEDED,
VISITING). Both return the same kinds of file — a CSV, or their day's workbook
filled in — read by the same code; what differs is this data: the file names,
the accepted outcomes (codes or their Chinese labels), the workbook's column
headers, and the tables the decisions and the items they decide on live in, so
one side's files can never decide on the other's items.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DecisionKind:
    """One side's decisions: how its files are named and worded, and where they go."""

    name: str  # meta_file / meta_quarantine source of its files
    pattern: str  # the inbox file names it reads
    labels: dict[str, str]  # outcome code -> Chinese label (both accepted)
    key_columns: tuple[str, ...]  # accepted names of a CSV's first column
    sheet_headers: tuple[str, str, str, str]  # a workbook's key, decision, note and until headers
    items_table: str  # the table its keys must have appeared in
    decisions_table: str  # where its decisions are kept
    suppressing: str  # the outcome that keeps an item out of reports while its evidence holds
    applied: str  # audit action of a file loaded
    rejected: str  # audit action of a file rejected
    item_zh: str  # what its people call one item (疑点, 预警)

    @property
    def outcomes(self) -> dict[str, str]:
        """Every accepted spelling (code, Chinese label) -> the outcome code."""
        return {**{code: code for code in self.labels}, **{zh: code for code, zh in self.labels.items()}}

    @property
    def outcome_hint(self) -> str:
        """The accepted outcomes, for a rejection reason."""
        return ", ".join(f"{code}/{zh}" for code, zh in self.labels.items())

    @property
    def choices_zh(self) -> str:
        """The Chinese outcomes as a person reads them: ``属实、合理解释 或 核查中``."""
        *first, last = self.labels.values()
        return f"{'、'.join(first)} 或 {last}"

    @property
    def csv_header(self) -> tuple[str, str, str, str]:
        """The CSV header as the contract writes it."""
        return (self.key_columns[0], "outcome", "note", "suppress_until")


CASE_DECISIONS = DecisionKind(
    name="dispositions", pattern=r"^(?:dispositions_|mismatches_(?=.+\.xlsx$))(.+)\.(?:csv|xlsx)$",
    labels={"CONFIRMED": "属实", "EXPLAINED": "合理解释", "UNDER_REVIEW": "核查中"},
    key_columns=("case_key",), sheet_headers=("疑点编号", "核查结论", "核查说明", "屏蔽至"),
    items_table="mart_case_day", decisions_table="core_disposition", suppressing="EXPLAINED",
    applied="disposition_file_applied", rejected="disposition_file_rejected", item_zh="疑点")
"""The discipline-inspection office's decisions on cases."""

WARNING_DECISIONS = DecisionKind(
    name="warning_dispositions",
    pattern=r"^(?:warning_dispositions_|warnings_(?=.+\.xlsx$))(.+)\.(?:csv|xlsx)$",
    labels={"ASSISTED": "已救助", "NOT_NEEDED": "无需救助", "VISITING": "走访中"},
    key_columns=("warning_key", "case_key"), sheet_headers=("预警编号", "处置结论", "处置说明", "屏蔽至"),
    items_table="mart_warning_day", decisions_table="core_warning_disposition", suppressing="NOT_NEEDED",
    applied="warning_decision_file_applied", rejected="warning_decision_file_rejected", item_zh="预警")
"""The social-assistance unit's decisions on hardship warnings."""
