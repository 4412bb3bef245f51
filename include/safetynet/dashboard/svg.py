"""Server-side SVG charts: horizontal bars, stacked columns over dates, a line over dates.

The page is served where there is no internet and must not grow dependencies,
so charts are plain SVG strings built here: no JavaScript, no CDN, nothing to
load after the HTML. Each chart scales with its container (``viewBox``), carries
a ``<title>`` for screen readers, and every text is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

FONT = "'Noto Sans CJK SC','Source Han Sans SC','PingFang SC','Microsoft YaHei',sans-serif"
AXIS, GRID, INK, MUTED = "#94a3b8", "#e2e8f0", "#0f172a", "#64748b"


def text_width(label: str, size: float) -> float:
    """Rough rendered width: CJK characters are about one em, Latin ones about 0.6 em."""
    return sum(size if ord(ch) > 0x2E80 else 0.6 * size for ch in label)


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round axis ticks (1, 2, 5 × 10ⁿ steps) covering ``low``..``high``."""
    if high <= low:
        high = low + 1
    raw = (high - low) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    start = math.floor(low / step) * step
    ticks = [start]
    while ticks[-1] < high:
        ticks.append(ticks[-1] + step)
    return ticks


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def _open(width: float, height: float, title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
            f'width="100%" role="img" aria-label="{escape(title)}" font-family="{FONT}">'
            f"<title>{escape(title)}</title>")


def _text(x: float, y: float, label: str, *, size: int = 12, anchor: str = "start",
          fill: str = INK, weight: str = "normal") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
            f'fill="{fill}" font-weight="{weight}">{escape(label)}</text>')


def bar_chart(rows: Sequence[tuple[str, float, str]], title: str, *, width: int = 600) -> str:
    """Horizontal bars, one per ``(label, value, colour)``, value printed at the bar's end."""
    if not rows:
        return _empty(title, width)
    row_h, top, size = 26, 8, 12
    label_w = min(max(text_width(label, size) for label, _, _ in rows) + 12, width * 0.55)
    plot_w = width - label_w - 56
    top_value = max(max(v for _, v, _ in rows), 1)
    height = top + row_h * len(rows) + 8
    parts = [_open(width, height, title)]
    for i, (label, value, colour) in enumerate(rows):
        y = top + i * row_h
        bar = plot_w * value / top_value
        parts.append(_text(label_w - 10, y + 17, label, size=size, anchor="end"))
        parts.append(f'<rect x="{label_w:.1f}" y="{y + 5}" width="{max(bar, 1.5):.1f}" height="16" '
                     f'rx="3" fill="{colour}"><title>{escape(label)}: {_fmt(value)}</title></rect>')
        parts.append(_text(label_w + bar + 6, y + 17, _fmt(value), size=size, fill=MUTED))
    parts.append(f'<line x1="{label_w:.1f}" y1="{top}" x2="{label_w:.1f}" y2="{height - 8}" '
                 f'stroke="{AXIS}"/></svg>')
    return "".join(parts)


def _frame(dates: Sequence[str], ticks: list[float], title: str, width: int, height: int,
           legend: Sequence[tuple[str, str]]) -> tuple[list[str], float, float, float, float]:
    """Axes, grid, date labels and legend shared by the date charts; returns the plot box."""
    left, right, top, bottom = 56, 16, 34, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    parts = [_open(width, height, title)]
    x: float = left
    for label, colour in legend:
        parts.append(f'<rect x="{x}" y="8" width="12" height="12" rx="2" fill="{colour}"/>')
        parts.append(_text(x + 17, 18, label, size=12, fill=MUTED))
        x += 17 + text_width(label, 12) + 18
    low, high = ticks[0], ticks[-1]
    for t in ticks:
        y = top + plot_h * (1 - (t - low) / (high - low))
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{GRID}"/>')
        parts.append(_text(left - 8, y + 4, _fmt(t), size=11, anchor="end", fill=MUTED))
    slot = plot_w / max(len(dates), 1)
    every = max(1, math.ceil(len(dates) / 10))  # at most ~10 date labels, whatever the window
    for i, d in enumerate(dates):
        if i % every == 0 or i == len(dates) - 1:
            parts.append(_text(left + slot * (i + 0.5), height - bottom + 18, d[5:], size=11,
                               anchor="middle", fill=MUTED))
    parts.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" '
                 f'stroke="{AXIS}"/>')
    return parts, left, top, plot_w, plot_h


def stacked_columns(dates: Sequence[str], series: dict[str, Sequence[float]], colours: dict[str, str],
                    title: str, *, width: int = 600, height: int = 260) -> str:
    """One column per date, stacked by series (e.g. case status), with the total on top."""
    if not dates:
        return _empty(title, width)
    totals = [sum(values[i] for values in series.values()) for i in range(len(dates))]
    ticks = nice_ticks(0, max(max(totals), 1))
    legend = [(name, colours.get(name, MUTED)) for name in series]
    parts, left, top, plot_w, plot_h = _frame(dates, ticks, title, width, height, legend)
    slot = plot_w / len(dates)
    bar_w = min(slot * 0.62, 48)
    for i, d in enumerate(dates):
        x, base = left + slot * i + (slot - bar_w) / 2, top + plot_h
        for name, values in series.items():
            h = plot_h * values[i] / ticks[-1]
            if h > 0:
                base -= h
                parts.append(f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                             f'fill="{colours.get(name, MUTED)}"><title>{escape(d)} {escape(name)}: '
                             f"{_fmt(values[i])}</title></rect>")
        parts.append(_text(x + bar_w / 2, base - 5, _fmt(totals[i]), size=11, anchor="middle", fill=INK))
    return "".join(parts) + "</svg>"


def line_chart(dates: Sequence[str], values: Sequence[float], title: str, *, label: str,
               colour: str = "#0f766e", width: int = 600, height: int = 260) -> str:
    """A line with points over dates; the axis hugs the data (populations move by a few people)."""
    if not dates:
        return _empty(title, width)
    low, high = min(values), max(values)
    pad = max((high - low) * 0.25, 5)
    ticks = nice_ticks(max(low - pad, 0), high + pad)
    parts, left, top, plot_w, plot_h = _frame(dates, ticks, title, width, height, [(label, colour)])
    slot = plot_w / len(dates)

    def point(i: int) -> tuple[float, float]:
        return left + slot * (i + 0.5), top + plot_h * (1 - (values[i] - ticks[0]) / (ticks[-1] - ticks[0]))

    path = " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in
                    enumerate(point(i) for i in range(len(values))))
    parts.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="2.5"/>')
    for i, d in enumerate(dates):
        x, y = point(i)
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="#fff" stroke="{colour}" '
                     f'stroke-width="2"><title>{escape(d)}: {_fmt(values[i])}</title></circle>')
        if len(dates) <= 12 or i == len(dates) - 1:
            parts.append(_text(x, y - 10, _fmt(values[i]), size=11, anchor="middle"))
    return "".join(parts) + "</svg>"


def _empty(title: str, width: int) -> str:
    return (_open(width, 60, title) + _text(width / 2, 35, "暂无数据 No data", size=13,
                                            anchor="middle", fill=MUTED) + "</svg>")
