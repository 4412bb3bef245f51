"""Colours, bilingual labels and the page's stylesheet, kept apart from the page's structure.

Inline CSS (no files to serve, no CDN): the page must render complete from one
response, inside Airflow's iframe and offline.
"""

from __future__ import annotations

from safetynet.sources.declarations import SOURCES

SEVERITY_COLOURS = {"high": "#dc2626", "medium": "#f59e0b", "low": "#64748b"}
STATUS_COLOURS = {"NEW": "#f59e0b", "OPEN": "#2563eb", "RESOLVED": "#16a34a"}
SEVERITY_LABELS = {"high": "高 High", "medium": "中 Medium", "low": "低 Low"}
STATUS_LABELS = {"NEW": "新增 New", "OPEN": "在办 Open", "RESOLVED": "已解决 Resolved"}
SOURCE_LABELS = {name: f"{s.label_zh} {s.label_en}" for name, s in SOURCES.items()}
TOWNSHIP_BAR = "#0ea5e9"
COLUMN_LABELS = {  # stored column names as table headers (failed runs, validation failures)
    "failed_at": "失败时间 Failed at", "validated_at": "校验时间 Validated at",
    "dag_id": "流程 DAG", "task_id": "任务 Task", "run_id": "运行 Run", "try_number": "尝试次数 Try",
    "error_class": "错误类型 Error", "message": "错误信息 Message",
    "source": "数据源 Source", "item": "文件/表 Item", "batch_id": "批次 Batch",
    "expectation": "校验规则 Expectation", "column_name": "列 Column", "outcome": "结果 Outcome",
    "unexpected_count": "不符行数 Failing rows", "observed": "实际值 Observed",
}
"""Bilingual headers for columns read from the warehouse; an unknown column shows its own name."""

CSS = """
*{box-sizing:border-box}
body{margin:0;background:#f1f5f9;color:#0f172a;font:14px/1.45 'Noto Sans CJK SC','Source Han Sans SC',
 'PingFang SC','Microsoft YaHei',system-ui,sans-serif}
header{background:#0f172a;color:#f8fafc;padding:18px 28px;display:flex;justify-content:space-between;
 align-items:flex-end;gap:24px;flex-wrap:wrap}
header h1{margin:0;font-size:22px;font-weight:600;letter-spacing:.02em}
header .sub{color:#94a3b8;font-size:13px;margin-top:4px}
header .meta{text-align:right;color:#cbd5e1;font-size:13px}
header a{color:#7dd3fc}
main{padding:20px 28px 36px;max-width:1500px;margin:0 auto}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(128px,1fr));gap:12px;margin-bottom:18px}
.kpi{background:#fff;border-radius:10px;padding:12px 16px;box-shadow:0 1px 2px rgba(15,23,42,.08);
 border-top:3px solid #2563eb}
.kpi .v{font-size:26px;font-weight:600;font-variant-numeric:tabular-nums}
.kpi .l{color:#64748b;font-size:12px}
.kpi.warn{border-top-color:#f59e0b}.kpi.bad{border-top-color:#dc2626}.kpi.ok{border-top-color:#16a34a}
.grid{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:16px;margin-bottom:16px}
.card{background:#fff;border-radius:10px;padding:16px 18px;box-shadow:0 1px 2px rgba(15,23,42,.08);
 min-width:0}
.card.wide{grid-column:1/-1}
.card h2{margin:0 0 10px;font-size:15px;font-weight:600}
.card h3{margin:14px 0 6px;font-size:13px;font-weight:600;color:#475569}
.card h2 small{color:#64748b;font-weight:normal;margin-left:6px}
table{width:100%;border-collapse:collapse;font-size:13px}
th{text-align:left;color:#475569;font-weight:600;border-bottom:2px solid #e2e8f0;padding:6px 8px;
 white-space:nowrap;vertical-align:bottom}
td{border-bottom:1px solid #f1f5f9;padding:5px 8px;vertical-align:top;white-space:nowrap}
td.wrap{white-space:normal;min-width:160px}
td.err{white-space:normal;min-width:200px;color:#b91c1c;font-size:12px}
th .en{display:block;font-weight:normal;color:#94a3b8;font-size:11px}
.scroll{overflow-x:auto}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
td.mono{font-family:'DejaVu Sans Mono',monospace;font-size:12px}
tr:hover td{background:#f8fafc}
.badge{display:inline-block;border-radius:999px;padding:1px 9px;font-size:12px;color:#fff}
.empty{color:#64748b;font-style:italic;padding:6px 0}
.note{color:#64748b;font-size:12px;margin-top:8px}
footer{color:#64748b;font-size:12px;text-align:center;padding:0 0 24px}
"""
