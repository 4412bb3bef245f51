"""The runbook as written: every documented command is run here and does what the text says.

``docs/runbook.md`` and README's operations and command-line parts are read
(``doc_commands``); :data:`RUN_BY` says which test runs each command, and
``test_every_documented_command_is_run_by_a_test`` fails when a command is added to the
docs without one (or a test's command is no longer in the docs). Each test runs the
documented text itself (:meth:`Ops.doc` refuses a command the docs do not hold),
placeholders such as ``<dag_id>`` filled in.

The Airflow commands run against a generated deployment (200 households) on a real local
Airflow: API server, scheduler (LocalExecutor) and triggerer on a SQLite metadata
database, as ``make demo`` and ``airflow standalone`` run it, with the publish deadline
on and alerts mailed to a local SMTP server. The scheduler creates no runs from the
schedules, so the only runs are the ones made here, shaped like production's:

* ``ingest_water`` for report dates 2026-11-05 (succeeds) and 2026-11-06 (a bad file:
  ``extract`` fails, the alert is recorded and mailed);
* ``ingest_electricity`` for 2026-11-05 whose ``.ok`` marker is missing: its sensor waits
  and is then failed as a time-out would fail it;
* ``daily_report`` for 2026-11-20 and 2026-11-21, at their 06:30 logical dates.

Then the clears must re-run exactly the documented tasks of exactly the documented days
(the try numbers say so), never a neighbouring day; the anchored ``-t '^extract$'`` the
runbook warns about must clear nothing; a re-run or back-fill must not create a deadline
nor record a ``DeadlineMissed``; the back-fill commands are checked with ``--dry-run``,
and the one-day back-fill for a day without a run is really run. The ``safetynet``
commands run on a deployment made by ``safetynet generate``; the SSH key commands on keys
made here; ``docker compose`` ones (no Docker daemon here) against ``docker-compose.yml``.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.integration.conftest import SmtpSink
from tests.integration.doc_commands import (
    REPO,
    RUNBOOK,
    Documented,
    abbreviation_matches,
    documented_commands,
)

from safetynet.orchestration.environment import airflow_environment, run_airflow
from safetynet.orchestration.stack import LocalAirflow, local_airflow

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(1500)]

VENV_BIN = REPO / ".venv" / "bin"
DAY5 = "-s 2026-11-05T00:00:00+08:00 -e 2026-11-05T23:59:59+08:00"
DAY20 = "-s 2026-11-20T00:00:00+08:00 -e 2026-11-20T23:59:59+08:00"
TRIGGER_WATCHED = """airflow dags trigger daily_report --conf '{"deadline_alert": true}'"""
CLEAR_EXTRACT = f"airflow tasks clear ingest_water -t extract -d {DAY5} -y"
CLEAR_FAILED = ("airflow tasks clear ingest_water -f -s 2026-11-01T00:00:00+08:00 "
                "-e 2026-11-07T23:59:59+08:00 -y")
CLEAR_SENSOR = f"airflow tasks clear ingest_electricity -t wait_for_delivery -d {DAY5} -y"
LIST_DAY = f"airflow dags list-runs daily_report {DAY20}"
CLEAR_DAY = f"airflow tasks clear daily_report {DAY20} -y"
CLEAR_PUBLISH = f"airflow tasks clear daily_report -t publish {DAY20} -y"
BACKFILL_DAY = ("airflow backfill create --dag-id daily_report --from-date 2026-11-02 --to-date 2026-11-03 "
                "--max-active-runs 1")
BACKFILL = ("airflow backfill create --dag-id daily_report --from-date 2026-11-01 --to-date 2026-11-07 "
            "--max-active-runs 1")
BACKFILL_DRY = f"{BACKFILL} --dry-run"
BACKFILL_REDO = f"{BACKFILL} --reprocess-behavior completed"
SN_GENERATE = ".venv/bin/safetynet generate --out DIR [--households N] [--seed S] [--date D] [--force]"
SN_RUN_SOURCE = ".venv/bin/safetynet run --date YYYY-MM-DD --source S [--config FILE]"
SN_CHECK = ".venv/bin/safetynet check-config [--config FILE]"
SN_RUN = ".venv/bin/safetynet run --date YYYY-MM-DD [--config FILE]"
SN_STATUS = ".venv/bin/safetynet status [--config FILE]"
SN_ACCEPT = ".venv/bin/safetynet accept --source S --item I [--config FILE]"
SN_ROLES = ".venv/bin/safetynet roles [--config FILE]"
SN_RUN_OPT = "safetynet run --date 2026-11-20 --config /opt/airflow/config/safetynet.yaml"

# Every documented command -> the test that runs it. A command in the docs that is not here
# fails test_every_documented_command_is_run_by_a_test; so does an entry the docs no longer hold.
RUN_BY: dict[str, str] = {
    # docs/runbook.md: alerts
    TRIGGER_WATCHED: "test_a_manual_run_asked_to_carry_the_deadline_gets_it",
    # triage
    "airflow dags list-runs <dag_id> --state failed": "test_triage_names_the_failed_run_and_task",
    "airflow tasks states-for-dag-run <dag_id> <run_id>": "test_triage_names_the_failed_run_and_task",
    # re-run a task or a day
    CLEAR_EXTRACT: "test_clear_one_task_and_what_depends_on_it",
    CLEAR_FAILED: "test_clear_only_what_failed",
    CLEAR_SENSOR: "test_clear_a_timed_out_sensor_once_the_file_is_there",
    LIST_DAY: "test_run_a_days_report_again",
    CLEAR_DAY: "test_run_a_days_report_again",
    "airflow dags trigger daily_report --logical-date <that day>": "test_run_a_days_report_again",
    "airflow dags test": "test_dags_test_is_no_way_to_rerun_a_day",
    BACKFILL_DAY: "test_a_day_without_a_run_is_back_filled",
    # back-fill a date range
    BACKFILL_DRY: "test_backfill_range_commands",
    BACKFILL: "test_backfill_range_commands",
    BACKFILL_REDO: "test_backfill_range_commands",
    "airflow dags list-runs daily_report": "test_a_day_without_a_run_is_back_filled",
    # re-publish
    CLEAR_PUBLISH: "test_republish_an_extract",
    # add a source
    "airflow dags unpause ingest_<name>": "test_unpause_lets_the_scheduler_run_a_dag",
    # the safetynet command line (runbook and README)
    "safetynet run": "test_the_safetynet_command_line",  # named in the Refusals table
    "safetynet status": "test_the_safetynet_command_line",
    "safetynet accept --source <source> --item <item>": "test_the_safetynet_command_line",
    "safetynet run --date <earlier day>": "test_the_safetynet_command_line",
    SN_RUN_OPT: "test_the_safetynet_command_line",
    "safetynet roles --config …": "test_safetynet_roles_on_postgresql",
    SN_GENERATE: "test_the_safetynet_command_line",
    SN_RUN: "test_the_safetynet_command_line",
    SN_RUN_SOURCE: "test_the_safetynet_command_line",
    SN_CHECK: "test_the_safetynet_command_line",
    SN_STATUS: "test_the_safetynet_command_line",
    SN_ACCEPT: "test_the_safetynet_command_line",
    SN_ROLES: "test_safetynet_roles_on_postgresql",
    # rotate an SFTP key
    'ssh-keygen -t ed25519 -N "" -C safetynet-$(date +%Y%m) -f safetynet_ed25519_new':
        "test_sftp_key_rotation_commands",
    "ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub": "test_sftp_key_rotation_commands",
    "cut -d' ' -f1,2 config/sftp/ssh_host_ed25519_key.pub": "test_sftp_key_rotation_commands",
    # the compose stack (no Docker daemon on the test machine: checked against the file)
    "docker compose exec airflow-scheduler airflow …": "test_compose_commands_name_what_the_stack_has",
    "docker compose up -d": "test_compose_commands_name_what_the_stack_has",
    # README: the Airflow UI on the demo
    "export AIRFLOW_HOME=$PWD/demo/airflow SAFETYNET_CONFIG=$PWD/demo/config.yaml":
        "test_demo_ui.py::test_task_logs_of_every_demo_run_are_shown_in_the_ui",
    "PATH=$PWD/.venv/bin:$PATH airflow standalone":
        "test_demo_ui.py::test_task_logs_of_every_demo_run_are_shown_in_the_ui",
}
"""Every documented command -> the test that runs it."""

_DOCUMENTED = {d.command for d in documented_commands()}


# --------------------------------------------------------------------------- the registry


def test_every_documented_command_is_run_by_a_test() -> None:
    """A command in the docs without a test, or a test of a command the docs dropped, fails here."""
    documented = documented_commands()
    untested: list[Documented] = [
        d for d in documented
        if d.command not in RUN_BY and not ("…" in d.command and any(
            abbreviation_matches(d.command, known) for known in RUN_BY))
    ]
    assert not untested, "documented commands no test runs (add a test and list it in RUN_BY):\n" + "\n".join(
        f"  {d.where()}: {d.command}" for d in untested)
    stale = sorted(set(RUN_BY) - _DOCUMENTED)
    assert not stale, f"RUN_BY lists commands the docs no longer hold: {stale}"
    here = Path(__file__).read_text(encoding="utf-8")
    for test in set(RUN_BY.values()):
        module, _, name = test.rpartition("::")
        source = (Path(__file__).with_name(module).read_text(encoding="utf-8") if module else here)
        assert f"def {name}(" in source, f"RUN_BY names {test}, which does not exist"


def test_the_registry_reads_the_docs() -> None:
    """The extraction itself: fenced blocks, continuation lines, comments and inline commands."""
    commands = {d.command: d for d in documented_commands()}
    continued = BACKFILL_REDO
    assert commands[continued].fenced and commands[continued].path == RUNBOOK  # "\" joined, "# …" dropped
    assert not commands["airflow dags unpause ingest_<name>"].fenced
    assert "safetynet.yaml" not in commands and "docker-compose.yml" not in commands
    assert not [c for c in commands if c.startswith("make ")], "the README's top block is make test's own"


# --------------------------------------------------------------------------- the local Airflow


@dataclass
class Ops:
    """The on-call engineer's shell: a configured Airflow CLI next to a running scheduler."""

    stack: LocalAirflow
    config: Path
    home: Path
    work: Path
    smtp: SmtpSink

    def doc(self, command: str, **fill: str) -> str:
        """The documented ``command`` with its placeholders filled (it must be in the docs as is)."""
        assert command in _DOCUMENTED, f"not a command of the docs (edited?): {command}"
        for placeholder, value in fill.items():
            command = command.replace(placeholder, value)
        return command

    def sh(self, command: str, *, check: bool = True,
           timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """Run one shell command as on-call would, in this Airflow's environment."""
        env = dict(self.stack.env)
        env["PATH"] = f"{VENV_BIN}:{env.get('PATH', '')}"
        result = subprocess.run(["bash", "-c", command], env=env, cwd=self.work, capture_output=True,
                                text=True, timeout=timeout, check=False)
        with (self.stack.logs / "commands.log").open("a", encoding="utf-8") as log:
            log.write(f"$ {command}\n{result.stdout}{result.stderr}\n(exit {result.returncode})\n")
        if check:
            assert result.returncode == 0, f"{command}\nexit {result.returncode}:\n{result.stderr[-3000:]}"
        return result

    def tries(self, dag_id: str, run_id: str) -> dict[str, tuple[str | None, int]]:
        """Each task's (state, try number) in one run."""
        return {ti["task_id"]: (ti["state"], int(ti["try_number"]))
                for ti in self.stack.task_instances(dag_id, run_id)}

    def trigger(self, dag_id: str, run_id: str, logical: datetime, *, expect: str = "success") -> None:
        """Trigger a manual run at ``logical`` and wait until it ends in the ``expect``-ed state."""
        self.stack.trigger(dag_id, run_id, logical)
        state = self.stack.wait_for_run(dag_id, run_id, timeout=600)
        assert state == expect, f"{dag_id} {run_id} ended {state}: {self.tries(dag_id, run_id)}"

    def deadlines(self) -> list[tuple[str, str, int]]:
        """(run id, deadline time, missed) of every deadline Airflow holds."""
        with sqlite3.connect(self.home / "airflow.db") as db:
            return [tuple(r) for r in db.execute(  # type: ignore[misc]
                "SELECT r.run_id, d.deadline_time, d.missed FROM deadline d "
                "JOIN dag_run r ON r.id = d.dagrun_id")]

    def failures(self) -> list[dict[str, Any]]:
        """Rows of the warehouse's ``meta_task_failure``."""
        return _warehouse_rows(self.config, "SELECT * FROM meta_task_failure")


def _warehouse_rows(config: Path, sql: str) -> list[dict[str, Any]]:
    from sqlalchemy import text

    from safetynet.config import load_config
    from safetynet.warehouse.engine import get_engine, migrate

    engine = get_engine(load_config(config).warehouse_url)
    migrate(engine)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(text(sql)).mappings()]


