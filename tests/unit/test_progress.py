"""Progress lines (issue 18, item 4): the ``safetynet`` logger at INFO, each count naming its unit.

Inside Airflow a task's stderr is logged at ERROR level, so progress printed there read
as errors; these lines go through logging. And a count says what it counts:
``rule R06: 50 cases from 229 detail rows``, never ``229 rows`` for 50 cases.
"""

from __future__ import annotations

import ast
import io
import logging
import re
from pathlib import Path

import pytest

from safetynet.progress import stage

PACKAGE = Path(__file__).resolve().parents[2] / "include" / "safetynet"
FINISH = re.compile(r"^(?P<name>.+): (?P<summary>.+) in \d+\.\ds$")


def test_progress_goes_to_the_safetynet_logger_at_info_not_to_stderr(
        caplog: pytest.LogCaptureFixture) -> None:
    stream = io.StringIO()  # not a terminal: plain lines, no bar
    with caplog.at_level(logging.DEBUG, logger="safetynet"):
        with stage("load water", stream=stream, unit="rows loaded") as st:
            st.advance(1200)
            st.advance(34)
        with stage("rule R06", stream=stream, unit="detail rows") as st:
            st.advance(229)
            st.result = "50 cases from 229 detail rows"
    assert stream.getvalue() == ""  # nothing printed beside the logger
    records = [r for r in caplog.records if r.name == "safetynet"]
    assert {r.levelno for r in records} == {logging.INFO}
    lines = [r.getMessage() for r in records]
    assert lines[0] == "load water ..."
    assert re.fullmatch(r"load water: 1,234 rows loaded in \d+\.\ds", lines[1]), lines[1]
    assert re.fullmatch(r"rule R06: 50 cases from 229 detail rows in \d+\.\ds", lines[3]), lines[3]


def test_a_stage_that_fails_reports_no_finish_line(caplog: pytest.LogCaptureFixture) -> None:
    with (caplog.at_level(logging.INFO, logger="safetynet"), pytest.raises(ValueError),
          stage("extract water SS_202611.txt", stream=io.StringIO(), unit="rows read") as st):
        st.advance(10)
        raise ValueError("bad file")
    assert [r.getMessage() for r in caplog.records] == ["extract water SS_202611.txt ..."]


def test_without_any_logging_configured_the_lines_are_printed() -> None:
    """A plain ``python -m …`` (no handlers anywhere) still shows its progress on the stream."""
    import subprocess
    import sys

    code = ("import io, sys\nfrom safetynet.progress import stage\n"
            "with stage('generate: personnel', unit='staff, cadre and relative records') as st:\n"
            "    st.advance(7)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          check=True)
    assert done.stderr.splitlines()[0] == "[safetynet] generate: personnel ..."
    assert re.fullmatch(r"\[safetynet\] generate: personnel: 7 staff, cadre and relative records in \d+\.\ds",
                        done.stderr.splitlines()[1])


def test_every_counting_stage_in_the_package_names_its_unit() -> None:
    """Each ``with stage(...) as st`` in the package passes ``unit=``: its count says what it counts."""
    missing = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if not isinstance(node, ast.With):
                continue
            for item in node.items:
                call = item.context_expr
                if (isinstance(call, ast.Call) and getattr(call.func, "id", None) == "stage"
                        and item.optional_vars is not None
                        and not any(k.arg == "unit" for k in call.keywords)):
                    missing.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert missing == [], f"stages counting without a unit: {missing}"
