"""The day's workbook, filled in by an inspector, comes back through the inbox (issue 17, item 3).

Every outcome is chosen by its Chinese label from the drop-down, one row holds an
outcome that is not on it: the next day's extract applies the three decisions,
and the bad row is reported back (manifest and summary sheet) with its sheet and
row number, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import csv
import json
from datetime import date, datetime
from pathlib import Path

from openpyxl import load_workbook

from safetynet.pipeline import run

D, NEXT = date(2026, 11, 20), date(2026, 11, 21)


def _extract(config: Path, day: date) -> dict[str, dict[str, str]]:
    path = config.parent / "outbox" / day.isoformat() / f"mismatches_{day:%Y%m%d}.csv"
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return {r["case_key"]: r for r in csv.DictReader(fh)}


def test_a_filled_workbook_is_applied_and_its_bad_row_reported(warehouse_config: Path) -> None:
    config = warehouse_config
    run(D, config)
    name = f"mismatches_{D:%Y%m%d}.xlsx"
    book = load_workbook(config.parent / "outbox" / D.isoformat() / name)
    ws = book["全部疑点"]
    head = [c.value for c in ws[1]]
    col = {h: head.index(h) + 1 for h in ("规则", "核查结论", "核查说明", "屏蔽至", "疑点编号")}
    stable = [r for r in range(2, ws.max_row + 1)  # cases that still hold tomorrow (no date edge)
              if str(ws.cell(r, col["规则"]).value).split()[0] in ("R04", "R05", "R09")][:4]
    filled = {}
    decisions = [("属实", "已核实，停发", None), ("合理解释", "房产已过户，登记滞后", datetime(2026, 12, 31)),
                 ("核查中", "已安排入户", None), ("待定", "不在下拉选项里", None)]
    for r, (outcome, note, until) in zip(stable, decisions, strict=True):
        ws.cell(r, col["核查结论"], outcome)
        ws.cell(r, col["核查说明"], note)
        if until:
            ws.cell(r, col["屏蔽至"], until)
        filled[outcome] = (r, ws.cell(r, col["疑点编号"]).value)
    book.save(config.parent / "inbox" / name)

    run(NEXT, config)
    cases = _extract(config, NEXT)
    assert cases[filled["属实"][1]]["disposition"] == "CONFIRMED"
    assert cases[filled["属实"][1]]["disposition_note"] == "已核实，停发"
    assert filled["合理解释"][1] not in cases  # explained: left out until 2026-12-31
    assert cases[filled["核查中"][1]]["disposition"] == "UNDER_REVIEW"
    assert cases[filled["待定"][1]]["disposition"] == ""  # the bad row decided nothing
    manifest = json.loads((config.parent / "outbox" / NEXT.isoformat() / "manifest.json").read_text())
    rejected = manifest["dispositions"]["rows_rejected"]
    assert [(r["file"], r["row"]) for r in rejected] == [(name, filled["待定"][0])]
    assert rejected[0]["reason"].startswith(f"全部疑点 row {filled['待定'][0]}:")
    summary = load_workbook(config.parent / "outbox" / NEXT.isoformat() / f"mismatches_{NEXT:%Y%m%d}.xlsx")
    text = "\n".join(str(v) for row in summary["汇总"].iter_rows(values_only=True) for v in row if v)
    assert name in text and "拒收行" in text
    again = load_workbook(config.parent / "outbox" / NEXT.isoformat() / f"mismatches_{NEXT:%Y%m%d}.xlsx")
    head = [c.value for c in again["全部疑点"][1]]
    row = next(r for r in again["全部疑点"].iter_rows(min_row=2, values_only=True)
               if r[head.index("疑点编号")] == filled["属实"][1])
    assert row[head.index("已反馈结论")].startswith("属实") and row[head.index("核查结论")] is None