def _utc(text: str) -> datetime:
    """An ISO timestamp as an aware UTC datetime."""
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.fixture(scope="module")
def ops(deployment: Callable[..., Path], smtp_module: SmtpSink,
        tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ops]:
    """The local Airflow with the runs the runbook's commands work on (see the module docstring)."""
    base = tmp_path_factory.mktemp("runbook")
    config = deployment(base, households=200)
    home = base / "airflow"
    env = airflow_environment(config, home, deadline=True)
    env.update({"AIRFLOW_CONN_SMTP_DEFAULT": smtp_module.connection(),
                "SAFETYNET_ALERT_EMAIL_TO": "oncall@example.org"})
    logs = base / "logs"
    for args in (["db", "migrate"], ["dags", "reserialize"]):
        result = run_airflow(args, env, logs / "setup.log", timeout=600)
        assert result.returncode == 0, (logs / "setup.log").read_text()[-3000:]
    work = base / "work"
    work.mkdir()
    drop = config.parent / "drop"
    with local_airflow(env, logs, components=("api-server", "scheduler", "triggerer")) as stack:
        on_call = Ops(stack, config, home, work, smtp_module)
        on_call.sh(on_call.doc("airflow dags unpause ingest_<name>", **{"<name>": "water"}))
        stack.set_paused(["ingest_electricity", "daily_report"], False)

        # ingest_water: report date 2026-11-05 (04:30 local = 20:30Z the day before) succeeds; 2026-11-06
        # meets a bad delivery (SS_202509.txt without its holder column) and fails in extract. Then the
        # department withdraws it.
        on_call.trigger("ingest_water", "w_1105", _utc("2026-11-04T20:30:00+00:00"))
        bad = drop / "water" / "SS_202509.txt"
        shutil.copy(config.parent / "extras" / "bad" / "water" / bad.name, bad)
        bad.with_name(bad.name + ".ok").touch()
        on_call.trigger("ingest_water", "w_1106", _utc("2026-11-05T20:30:00+00:00"), expect="failed")
        bad.unlink()
        bad.with_name(bad.name + ".ok").unlink()

        # ingest_electricity for 2026-11-05 without its .ok marker: the sensor waits (reschedule), then
        # fails as its time-out would (3 days in production). Then the marker comes.
        marker = drop / "power" / "DL_202610.csv.ok"
        marker.rename(marker.with_suffix(".held"))
        stack.trigger("ingest_electricity", "e_1105", _utc("2026-11-04T20:00:00+00:00"))
        deadline = time.monotonic() + 300
        while on_call.tries("ingest_electricity", "e_1105").get("wait_for_delivery", (None, 0))[0] \
                != "up_for_reschedule":
            assert time.monotonic() < deadline, on_call.tries("ingest_electricity", "e_1105")
            time.sleep(1)
        stack.request("PATCH", "/dags/ingest_electricity/dagRuns/e_1105/taskInstances/wait_for_delivery",
                      {"new_state": "failed"})
        assert stack.wait_for_run("ingest_electricity", "e_1105", timeout=300) == "failed"
        marker.with_suffix(".held").rename(marker)

        # daily_report at its 06:30 logical dates: report dates 2026-11-20 and 2026-11-21.
        on_call.trigger("daily_report", "r_1120", _utc("2026-11-19T22:30:00+00:00"))
        on_call.trigger("daily_report", "r_1121", _utc("2026-11-20T22:30:00+00:00"))
        yield on_call


