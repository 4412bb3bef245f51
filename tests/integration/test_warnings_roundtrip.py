"""The bureau's filled warnings workbook comes back through the inbox (issue 20, "round trip").

The social-assistance unit chooses each decision by its Chinese label from the
drop-down of ``warnings_YYYYMMDD.xlsx`` (已救助, 无需救助 with a date, 走访中), one
row holds a word that is not on it, and the shipped CSV template is dropped into
the inbox unchanged. The next day's warnings apply the three decisions; the bad
row and the template's example row are reported back to the bureau (its
manifest and 汇总 sheet, in its own words) and never to the inspectors, on
SQLite and on PostgreSQL.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import openpyxl
from openpyxl import load_workbook

from safetynet.generate.templates import WARNING_EXAMPLE_KEY, write_templates
from safetynet.pipeline import run

D, NEXT = date(2026, 11, 20), date(2026, 11, 21)
TEMPLATE = "warning_dispositions_template.csv"


def _warnings(config: Path, day: date) -> dict[str, dict[str, str]]:
    path = config.parent / "warnings" / day.isoformat() / f"warnings_{day:%Y%m%d}.csv"
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return {r["warning_key"]: r for r in csv.DictReader(fh)}


def test_every_deployment_ships_the_bureaus_template(deployment: Callable[..., Path], tmp_path: Path) -> None:
    folder = deployment(tmp_path, households=400).parent / "templates"
    rows = list(csv.reader((folder / TEMPLATE).read_bytes().decode("utf-8-sig").splitlines()))
    assert rows == [["warning_key", "outcome", "note", "suppress_until"],
                    [WARNING_EXAMPLE_KEY, "无需救助", rows[1][2], "2026-12-31"]]
    wb = openpyxl.load_workbook(folder / "warning_dispositions_template.xlsx")
    ws = wb["反馈"]
    assert [c.value for c in ws[1]] == ["预警编号", "处置结论", "处置说明", "屏蔽至"]
    drop_down = [v for v in ws.data_validations.dataValidation if v.type == "list"]
    assert [(v.formula1, str(v.sqref)) for v in drop_down] == [('"已救助,无需救助,走访中"', "B2:B1001")]
    guide = " ".join(str(c.value) for c in wb["说明"]["A"])
    assert "warning_dispositions_" in guide and "无需救助" in guide and "属实" not in guide
    again = write_templates(tmp_path / "again")  # deterministic
    assert [p.read_bytes() for p in again] == [(folder / p.name).read_bytes() for p in again]


def test_a_filled_warnings_workbook_is_applied_and_its_bad_rows_reported(warehouse_config: Path) -> None:
    config = warehouse_config
    run(D, config)
    assert set(_warnings(config, D)), "the deployment plants warnings"
    name = f"warnings_{D:%Y%m%d}.xlsx"
    book = load_workbook(config.parent / "warnings" / D.isoformat() / name)
    ws = book["全部预警"]
    head = [c.value for c in ws[1]]
    col = {h: head.index(h) + 1 for h in ("预警类型", "处置结论", "处置说明", "屏蔽至", "预警编号")}
    stable = [r for r in range(2, ws.max_row + 1)  # warnings that still hold tomorrow (no date edge)
              if str(ws.cell(r, col["预警类型"]).value).split()[0] in ("H01", "H02")][:4]
    decisions = [("已救助", "已纳入低保", None), ("无需救助", "子女已接回赡养", datetime(2026, 12, 31)),
                 ("走访中", "已安排入户走访", None), ("待定", "不在下拉选项里", None)]
    filled = {}
    for r, (outcome, note, until) in zip(stable, decisions, strict=True):
        ws.cell(r, col["处置结论"], outcome)
        ws.cell(r, col["处置说明"], note)
        if until:
            ws.cell(r, col["屏蔽至"], until)
        filled[outcome] = (r, ws.cell(r, col["预警编号"]).value)
    book.save(config.parent / "inbox" / name)
    shutil.copy(config.parent / "templates" / TEMPLATE, config.parent / "inbox" / TEMPLATE)

    run(NEXT, config)
    warnings = _warnings(config, NEXT)
    assert warnings[filled["已救助"][1]]["disposition"] == "ASSISTED"
    assert warnings[filled["已救助"][1]]["disposition_note"] == "已纳入低保"
    assert filled["无需救助"][1] not in warnings  # not needed: left out until 2026-12-31
    assert warnings[filled["走访中"][1]]["disposition"] == "VISITING"
    assert warnings[filled["待定"][1]]["disposition"] == ""  # the bad row decided nothing
    report = json.loads((config.parent / "warnings" / NEXT.isoformat() / "manifest.json").read_text("utf-8"))
    bureau = report["dispositions"]
    assert bureau["files_loaded"] == [TEMPLATE, name]
    assert [(r["file"], r["row"]) for r in bureau["rows_rejected"]] == [(TEMPLATE, 2),
                                                                        (name, filled["待定"][0])]
    assert bureau["rows_rejected"][1]["reason"].startswith(f"全部预警 row {filled['待定'][0]}:")
    assert [u["case_key"] for u in bureau["unknown_cases"]] == [WARNING_EXAMPLE_KEY]
    outbox = config.parent / "outbox" / NEXT.isoformat()
    inspectors = json.loads((outbox / "manifest.json").read_text("utf-8"))["dispositions"]
    assert inspectors["files_loaded"] == [] and inspectors["rows_rejected"] == []
    workbook = load_workbook(config.parent / "warnings" / NEXT.isoformat() / f"warnings_{NEXT:%Y%m%d}.xlsx")
    summary = "\n".join(str(v) for row in workbook["汇总"].iter_rows(values_only=True) for v in row if v)
    assert name in summary and "拒收行" in summary
    assert "处置结论无法识别，应为 已救助、无需救助 或 走访中" in summary
    assert "预警编号不在此前任何一期清单中" in summary and "疑点" not in summary
    head = [c.value for c in workbook["全部预警"][1]]
    row = next(r for r in workbook["全部预警"].iter_rows(min_row=2, values_only=True)
               if r[head.index("预警编号")] == filled["已救助"][1])
    assert row[head.index("已反馈结论")].startswith("已救助") and row[head.index("处置结论")] is None
