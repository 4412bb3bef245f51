"""Validation reports: self-contained (they open offline), escaped, one index over every batch."""

from __future__ import annotations

import re
from pathlib import Path

from safetynet.validation.docs import write_batch_docs

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def _result(item: str, outcome: str, observed: str = "0 of 10 unexpected") -> dict:
    return {"item": item, "expectation": "expect_column_values_to_be_in_set", "column": "use",
            "level": "row", "outcome": outcome, "observed": observed, "expected": "in {住宅}",
            "unexpected_count": 1}


def test_reports_are_escaped_offline_and_listed_in_one_index(tmp_path: Path) -> None:
    root = tmp_path / "data_docs"
    page = write_batch_docs(root, "property", "2026-11-20",
                            [_result("BDC_QLR_20261120.xlsx", "quarantined", f"1 of 10, e.g. {HOSTILE}")])
    write_batch_docs(root, "water", "2026-11-21", [_result("SS_202610.txt", "passed")])
    write_batch_docs(root, "property", "2026-11-21", [_result("BDC_QLR_20261121.xlsx", "rejected")])
    html = page.read_text("utf-8")
    assert "<script" not in html and "<img" not in html and "&lt;script&gt;" in html
    index = (root / "index.html").read_text("utf-8")
    for text in (html, index):
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", text)  # nothing from the network
    links = re.findall(r'href="([^"]+)"', index)
    assert links == ["property/2026-11-21/index.html", "water/2026-11-21/index.html",
                     "property/2026-11-20/index.html"]  # newest first, every source
    assert all((root / link).is_file() for link in links)
    write_batch_docs(root, "property", "2026-11-20", [_result("BDC_QLR_20261120.xlsx", "passed")])
    assert len(re.findall(r'href="', (root / "index.html").read_text("utf-8"))) == 3  # replaced, not added
