"""Progress as on-call reads it (issue 18, item 4), on a generated deployment.

* a whole run's progress lines come from the ``safetynet`` logger at INFO, and every
  count names what it counts; each rule's line gives its cases and the detail rows
  they came from, and the cases are the rule's cases of the day;
* under Airflow (``airflow dags test``) the same lines are INFO records of the
  ``safetynet`` logger in the task log, not ``task.stderr`` at ERROR level;
* the manifest's ``generated_at`` is local time with its offset.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from safetynet import pipeline
from safetynet.config import load_config
from safetynet.warehouse.engine import get_engine

pytestmark = pytest.mark.integration

D = "2026-11-20"
FINISH = re.compile(r"^(?P<name>.+): (?P<summary>.+) in \d+\.\ds$")
RULE = re.compile(r"^rule (R\d\d): ([\d,]+) cases from ([\d,]+) detail rows in \d+\.\ds$")


def _number(text_: str) -> int:
    return int(text_.replace(",", ""))


@pytest.mark.slow
def test_a_run_logs_progress_at_info_and_each_rule_counts_its_cases(
        deployment: Callable[..., Path], tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    config = deployment(tmp_path)
    with caplog.at_level(logging.INFO, logger="safetynet"):
        pipeline.run(D, config)
    progress = [r for r in caplog.records if r.pathname.endswith("progress.py")]
    assert progress and {(r.name, r.levelno) for r in progress} == {("safetynet", logging.INFO)}
    finished = [m for m in (r.getMessage() for r in progress) if not m.endswith(" ...")]
    for line in finished:
        found = FINISH.match(line)
        assert found, line
        summary = found["summary"]
        assert summary == "done" or re.search(r"[\d,]+ [a-z]", summary), f"a count without its unit: {line}"

    rules = {m[1]: (_number(m[2]), _number(m[3])) for m in map(RULE.match, finished) if m}
    with get_engine(load_config(config).warehouse_url).connect() as conn:
        cases = dict(conn.execute(text(
            "SELECT rule_code, COUNT(*) FROM mart_case_day WHERE report_date = :d "
            "AND status IN ('NEW', 'OPEN') GROUP BY rule_code"), {"d": D}).all())
    assert set(rules) == {f"R{n:02d}" for n in range(1, 11)} | set(cases), sorted(rules)
    for code, (n_cases, n_rows) in rules.items():
        assert n_cases == cases.get(code, 0), (code, n_cases, cases.get(code))
        assert n_rows >= n_cases  # a case comes from one detail row or more
    assert any(rows > n for n, rows in rules.values()), "no rule has more rows than cases: vacuous"

    manifest = json.loads((config.parent / "outbox" / D / "manifest.json").read_text("utf-8"))
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00", manifest["generated_at"]), manifest


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_under_airflow_progress_is_an_info_record_of_the_safetynet_logger(
        deployment: Callable[..., Path], tmp_path: Path) -> None:
    from safetynet.orchestration.environment import airflow_environment, run_airflow

    config = deployment(tmp_path, households=200)
    env = airflow_environment(config, tmp_path / "airflow")
    log = tmp_path / "airflow.log"
    assert run_airflow(["db", "migrate"], env, log, timeout=300).returncode == 0, log.read_text()[-2000:]
    result = run_airflow(["dags", "test", "ingest_water", D], env, log, timeout=300)
    assert result.returncode == 0, log.read_text()[-3000:]
    lines = log.read_text("utf-8", errors="replace").splitlines()
    ours = [ln for ln in lines if re.search(r"\b(extract|load) water\b", ln)]
    finish = [ln for ln in ours if re.search(r"load water: [\d,]+ rows loaded in", ln)]
    assert finish, "\n".join(lines[-40:])
    assert re.search(r"extract water SS_\d{6}\.txt: [\d,]+ rows read: [\d,]+ staged, [\d,]+ quarantined, "
                     r"[\d,]+ duplicates in", "\n".join(ours)), "\n".join(ours)
    for line in ours:
        assert "[info" in line and "[safetynet]" in line, line
        assert "error" not in line.lower() and "task.stderr" not in line, line
