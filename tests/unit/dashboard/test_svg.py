"""The SVG charts: well-formed, labelled, escaped, scaled, and honest about missing data."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from safetynet.dashboard import svg

NS = "{http://www.w3.org/2000/svg}"


def _parse(doc: str) -> ET.Element:
    root = ET.fromstring(doc)
    assert root.tag == f"{NS}svg" and root.get("viewBox") and root.find(f"{NS}title") is not None
    return root


def test_bar_chart_has_one_bar_per_row_with_proportional_lengths_and_values() -> None:
    root = _parse(svg.bar_chart([("R01 死亡仍享受待遇", 10, "#f00"), ("R02", 5, "#0f0")], "按规则 By rule"))
    bars = [r for r in root.iter(f"{NS}rect")]
    assert len(bars) == 2
    assert float(bars[0].get("width", "")) == 2 * float(bars[1].get("width", ""))
    texts = [t.text for t in root.iter(f"{NS}text")]
    assert "R01 死亡仍享受待遇" in texts and "10" in texts and "5" in texts


def test_labels_are_escaped() -> None:
    doc = svg.bar_chart([("<script>alert(1)</script>", 1, "#000")], "a & b")
    assert "<script>" not in doc
    title = _parse(doc).find(f"{NS}title")
    assert title is not None and title.text == "a & b"


def test_stacked_columns_stack_series_and_print_totals() -> None:
    root = _parse(svg.stacked_columns(["2026-11-18", "2026-11-19"], {"新增 New": [3, 1], "在办 Open": [0, 4]},
                                      {"新增 New": "#f59e0b"}, "趋势 Trend"))
    texts = [t.text for t in root.iter(f"{NS}text")]
    assert "11-18" in texts and "11-19" in texts and "新增 New" in texts and "在办 Open" in texts
    assert "3" in texts and "5" in texts  # the totals on top
    column_rects = [r for r in root.iter(f"{NS}rect") if r.find(f"{NS}title") is not None]
    assert len(column_rects) == 3  # zero-height segments are not drawn


def test_line_chart_plots_every_point_within_the_axis() -> None:
    root = _parse(svg.line_chart(["2026-11-18", "2026-11-19", "2026-11-20"], [1028, 1028, 1026],
                                 "人数 Population", label="在保人数 Active"))
    points = list(root.iter(f"{NS}circle"))
    assert len(points) == 3
    assert float(points[2].get("cy", "")) > float(points[0].get("cy", ""))  # fewer people: lower on screen


def test_empty_data_says_so_instead_of_drawing_an_empty_axis() -> None:
    for doc in (svg.bar_chart([], "t"), svg.stacked_columns([], {}, {}, "t"),
                svg.line_chart([], [], "t", label="x")):
        assert "暂无数据 No data" in doc
        _parse(doc)


def test_nice_ticks_are_round_and_cover_the_range() -> None:
    assert svg.nice_ticks(0, 90) == [0, 20, 40, 60, 80, 100]
    ticks = svg.nice_ticks(1016, 1033)
    assert ticks[0] <= 1016 and ticks[-1] >= 1033 and ticks[1] - ticks[0] in (1, 2, 5)
    assert svg.nice_ticks(0, 0)[-1] >= 1  # a flat zero series still gets an axis
