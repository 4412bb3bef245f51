"""The inspectors' dispositions templates shipped with every deployment (outputs.md, issue 17).

``templates/dispositions_template.csv`` (UTF-8 with BOM: the contract's header
and one example row) and ``templates/dispositions_template.xlsx`` (a ``反馈``
sheet with the workbook's four decision columns, a drop-down on ``核查结论``, a
date format on ``屏蔽至``, and a ``说明`` sheet on filling it in and where to put
it). They live outside the inbox, which would read them as returned files. The
example's case key never names a reported case, so the CSV dropped into the
inbox unchanged is rejected as an unknown case, never applied. Written with
xlsxwriter at a fixed creation time: the same bytes on every run.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import xlsxwriter

from safetynet.dispositions_parse import HEADER
from safetynet.dispositions_xlsx import HEADERS

FOLDER = "templates"
EXAMPLE_KEY = "R01:示例-请替换"
EXAMPLE = (EXAMPLE_KEY, "合理解释", "示例：已核实为数据更新滞后（请替换或删除本行）", "2026-12-31")
OUTCOMES = ("属实", "合理解释", "核查中")
ROWS = 1000
CREATED = datetime(2026, 1, 1)
WIDTHS = (32, 14, 48, 14)
GUIDE = (
    "反馈模板使用说明",
    "",
    "一、填写（“反馈”工作表，每个疑点一行，第 1 行表头不要改动）",
    "疑点编号：照抄每日疑点清单中的“疑点编号”（规则编号:身份证号，如 R08: 后接 18 位号码），不要改动。",
    "核查结论：从下拉列表选择 属实、合理解释 或 核查中；核查结论为空的行不读取。",
    "核查说明：核查情况的简要说明，可不填。",
    "屏蔽至：仅用于“合理解释”。填日期（如 2026-12-31），该日（含）之前不再列入清单；"
    "不填则在疑点证据变化前不再列入。",
    "",
    "二、也可不用本模板：直接在每日下发的工作簿 mismatches_YYYYMMDD.xlsx 的"
    "“核查结论”“核查说明”“屏蔽至”列中填写，原文件名返回即可。",
    "",
    "三、返回",
    "另存为 dispositions_YYYYMMDD.xlsx（文件名以 dispositions_ 开头），放入反馈目录"
    "（配置文件 inbox 指定的目录，演示部署中为 inbox/）。",
    "通过 SFTP 上传时，文件传完后再上传同名加 .ok 的空文件（如 dispositions_20261121.xlsx.ok），"
    "否则不读取。",
    "改正后以同名重新上传即重新读取。无法使用的文件或行及原因，列在次日清单“汇总”工作表和 manifest.json 中。",
    "",
    "四、CSV 格式",
    "也可使用 dispositions_template.csv（UTF-8 编码，表头 case_key,outcome,note,suppress_until），"
    "另存为 dispositions_YYYYMMDD.csv。",
    f"其中示例行的疑点编号 {EXAMPLE_KEY} 不是真实疑点：不替换直接放入，该行将被拒收"
    "（疑点编号不在此前任何一期清单中）。",
)


def write_templates(out: Path) -> list[Path]:
    """Write both templates under ``out/templates``; returns their paths."""
    folder = Path(out) / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    csv_path, xlsx_path = folder / "dispositions_template.csv", folder / "dispositions_template.xlsx"
    csv_path.write_bytes((",".join(HEADER) + "\r\n" + ",".join(EXAMPLE) + "\r\n").encode("utf-8-sig"))
    _workbook(xlsx_path)
    return [csv_path, xlsx_path]


def _workbook(path: Path) -> None:
    """The ``反馈`` sheet (headers, drop-down, date column) and the ``说明`` sheet."""
    wb = xlsxwriter.Workbook(str(path))
    wb.set_properties({"title": "核查结论反馈模板", "created": CREATED})
    bold = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    formats = (wb.add_format({"num_format": "@"}), None, wb.add_format({"text_wrap": True}),
               wb.add_format({"num_format": "yyyy-mm-dd"}))
    ws = wb.add_worksheet("反馈")
    for col, (name, width, fmt) in enumerate(zip(HEADERS, WIDTHS, formats, strict=True)):
        ws.write_string(0, col, name, bold)
        ws.set_column(col, col, width, fmt)
    ws.data_validation(1, 1, ROWS, 1, {
        "validate": "list", "source": list(OUTCOMES),
        "input_title": "核查结论", "input_message": "请选择 属实、合理解释 或 核查中",
        "error_title": "核查结论", "error_message": "只能选择 属实、合理解释 或 核查中"})
    ws.data_validation(1, 3, ROWS, 3, {
        "validate": "date", "criteria": ">", "value": datetime(2000, 1, 1),
        "input_title": "屏蔽至", "input_message": "日期，如 2026-12-31；仅用于“合理解释”，可不填",
        "error_type": "warning", "error_message": "请填写日期，如 2026-12-31"})
    ws.freeze_panes(1, 0)
    guide = wb.add_worksheet("说明")
    guide.set_column(0, 0, 110)
    title = wb.add_format({"bold": True, "font_size": 14})
    for row, line in enumerate(GUIDE):
        guide.write_string(row, 0, line, title if row == 0 else None)
    wb.close()
