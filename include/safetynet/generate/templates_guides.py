"""The words of the two decision templates (``templates``): one entry per side, as data.

The inspectors return decisions on cases (疑点), the bureau's social-assistance
unit on hardship warnings (预警); each template's ``说明`` sheet tells its own
people how to fill it in and where to put it, in their words.
"""

from __future__ import annotations

from dataclasses import dataclass

from safetynet.dispositions_kinds import CASE_DECISIONS, WARNING_DECISIONS, DecisionKind


@dataclass(frozen=True)
class TemplateWords:
    """One side's template: its file stem, example row and guide."""

    kind: DecisionKind
    stem: str  # ``<stem>_template.csv`` / ``.xlsx``; returned files start with ``<stem>_``
    title: str  # the workbook's title property
    example: tuple[str, str, str, str]  # an example row whose key names no real item
    guide: tuple[str, ...]  # the 说明 sheet, one line per row


def _guide(kind: DecisionKind, heading: str, stem: str, daily: str, key_hint: str, example_key: str,
           note_hint: str) -> tuple[str, ...]:
    item, (key, decision, note, until) = kind.item_zh, kind.sheet_headers
    suppressing = kind.labels[kind.suppressing]
    return (
        heading,
        "",
        f"一、填写（“反馈”工作表，每个{item}一行，第 1 行表头不要改动）",
        f"{key}：照抄每日{item}清单中的“{key}”（{key_hint}），不要改动。",
        f"{decision}：从下拉列表选择 {kind.choices_zh}；{decision}为空的行不读取。",
        f"{note}：{note_hint}，可不填。",
        f"{until}：仅用于“{suppressing}”。填日期（如 2026-12-31），该日（含）之前不再列入清单；"
        f"不填则在{item}证据变化前不再列入。",
        "",
        f"二、也可不用本模板：直接在每日下发的工作簿 {daily}_YYYYMMDD.xlsx 的"
        f"“{decision}”“{note}”“{until}”列中填写，原文件名返回即可。",
        "",
        "三、返回",
        f"另存为 {stem}_YYYYMMDD.xlsx（文件名以 {stem}_ 开头），放入反馈目录"
        "（配置文件 inbox 指定的目录，演示部署中为 inbox/）。",
        f"通过 SFTP 上传时，文件传完后再上传同名加 .ok 的空文件（如 {stem}_20261121.xlsx.ok），"
        "否则不读取。",
        "改正后以同名重新上传即重新读取。"
        "无法使用的文件或行及原因，列在次日清单“汇总”工作表和 manifest.json 中。",
        "",
        "四、CSV 格式",
        f"也可使用 {stem}_template.csv（UTF-8 编码，表头 {','.join(kind.csv_header)}），"
        f"另存为 {stem}_YYYYMMDD.csv。",
        f"其中示例行的{key} {example_key} 不是真实{item}：不替换直接放入，该行将被拒收"
        f"（{key}不在此前任何一期清单中）。",
    )


EXAMPLE_KEY = "R01:示例-请替换"
WARNING_EXAMPLE_KEY = "H02:示例-请替换"
CASES = TemplateWords(
    kind=CASE_DECISIONS, stem="dispositions", title="核查结论反馈模板",
    example=(EXAMPLE_KEY, "合理解释", "示例：已核实为数据更新滞后（请替换或删除本行）", "2026-12-31"),
    guide=_guide(CASE_DECISIONS, "反馈模板使用说明", "dispositions", "mismatches",
                 "规则编号:身份证号，如 R08: 后接 18 位号码", EXAMPLE_KEY, "核查情况的简要说明"))
"""The discipline-inspection office's template."""
WARNINGS = TemplateWords(
    kind=WARNING_DECISIONS, stem="warning_dispositions", title="预警处置反馈模板",
    example=(WARNING_EXAMPLE_KEY, "无需救助", "示例：已纳入其他保障（请替换或删除本行）", "2026-12-31"),
    guide=_guide(WARNING_DECISIONS, "预警处置反馈模板使用说明", "warning_dispositions", "warnings",
                 "预警类型:身份证号或户编号，如 H02: 后接 18 位号码、H03: 后接户编号", WARNING_EXAMPLE_KEY,
                 "走访、救助情况的简要说明"))
"""The bureau's social-assistance unit's template (hardship warnings)."""
