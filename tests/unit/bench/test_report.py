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
                                               "like_for_like": {"rows_per_s": 1_500},
                                               "peer": {"total_seconds": 1_000.0,
                                                        "read_and_normalise_seconds": 600.0}}
    big = _scale(200, 150.0, 45.0, 2_100)
    big["full"] |= {"tasks": 20, "startup_seconds": 30.0, "startup_share": 0.125, "cold_import_seconds": 3.1}
    write_report([small, big], tmp_path / "bench.md")
    text = (tmp_path / "bench.md").read_text("utf-8")
    assert "Full daily run at 200 households: 150.0 s (target < 180 s: met)" in text
    assert "Incremental day at 200 households: 45.0 s (target < 20 s: NOT met; " \
           "the first target, < 60 s: met)" in text
    assert "2,100 MB (target < 2,048 MB: NOT met)" in text
    assert "×1.50 time (target ≤ ×2.20: met)" in text  # 100 → 150 s for twice the data
    assert "1,000 rows/s = 33% of it (target ≥ 25%: met)" in text  # the raw-text ceiling
    assert "ours = 67% of it (target ≥ 50%: met)" in text  # like for like
    assert "(normalising as we do): 1000.0 s against our 100.0 s: ours is ×10.0 faster " \
           "(target ≥ ×5: met)" in text
    assert "30.0 s over 20 task processes = 12.5% of task time" in text and "(target < 10%: NOT met)" in text
    assert "a cold interpreter takes 3.1 s" in text


def test_before_and_after_compares_the_same_scales(tmp_path: Path) -> None:
    before, after = _scale(100, 300.0, 90.0, 4_000), _scale(100, 200.0, 40.0, 1_800)
    write_report([after], tmp_path / "bench.md", previous=[before, _scale(50, 1.0, 1.0, 1)])
    text = (tmp_path / "bench.md").read_text("utf-8")
    assert "| 100 | 300.0 → 200.0 | 4000 → 1800 | 90.0 → 40.0 |" in text
    assert "| 50 |" not in text