# --------------------------------------------------------------------------- triage


def test_unpause_lets_the_scheduler_run_a_dag(ops: Ops) -> None:
    """``airflow dags unpause ingest_<name>`` (run in the fixture) is what let its runs above run."""
    dag = ops.stack.request("GET", "/dags/ingest_water")
    assert dag["is_paused"] is False
    assert ops.stack.run_state("ingest_water", "w_1105") == "success"


def test_triage_names_the_failed_run_and_task(ops: Ops) -> None:
    failed = ops.sh(ops.doc("airflow dags list-runs <dag_id> --state failed", **{"<dag_id>": "ingest_water"}))
    assert "w_1106" in failed.stdout and "w_1105" not in failed.stdout, failed.stdout
    states = ops.sh(ops.doc("airflow tasks states-for-dag-run <dag_id> <run_id>",
                            **{"<dag_id>": "ingest_water", "<run_id>": "w_1106"})).stdout
    assert re.search(r"\bextract\s*\|\s*failed\b", states), states
    assert re.search(r"\bload\s*\|\s*upstream_failed\b", states), states
    # The alert the triage starts from: recorded in meta_task_failure (the runbook's SQL) and mailed.
    for sql in _runbook_sql():
        _warehouse_rows(ops.config, sql)  # every documented query runs on the warehouse
    recent = _warehouse_rows(ops.config, _runbook_sql()[0])
    assert ("ingest_water", "extract", "w_1106", "DeliveryError") in {
        (r["dag_id"], r["task_id"], r["run_id"], r["error_class"]) for r in recent}
    water = [r for r in _warehouse_rows(ops.config, _runbook_sql()[1]) if r["source"] == "water"]
    assert water and "SS_202509.txt" in str(water[0]["last_error"])
    mails = ops.smtp.wait_for(1, timeout=30)
    assert any("ingest_water" in str(m["Subject"]) and "w_1106" in str(m["Subject"]) for m in mails), \
        [m["Subject"] for m in mails]


