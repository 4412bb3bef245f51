"""``make screenshots``: the README's pictures of the demo workbook, as LibreOffice prints it.

Run after ``make demo``; writes ``docs/img/summary_sheet.png`` (汇总) and
``docs/img/all_cases_sheet.png`` (全部疑点, first page) from the demo's
workbook for its report date.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from safetynet.reports.render import first_page_png, sheet_pdf

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    """Render both sheets of the demo's workbook; return the exit status."""
    demo = ROOT / os.environ.get("DEMO_DIR", "demo")
    day = os.environ.get("DEMO_DATE", "2026-11-20")
    workbook = demo / "outbox" / day / f"mismatches_{day.replace('-', '')}.xlsx"
    if not workbook.is_file():
        print(f"no demo workbook at {workbook}: run `make demo` first", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        for sheet, name in (("汇总", "summary_sheet.png"), ("全部疑点", "all_cases_sheet.png")):
            pdf = sheet_pdf(workbook, sheet, Path(tmp) / f"{name}.pdf")
            print(first_page_png(pdf, ROOT / "docs" / "img" / name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
