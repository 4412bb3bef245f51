"""What became of the returned decision files: for one report date, and the latest overall.

Read from what the loader wrote, for either side (:mod:`safetynet.dispositions_kinds`):
the audit trail (one applied or rejected row per file processed, its report date
and reason), ``meta_quarantine`` (rejected rows, batch = report date) and the
side's decisions table (rows naming an unknown item, kept with ``known`` false).
No pandas, so the monitor page can use it. Nothing here quotes a file's content:
reasons are the loader's own words; only :func:`unknown_rows` (for the manifest,
which the side's own people read) returns item keys.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import Connection, text

from safetynet.dispositions_kinds import CASE_DECISIONS, DecisionKind

UNKNOWN_CASE = "unknown case"
REASONS_ZH = (  # (the loader's reason contains, the Chinese for the workbook, in the side's words)
    ("not UTF-8 or GB18030", "文件编码无法识别，请另存为 UTF-8 或 GB18030（GBK）编码的 CSV"),
    ("header must be", "表头不符，第一行应为 {header}"),
    ("unreadable header", "表头无法读取，第一行应为 {header}"),
    ("empty file", "文件为空，第一行应为 {header}"),
    ("cannot be read", "文件无法读取，请重新上传"),
    ("unreadable (", "文件无法解析"),
    ("not a readable XLSX", "工作簿无法打开（文件损坏或不是 xlsx 文件），请重新保存后上传"),
    ("not read: it would unpack", "工作簿解压后过大，未读取"),
    ("no sheet with the columns", "工作簿中没有含 {columns} 四列的工作表"),
    ("sheets with the columns", "含{decision}列的工作表过多，未读取"),
    ("missing case key", "{key}为空"),
    ("conflicting decisions", "同一{item}在多处填写了不同的{decision}，均未采用，请只在一处填写"),
    (" fields, expected", "列数不对，每行应为 4 列；说明中含逗号或换行时请用英文双引号括起"),
    ("unreadable CSV row", "该行无法解析"),
    ("empty case_key", "{key}为空"),
    ("case_key longer", "{key}过长"),
    ("unknown outcome", "{decision}无法识别，应为 {choices}"),
    ("bad date in suppress_until", "屏蔽至日期无法识别，请写作 2026-11-22 等格式"),
    ("contains a NUL", "含有空字符，无法读取"),
    (UNKNOWN_CASE, "{key}不在此前任何一期清单中"),
)


def disposition_report(conn: Connection, d: date, kind: DecisionKind = CASE_DECISIONS) -> dict[str, Any]:
    """The side's files processed for report date D, the rows rejected from them, and D's suppressions.

    ``{"files_loaded": [name], "files_rejected": [{"file", "reason"}],
    "rows_rejected": [{"file", "row", "reason"}], "unknown_cases": [...], "suppressed_cases": n}``;
    ``unknown_cases`` (file, row, case key, outcome) is also in ``rows_rejected`` as "unknown case".
    A workbook's rows carry their sheet's row number, the reason starting with the sheet's name
    (``全部疑点 row 12: unknown case``); its unknown cases are rejected rows only.
    """
    events = _latest_events(conn, kind, "AND report_date = :d", {"d": d.isoformat()})
    rows = _rejected_rows(conn, kind, "AND q.batch_id = :d", "AND loaded_for = :d", {"d": d.isoformat()})
    suppressed = conn.execute(text(
        f"SELECT COUNT(*) FROM {kind.items_table} WHERE report_date = :d AND suppressed = 1"),
        {"d": d.isoformat()}).scalar()
    return {"files_loaded": sorted(e["file"] for e in events if e["action"] == kind.applied),
            "files_rejected": sorted(({"file": e["file"], "reason": e["reason"]}
                                      for e in events if e["action"] == kind.rejected),
                                     key=lambda f: f["file"]),
            "rows_rejected": [{"file": r["file"], "row": r["row"], "reason": r["reason"]}
                              for r in sorted(rows, key=lambda r: (r["file"], r["row"]))],
            "unknown_cases": unknown_rows(conn, d, kind), "suppressed_cases": int(suppressed or 0)}


def recent_rejections(conn: Connection, limit: int = 20,
                      kind: DecisionKind = CASE_DECISIONS) -> dict[str, Any]:
    """The side's files whose latest processing rejected them, and rows rejected from files in use,
    newest first.

    Each entry carries its report date and, from the audit trail, when its file
    was processed (``at``); ``*_total`` count all, the lists hold at most ``limit``.
    """
    events = _latest_events(conn, kind, "", {})
    at = {e["file"]: e["at"] for e in events}
    files = [{"file": e["file"], "reason": e["reason"], "report_date": e["report_date"], "at": e["at"]}
             for e in sorted(events, key=lambda e: e["id"], reverse=True) if e["action"] == kind.rejected]
    rows = sorted(_rejected_rows(conn, kind, "", "", {}), key=lambda r: (r["file"], r["row"]))
    rows.sort(key=lambda r: r["report_date"] or "", reverse=True)
    return {"files_rejected_total": len(files), "rows_rejected_total": len(rows),
            "files_rejected": files[:limit],
            "rows_rejected": [{**r, "at": at.get(r["file"])} for r in rows[:limit]]}


def unknown_rows(conn: Connection, d: date, kind: DecisionKind = CASE_DECISIONS) -> list[dict]:
    """The side's decisions loaded for D that name no known item: reported back in the manifest."""
    rows = conn.execute(text(
        f"SELECT file_name, row_number, case_key, outcome FROM {kind.decisions_table} "
        "WHERE known = :f AND loaded_for = :d ORDER BY file_name, row_number"),
        {"f": False, "d": d.isoformat()}).mappings().all()
    return [dict(r) for r in rows]


