"""Validation reports people can open anywhere: escaped, self-contained, one index.

Great Expectations' own Data Docs load jQuery, Bootstrap and their table plugin
from public CDNs (on an offline government network the index lists nothing) and
copy observed values into the HTML. So the results GX produces are rendered
here instead, by the standard library: every value escaped, no script, no
external asset, Chinese and English labels. Each validated batch gets
``<work_dir>/data_docs/<source>/<report_date>/index.html`` (with a
``summary.json``), and ``<work_dir>/data_docs/index.html`` lists every batch of
every source, newest first. The monitoring page renders the same report from
``meta_validation`` (``/safetynet/validation``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from html import escape
from pathlib import Path
from typing import Any

COLUMNS = (("item", "文件/表 Item"), ("expectation", "校验 Expectation"), ("column", "列 Column"),
           ("level", "级别 Level"), ("outcome", "结果 Outcome"), ("observed", "观测值 Observed"),
           ("expected", "期望 Expected"), ("unexpected_count", "不符行数 Rows"))
COLOURS = {"passed": "#16a34a", "quarantined": "#d97706", "rejected": "#dc2626", "not_judged": "#64748b"}
STYLE = ("body{font:14px/1.5 system-ui,'Noto Sans CJK SC',sans-serif;margin:24px;color:#0f172a}"
         "table{border-collapse:collapse;margin:8px 0 24px}td,th{border:1px solid #cbd5e1;"
         "padding:4px 8px;text-align:left;vertical-align:top}th{background:#e2e8f0}"
         "td.o{font-weight:600}h2{margin-top:28px}.note{color:#475569}")


def page(title: str, body: str) -> str:
    """A whole, self-contained HTML page (no script, no external asset)."""
    return (f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{escape(title)}'
            f"</title><style>{STYLE}</style></head><body><h1>{escape(title)}</h1>{body}</body></html>")


def results_table(results: Iterable[dict[str, Any]]) -> str:
    """One row per expectation result, every cell escaped, the outcome coloured."""
    head = "".join(f"<th>{escape(label)}</th>" for _, label in COLUMNS)
    rows = []
    for r in results:
        cells = []
        for key, _ in COLUMNS:
            value = "" if r.get(key) is None else str(r[key])
            style = f' class="o" style="color:{COLOURS.get(value, "#0f172a")}"' if key == "outcome" else ""
            cells.append(f"<td{style}>{escape(value)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def batch_summary(source: str, batch_id: str, results: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts for one batch, as the site index lists them."""
    outcomes = [r["outcome"] for r in results]
    return {"source": source, "batch_id": batch_id, "expectations": len(results),
            "items": len({r["item"] for r in results}),
            **{o: outcomes.count(o) for o in ("rejected", "quarantined", "not_judged")}}


def write_batch_docs(root: Path, source: str, batch_id: str, results: list[dict[str, Any]]) -> Path:
    """Write one batch's report and refresh the site index; return the batch's page."""
    folder = root / source / batch_id
    folder.mkdir(parents=True, exist_ok=True)
    summary = batch_summary(source, batch_id, results)
    body = (f'<p class="note">数据源 Source <b>{escape(source)}</b> · 批次 Batch <b>{escape(batch_id)}</b> · '
            f'<a href="../../index.html">全部校验 All validations</a></p>' + results_table(results))
    (folder / "index.html").write_text(page(f"校验结果 Validation {source} {batch_id}", body), "utf-8")
    (folder / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1), "utf-8")
    write_site_index(root)
    return folder / "index.html"


def write_site_index(root: Path) -> Path:
    """``<root>/index.html``: every batch of every source, newest first."""
    summaries = [json.loads(p.read_text("utf-8")) for p in root.glob("*/*/summary.json")]
    summaries.sort(key=lambda s: s["source"])
    summaries.sort(key=lambda s: s["batch_id"], reverse=True)  # newest first, sources A to Z
    head = "".join(f"<th>{escape(h)}</th>" for h in (
        "批次 Batch", "数据源 Source", "文件/表 Items", "校验 Expectations", "拒收 Rejected",
        "隔离 Quarantined", "未判定 Not judged"))
    rows = "".join(
        f'<tr><td><a href="{escape(s["source"])}/{escape(s["batch_id"])}/index.html">'
        f'{escape(s["batch_id"])}</a></td><td>{escape(s["source"])}</td><td>{s["items"]}</td>'
        f'<td>{s["expectations"]}</td><td>{s["rejected"]}</td><td>{s["quarantined"]}</td>'
        f'<td>{s["not_judged"]}</td></tr>' for s in summaries)
    body = f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
    path = root / "index.html"
    path.write_text(page("校验结果 Validation results", body), "utf-8")
    return path
