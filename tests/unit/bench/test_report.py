"""The benchmark report states each figure against its target, met or not."""

from __future__ import annotations

from pathlib import Path

from bench.report import write_report


def _scale(households: int, full_s: float, inc_s: float, peak_mb: int) -> dict:
    stages = {"extract": {"seconds": 1.0, "rows": 10, "rows_per_s": 10.0}}
    sources = {s: {"rows_read": 1_000, "seconds": 1.0} for s in ("electricity", "water")}
    return {"households": households,
            "full": {"total_seconds": full_s, "ingest_wall_seconds": full_s / 2, "peak_rss_mb": peak_mb,
                     "stages": stages, "sources": sources},
            "incremental": {"total_seconds": inc_s, "peak_rss_mb": peak_mb // 2}}


def test_targets_met_and_missed_are_named(tmp_path: Path) -> None:
    small = _scale(100, 100.0, 20.0, 1_500) | {"ceiling": {"rows_per_s": 3_000},
                                               "peer": {"total_seconds": 1_000.0}}
    big = _scale(200, 250.0, 75.0, 2_100)
    write_report([small, big], tmp_path / "bench.md")
    text = (tmp_path / "bench.md").read_text("utf-8")
    assert "Full daily run at 200 households: 250.0 s (target < 600 s: met)" in text
    assert "Incremental day at 200 households: 75.0 s (target < 60 s: NOT met)" in text
    assert "2,100 MB (target < 2,048 MB: NOT met)" in text
    assert "×2.50 time (target ≤ ×2.20: NOT met)" in text  # 100 → 250 s for twice the data
    assert "1,000 rows/s = 33% of the ceiling (target ≥ 50%: NOT met)" in text
    assert "ours is ×10.0 faster (target ≥ ×20: NOT met)" in text


def test_before_and_after_compares_the_same_scales(tmp_path: Path) -> None:
    before, after = _scale(100, 300.0, 90.0, 4_000), _scale(100, 200.0, 40.0, 1_800)
    write_report([after], tmp_path / "bench.md", previous=[before, _scale(50, 1.0, 1.0, 1)])
    text = (tmp_path / "bench.md").read_text("utf-8")
    assert "| 100 | 300.0 → 200.0 | 4000 → 1800 | 90.0 → 40.0 |" in text
    assert "| 50 |" not in text