def reason_zh(reason: str | None, kind: DecisionKind = CASE_DECISIONS) -> str:
    """A loader's reason in Chinese for the side's people, in their words, the original kept in brackets."""
    original = reason or ""
    zh = next((z for key, z in REASONS_ZH if key in original), None)  # the first that matches
    words = {"header": ",".join(kind.csv_header), "columns": "、".join(kind.sheet_headers),
             "key": kind.sheet_headers[0], "decision": kind.sheet_headers[1], "item": kind.item_zh,
             "choices": kind.choices_zh}
    return f"{zh.format(**words)}（{original}）" if zh else original


def _latest_events(conn: Connection, kind: DecisionKind, where: str, params: dict) -> list[dict[str, Any]]:
    """The last audit event per decision file of the side (among those ``where`` selects)."""
    rows = conn.execute(text(
        f"SELECT id, action, report_date, at, detail FROM meta_audit WHERE action IN (:a, :r) {where} "
        "ORDER BY id"), {"a": kind.applied, "r": kind.rejected, **params})
    latest: dict[str, dict[str, Any]] = {}
    for event_id, action, report_date, at, detail in rows:
        info = json.loads(detail or "{}")
        name = str(info.get("file", ""))
        latest[name] = {"id": event_id, "action": action, "file": name, "reason": info.get("reason"),
                        "report_date": _day(report_date), "at": _stamp(at)}
    return list(latest.values())


def _rejected_rows(conn: Connection, kind: DecisionKind, quarantine: str, unknown: str,
                   params: dict) -> list[dict[str, Any]]:
    """Quarantined rows of the side's decision files, then rows naming an unknown item."""
    rows = conn.execute(text(
        "SELECT q.item, q.row_number, q.reason, q.batch_id FROM meta_quarantine q "
        f"WHERE q.source = :source {quarantine}"), {"source": kind.name, **params}).all()
    out = [{"file": f, "row": n, "reason": reason, "report_date": _day(b)} for f, n, reason, b in rows]
    unknowns = conn.execute(text(
        f"SELECT file_name, row_number, loaded_for FROM {kind.decisions_table} WHERE known = :f {unknown}"),
        {"f": False, **params}).all()
    return out + [{"file": f, "row": n, "reason": UNKNOWN_CASE, "report_date": _day(d)}
                  for f, n, d in unknowns]


def _day(value: Any) -> str | None:
    return None if value is None else str(value)[:10]


def _stamp(value: Any) -> str | None:
    """``YYYY-MM-DDTHH:MM:SS`` (UTC, as the audit trail keeps it) from a datetime or SQLite's text."""
    return None if value is None else str(value)[:19].replace(" ", "T")