def _runbook_sql() -> list[str]:
    """The statements of the runbook's ```sql block."""
    text = RUNBOOK.read_text(encoding="utf-8")
    block = text[text.index("```sql") + len("```sql"):]
    block = block[: block.index("```")]
    lines = [line for line in block.splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


# --------------------------------------------------------------------------- re-run a task or a day


def _wait(ops: Ops, dag_id: str, run_id: str) -> dict[str, tuple[str | None, int]]:
    """Wait for a run to end; it must succeed. Its tasks' (state, try number)."""
    state = ops.stack.wait_for_run(dag_id, run_id, timeout=600)
    tries = ops.tries(dag_id, run_id)
    assert state == "success", f"{dag_id} {run_id} ended {state}: {tries}"
    return tries


def test_clear_one_task_and_what_depends_on_it(ops: Ops) -> None:
    command = ops.doc(CLEAR_EXTRACT)
    before = ops.tries("ingest_water", "w_1105")
    neighbour = ops.tries("ingest_water", "w_1106")

    # The trap the runbook warns about: -t is a substring, so an anchored pattern matches nothing.
    anchored = ops.sh(command.replace("-t extract", "-t '^extract$'"))
    assert anchored.returncode == 0
    assert ops.tries("ingest_water", "w_1105") == before, "an anchored -t cleared something"

    ops.sh(command)
    after = _wait(ops, "ingest_water", "w_1105")
    for task in ("extract", "validate", "load"):
        assert after[task] == ("success", before[task][1] + 1), (task, before, after)
    assert after["wait_for_delivery"] == before["wait_for_delivery"], "the sensor is upstream: not cleared"
    assert ops.tries("ingest_water", "w_1106") == neighbour, "the next day's run was touched"


def test_clear_only_what_failed(ops: Ops) -> None:
    before = ops.tries("ingest_water", "w_1106")
    assert before["extract"][0] == "failed" and before["load"][0] == "upstream_failed", before
    good_day = ops.tries("ingest_water", "w_1105")
    ops.sh(ops.doc(CLEAR_FAILED))
    after = _wait(ops, "ingest_water", "w_1106")  # the bad file is withdrawn: nothing stops it now
    assert after["extract"] == ("success", before["extract"][1] + 1)
    assert after["wait_for_delivery"] == before["wait_for_delivery"], "it had succeeded: not cleared"
    assert ops.tries("ingest_water", "w_1105") == good_day, "a run without a failure was cleared"


def test_clear_a_timed_out_sensor_once_the_file_is_there(ops: Ops) -> None:
    before = ops.tries("ingest_electricity", "e_1105")
    assert before["wait_for_delivery"][0] == "failed", before
    ops.sh(ops.doc(CLEAR_SENSOR))
    after = _wait(ops, "ingest_electricity", "e_1105")
    assert after["wait_for_delivery"] == ("success", before["wait_for_delivery"][1] + 1)
    assert after["load"][0] == "success"


def test_run_a_days_report_again(ops: Ops) -> None:
    from safetynet.config import load_config

    listed = ops.sh(ops.doc(LIST_DAY)).stdout
    assert "r_1120" in listed and "r_1121" not in listed, listed

    # Why not trigger: the day's logical date has its run, and Airflow keeps one run per date.
    collides = ops.sh(ops.doc("airflow dags trigger daily_report --logical-date <that day>",
                              **{"<that day>": "2026-11-19T22:30:00+00:00"}), check=False)
    said = collides.stdout + collides.stderr
    assert collides.returncode != 0 and "IntegrityError" in said, said[-2000:]
    assert re.search(r"dag_run_dag_id_logical_date_key|dag_run\.dag_id, dag_run\.logical_date", said)

    folder = Path(load_config(ops.config).outbox) / "2026-11-20"
    csv_before = (folder / "mismatches_20261120.csv").read_bytes()
    published_before = (folder / "_SUCCESS").stat().st_mtime_ns
    before, neighbour = ops.tries("daily_report", "r_1120"), ops.tries("daily_report", "r_1121")
    ops.sh(ops.doc(CLEAR_DAY))
    after = _wait(ops, "daily_report", "r_1120")
    assert after == {t: ("success", n + 1) for t, (_, n) in before.items()}, (before, after)
    assert ops.tries("daily_report", "r_1121") == neighbour
    assert (folder / "_SUCCESS").stat().st_mtime_ns > published_before, "not published again"
    assert (folder / "mismatches_20261120.csv").read_bytes() == csv_before, "same inputs, same cases"
    # No run here carries a deadline (manual runs), and clearing creates none: no alert either.
    assert not [d for d in ops.deadlines() if d[0] in ("r_1120", "r_1121")]
    assert not [r for r in ops.failures() if r["error_class"] == "DeadlineMissed"]


def test_republish_an_extract(ops: Ops) -> None:
    from safetynet.config import load_config

    folder = Path(load_config(ops.config).outbox) / "2026-11-20"
    published_before = (folder / "_SUCCESS").stat().st_mtime_ns
    before = ops.tries("daily_report", "r_1120")
    ops.sh(ops.doc(CLEAR_PUBLISH))
    after = _wait(ops, "daily_report", "r_1120")
    assert after["publish"] == ("success", before["publish"][1] + 1)
    assert after["evaluate"] == before["evaluate"], "re-publishing does not evaluate again"
    assert (folder / "_SUCCESS").stat().st_mtime_ns > published_before


def test_a_day_without_a_run_is_back_filled(ops: Ops) -> None:
    from safetynet.config import load_config

    logical = _utc("2026-11-02T22:30:00+00:00")  # the 06:30 run of report date 2026-11-03
    assert ops.stack.runs_at("daily_report", logical) == []
    ops.sh(ops.doc(BACKFILL_DAY))
    (run,) = ops.stack.runs_at("daily_report", logical)
    assert run["run_type"] == "backfill", run
    _wait(ops, "daily_report", run["dag_run_id"])
    assert (Path(load_config(ops.config).outbox) / "2026-11-03" / "_SUCCESS").is_file()
    assert not [d for d in ops.deadlines() if d[0] == run["dag_run_id"]], "a back-fill carries no deadline"
    assert not [r for r in ops.failures() if r["error_class"] == "DeadlineMissed"]
    listed = ops.sh(ops.doc("airflow dags list-runs daily_report")).stdout
    assert run["dag_run_id"] in listed and "backfill" in listed


def _dry_run_dates(output: str) -> list[datetime]:
    """The logical dates a ``backfill create --dry-run`` lists under "Runs to be attempted"."""
    assert "Runs to be attempted:" in output, output
    table = output[output.index("Runs to be attempted:"):]
    found = re.findall(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d\+00:00", table)
    return sorted({datetime.fromisoformat(t.replace(" ", "T")) for t in found})


def test_backfill_range_commands(ops: Ops) -> None:
    """The range's three commands, each checked by what ``--dry-run`` says it would create.

    The window 2026-11-01 … 2026-11-07 holds the 06:30 runs of the report dates 2026-11-02 …
    2026-11-07 (22:30 UTC the day before). A day that already has a run (2026-11-03, back-filled
    above, or made here) is skipped unless ``--reprocess-behavior completed``.
    """
    done = _utc("2026-11-02T22:30:00+00:00")
    if not ops.stack.runs_at("daily_report", done):
        ops.sh(ops.doc(BACKFILL_DAY))
        (run,) = ops.stack.runs_at("daily_report", done)
        _wait(ops, "daily_report", run["dag_run_id"])
    window = [datetime(2026, 11, d, 22, 30, tzinfo=UTC) for d in range(1, 7)]
    report_dates = [(t + timedelta(hours=8)).date() for t in window]
    assert report_dates == [date(2026, 11, d) for d in range(2, 8)], "what the runbook says they are"
    runs_before = len(ops.stack.request("GET", "/dags/daily_report/dagRuns")["dag_runs"])

    dry = ops.sh(ops.doc(BACKFILL_DRY)).stdout
    assert _dry_run_dates(dry) == [t for t in window if t != done], dry
    create = ops.doc(BACKFILL)
    assert _dry_run_dates(ops.sh(create + " --dry-run").stdout) == [t for t in window if t != done]
    redo = ops.doc(BACKFILL_REDO)
    assert _dry_run_dates(ops.sh(redo + " --dry-run").stdout) == window, "a succeeded day is run again"
    assert len(ops.stack.request("GET", "/dags/daily_report/dagRuns")["dag_runs"]) == runs_before, \
        "a dry run created runs"


def test_a_manual_run_asked_to_carry_the_deadline_gets_it(ops: Ops) -> None:
    """The documented trigger makes a run (for today) with a deadline: 2 h from when it was triggered."""
    before = {r["dag_run_id"] for r in ops.stack.request("GET", "/dags/daily_report/dagRuns")["dag_runs"]}
    ops.sh(ops.doc("""airflow dags trigger daily_report --conf '{"deadline_alert": true}'"""))
    (run,) = [r for r in ops.stack.request("GET", "/dags/daily_report/dagRuns")["dag_runs"]
              if r["dag_run_id"] not in before]
    assert run["logical_date"] is None and run["conf"] == {"deadline_alert": True}, run
    (deadline,) = [d for d in ops.deadlines() if d[0] == run["dag_run_id"]]
    due = datetime.fromisoformat(str(deadline[1])).replace(tzinfo=UTC)
    assert abs(due - (_utc(run["run_after"]) + timedelta(hours=2))) < timedelta(seconds=5), (deadline, run)
    _wait(ops, "daily_report", run["dag_run_id"])
    assert not [d for d in ops.deadlines() if d[0] == run["dag_run_id"]], "published in time: deadline gone"


def test_dags_test_is_no_way_to_rerun_a_day(ops: Ops) -> None:
    """The runbook on ``airflow dags test``: no task log for the UI, and with the deadline on it fails."""
    result = ops.sh(ops.doc("airflow dags test") + " daily_report 2026-11-21", check=False, timeout=600)
    assert result.returncode != 0, "airflow dags test of daily_report with its deadline on did not fail"
    said = result.stdout + result.stderr
    # Airflow 3.3.2 crashes in one of two places, depending on timing: after the tasks ran (a
    # traceback naming the publish task) or looking up the deadline alert (its SQL in the error).
    assert ("Traceback" in said and "task_id='publish'" in said) or "FROM deadline_alert" in said, \
        "it failed for another reason than the deadline"
    (run,) = ops.stack.runs_at("daily_report", _utc("2026-11-21T00:00:00+00:00"))
    # evaluate always runs inside the CLI: no log of it for the UI. When the CLI crashed at the
    # deadline lookup before publish, the stack's running scheduler may finish the left-over run, and
    # that publish try has a log like any scheduled one — so only evaluate's absence is asserted.
    logs = ops.home / "logs" / "dag_id=daily_report" / f"run_id={run['dag_run_id']}"
    assert not list(logs.glob("task_id=evaluate/**/*.log")), "dags test wrote task logs after all"


# --------------------------------------------------------------------------- the safetynet command line


def _synopsis(line: str, values: dict[str, str]) -> str:
    """A usage line with its ``[optional]`` brackets dropped and each option's placeholder filled."""
    tokens = line.replace("[", "").replace("]", "").split()
    filled = [tokens[0]]
    for previous, token in itertools.pairwise(tokens):
        filled.append(values[previous] if previous.startswith("--") and not token.startswith("--") else token)
    return " ".join(filled)


def test_the_safetynet_command_line(tmp_path: Path) -> None:
    """README's ``.venv/bin/safetynet …`` lines and the runbook's ``safetynet …``, on a new deployment."""
    out = tmp_path / "deployment"
    values = {"--out": str(out), "--households": "60", "--seed": "3", "--date": "2026-11-20",
              "--config": str(out / "config.yaml"), "--source": "personnel", "--item": "hr_relative"}

    def run(command: str, *, cwd: Path = REPO, expect: int = 0) -> str:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__")}
        env["PATH"] = f"{VENV_BIN}:{env.get('PATH', '')}"
        env["SAFETYNET_CONFIG"] = values["--config"]
        result = subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True,
                                timeout=600, check=False)
        assert result.returncode == expect, f"{command}: exit {result.returncode}\n{result.stderr[-3000:]}"
        return result.stdout + result.stderr

    def doc(command: str) -> str:
        assert command in _DOCUMENTED, f"not a command of the docs (edited?): {command}"
        return command

    run(_synopsis(doc(SN_GENERATE), values))
    config = Path(values["--config"])
    assert config.is_file() and (out / "expected_cases.json").is_file()
    assert "configuration ok" in run(_synopsis(doc(SN_CHECK), values))
    run(_synopsis(doc(SN_RUN_SOURCE), values))  # one source only: loaded, nothing published
    assert _warehouse_rows(config, "SELECT DISTINCT source FROM meta_load_log") == [{"source": "personnel"}]
    assert not (out / "outbox" / "2026-11-20").exists()
    run(_synopsis(doc(SN_RUN), values))
    extract = out / "outbox" / "2026-11-20" / "mismatches_20261120.csv"
    first = extract.read_bytes()
    assert (extract.parent / "_SUCCESS").is_file()

    # A back-fill of an earlier day never changes what a later day sees (runbook, "Refusals").
    run(doc("safetynet run --date <earlier day>").replace("<earlier day>", "2026-11-19"), cwd=tmp_path)
    assert (out / "outbox" / "2026-11-19" / "_SUCCESS").is_file()
    run(doc(SN_RUN_OPT).replace("/opt/airflow/config/safetynet.yaml", str(config)), cwd=tmp_path)
    assert extract.read_bytes() == first, "re-running the later day after the back-fill changed its cases"

    # Two full-read tables emptied at the source: both refused by the volume guard, each accepted by name.
    with sqlite3.connect(out / "sources" / "personnel.db") as db:
        db.execute("DELETE FROM hr_relative")
        db.execute("DELETE FROM hr_village_cadre")
    run(_synopsis(SN_RUN, {**values, "--date": "2026-11-21"}))
    status = run(_synopsis(doc(SN_STATUS), values))
    assert "hr_relative" in status and "hr_village_cadre" in status, status
    assert "hr_relative" in run(doc("safetynet status"), cwd=tmp_path)
    run(_synopsis(doc(SN_ACCEPT), values))
    run(doc("safetynet accept --source <source> --item <item>")
        .replace("<source>", "personnel").replace("<item>", "hr_village_cadre"), cwd=tmp_path)
    audit = _warehouse_rows(config, "SELECT detail FROM meta_audit WHERE action = 'delivery_accepted'")
    assert sorted(json.loads(r["detail"])["item"] for r in audit) == ["hr_relative", "hr_village_cadre"]


def test_safetynet_roles_on_postgresql(deployment: Callable[..., Path], pg_database: str,
                                       tmp_path: Path) -> None:
    """``safetynet roles`` (README and runbook) creates the three group roles on a PostgreSQL warehouse."""
    from sqlalchemy import create_engine, text

    config = deployment(tmp_path, households=50)
    raw = yaml.safe_load(config.read_text(encoding="utf-8"))
    raw["warehouse"] = pg_database
    config.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__")}
    env["PATH"] = f"{VENV_BIN}:{env.get('PATH', '')}"
    readme = _synopsis(SN_ROLES, {"--config": str(config)})
    runbook = "safetynet roles --config …".replace("…", str(config))
    assert {SN_ROLES, "safetynet roles --config …"} <= _DOCUMENTED
    for command, cwd in ((readme, REPO), (runbook, tmp_path)):  # the second run re-applies: safe
        result = subprocess.run(["bash", "-c", command], cwd=cwd, env=env, capture_output=True, text=True,
                                timeout=300, check=False)
        assert result.returncode == 0, result.stderr[-2000:]
    engine = create_engine(pg_database)
    with engine.connect() as conn:
        roles = {r[0] for r in conn.execute(text("SELECT rolname FROM pg_roles"))}
    engine.dispose()
    assert {"safetynet_loader", "safetynet_reporter", "safetynet_auditor"} <= roles


# --------------------------------------------------------------------------- SFTP keys and the compose stack


def test_sftp_key_rotation_commands(tmp_path: Path) -> None:
    """The new client key loads as the connection's key; the fingerprint and the pinned form match ours."""
    import paramiko

    from safetynet.transport.session import _load_host_keys, load_private_key
    from safetynet.transport.settings import SftpSettings

    def sh(command: str, **fill: str) -> str:
        assert command in _DOCUMENTED, f"not a command of the docs (edited?): {command}"
        for placeholder, value in fill.items():
            command = command.replace(placeholder, value)
        return subprocess.run(["bash", "-c", command], cwd=tmp_path, capture_output=True, text=True,
                              timeout=60, check=True).stdout

    sh('ssh-keygen -t ed25519 -N "" -C safetynet-$(date +%Y%m) -f safetynet_ed25519_new')
    private = (tmp_path / "safetynet_ed25519_new").read_text(encoding="utf-8")
    public = (tmp_path / "safetynet_ed25519_new.pub").read_text(encoding="utf-8")
    assert public.startswith("ssh-ed25519 ") and f"safetynet-{datetime.now():%Y%m}" in public
    key = load_private_key(SftpSettings(conn_id="dept_drop_sftp", host="h", port=22, login="u",
                                        private_key=private))
    assert key.get_base64() == public.split()[1], "extra.private_key takes the new key's PEM text"

    # The server's host key: the fingerprint ssh-keygen prints is the one a HostKeyError names
    # (paramiko's), and the cut line is what extra.host_key accepts.
    (tmp_path / "config" / "sftp").mkdir(parents=True)
    host = tmp_path / "config" / "sftp" / "ssh_host_ed25519_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(host)], check=True, timeout=60)
    shown = sh("ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub",
               **{"/etc/ssh/ssh_host_ed25519_key.pub": f"{host}.pub"})
    assert paramiko.Ed25519Key(filename=str(host)).fingerprint in shown, shown
    pinned = sh("cut -d' ' -f1,2 config/sftp/ssh_host_ed25519_key.pub").strip()
    assert pinned == " ".join(Path(f"{host}.pub").read_text(encoding="utf-8").split()[:2])
    client = paramiko.SSHClient()
    _load_host_keys(client, SftpSettings(conn_id="dept_drop_sftp", host="sftp", port=22, login="u",
                                         host_key=pinned))
    assert len(client.get_host_keys()) == 1


def test_compose_commands_name_what_the_stack_has() -> None:
    """The runbook's ``docker compose exec airflow-scheduler …`` and ``docker compose up -d`` fit the stack.

    No Docker daemon on the test machine: the service they name must exist and run Airflow,
    and the connections the runbook says live in ``.env`` must reach the components.
    """
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    assert "docker compose exec airflow-scheduler airflow …" in _DOCUMENTED
    assert "docker compose up -d" in _DOCUMENTED
    scheduler = compose["services"]["airflow-scheduler"]
    assert "scheduler" in str(scheduler.get("command", "")), scheduler
    text = (REPO / "docker-compose.yml").read_text(encoding="utf-8")
    for name in ("AIRFLOW_CONN_DEPT_DROP_SFTP", "AIRFLOW_CONN_OUTBOX_SFTP"):
        assert name in text and name in RUNBOOK.read_text(encoding="utf-8")
