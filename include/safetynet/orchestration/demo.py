"""``make demo``: one day of the monitor, end to end, through the real Airflow DAGs.

Generates a deployment (synthetic departments' data) into ``DEMO_DIR`` unless one
is already there, then runs the five ingest DAGs and the daily report for
``DEMO_DATE`` the way a deployment runs them: a scheduler hands each task to an
executor (LocalExecutor) that runs it in its own process, with a private Airflow
home and SQLite metadata DB under ``DEMO_DIR/airflow``. So every task writes its
log where the Airflow UI reads it, and every run lasts as long as it ran (``airflow
dags test`` ran tasks inside the CLI: no log files, and runs that "lasted" from
their logical date to now).

Each DAG gets one manual run with the logical date ``DEMO_DATE T00:00Z`` (08:00 in
Shanghai, report date ``DEMO_DATE``), run id ``demo_<date>``. Running the demo again
clears that run and lets the scheduler run it again (the runbook's "re-run a day"),
so nothing collides with the earlier run. While the demo runs, the scheduler creates
no run from the DAGs' schedules (``use_job_schedule`` off): only the demo's runs
run. The DAGs are unpaused for that and paused again at the end, so that a later
``airflow standalone`` on the demo does not start today's schedule against the
demo's data (DAGs start paused: Airflow's ``dags_are_paused_at_creation``).

``DEMO_DIR/airflow/airflow.cfg`` holds no absolute path into the demo
(:func:`~safetynet.orchestration.environment.pin_airflow_cfg`): a copy of the demo
folder, started with ``AIRFLOW_HOME`` pointing at the copy, uses only the copy.

Each Airflow command's verbose output, and each component's, goes to
``DEMO_DIR/logs/``; the terminal gets one progress line per stage, the published
folder, the cases by rule and how to open the Airflow UI on the result.

Environment: ``DEMO_DIR`` (default ``demo``), ``DEMO_DATE`` (2026-11-20),
``DEMO_HOUSEHOLDS`` (2000), ``DEMO_SEED`` (7).
"""

from __future__ import annotations

import csv
import os
import shlex
import subprocess
import sys
from collections import Counter
from contextlib import ExitStack, suppress
from datetime import UTC, date, datetime, time
from pathlib import Path

from safetynet.orchestration.environment import (
    DAG_IDS,
    airflow_environment,
    pin_airflow_cfg,
    run_airflow,
)
from safetynet.orchestration.stack import LocalAirflow, StackError, local_airflow
from safetynet.progress import stage

PASSWORD_FILE = "simple_auth_manager_passwords.json.generated"
"""Where ``airflow standalone`` keeps the admin password it generated (in ``AIRFLOW_HOME``)."""


class DemoFailed(RuntimeError):
    """A step of the demo failed; the message says which and where its log is."""


def _airflow_step(label: str, args: list[str], env: dict[str, str], log: Path) -> None:
    """Run one Airflow command as one progress stage; raise :class:`DemoFailed` if it fails."""
    log.unlink(missing_ok=True)
    with stage(label):
        try:
            result = run_airflow(args, env, log)
        except subprocess.TimeoutExpired as exc:
            raise DemoFailed(f"{label} timed out after {exc.timeout:.0f}s. Its log: {log}") from exc
        if result.returncode != 0:
            raise DemoFailed(
                f"{label} failed (exit {result.returncode}).{_failure_line(log)}\n  Its full log: {log}"
            )


def _failure_line(log: Path) -> str:
    """The failure callback's one-line summary from a log (already free of personal data).

    Reads plain lines (an ``airflow`` command's output) and the JSON lines of a task log.
    """
    import json

    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    for line in lines:
        if "safetynet failure:" not in line or "task=-" in line:
            continue
        if line.startswith("{"):
            with suppress(ValueError):
                line = str(json.loads(line).get("event", line))
        summary = line[line.index("safetynet failure:") :]
        return "\n  " + summary.split(" [safetynet.orchestration]")[0].strip()
    return ""


def task_log(airflow_home: Path, dag_id: str, run_id: str, task_id: str) -> Path | None:
    """The newest attempt's log file of one task (Airflow's default log file layout), if any."""
    folder = airflow_home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}"
    attempts = sorted(folder.glob("attempt=*.log"), key=lambda p: int(p.stem.split("=")[1]))
    return attempts[-1] if attempts else None


def _run_dag(airflow: LocalAirflow, dag_id: str, day: date) -> str:
    """Run ``dag_id`` once for report date ``day`` through the scheduler; return the run id.

    A run with the logical date ``day T00:00Z`` (08:00 in Shanghai) is cleared and run
    again when there is one (a demo run again, or an older demo's ``manual__…`` run);
    otherwise a run ``demo_<day>`` is triggered. Raises :class:`DemoFailed` naming each
    failed task, its error and its log file.
    """
    logical = datetime.combine(day, time(0), tzinfo=UTC)
    existing = airflow.runs_at(dag_id, logical)
    if existing:
        run_id = str(existing[0]["dag_run_id"])
        airflow.clear_run(dag_id, run_id)
    else:
        run_id = f"demo_{day.isoformat()}"
        airflow.trigger(dag_id, run_id, logical)
    state = airflow.wait_for_run(dag_id, run_id, timeout=3600)
    if state == "success":
        return run_id
    home = Path(airflow.env["AIRFLOW_HOME"])
    failed = [ti["task_id"] for ti in airflow.task_instances(dag_id, run_id) if ti.get("state") == "failed"]
    details = []
    for task_id in failed:
        log = task_log(home, dag_id, run_id, task_id)
        details.append(f"{task_id}{_failure_line(log) if log else ''}\n  Its log: {log or '(none)'}")
    raise DemoFailed(f"{dag_id} run {run_id} {state}; failed: " + ("\n".join(details) or "no task failed"))


def run_day(env: dict[str, str], logs: Path, day: date) -> dict[str, str]:
    """Run every DAG for report date ``day`` on a local Airflow; return the run id per DAG.

    Starts an API server and a scheduler (LocalExecutor) that creates no scheduled
    runs, unpauses the DAGs, runs each DAG once in :data:`DAG_IDS` order (the ingests,
    then the report), pauses them again and stops Airflow.
    """
    runs: dict[str, str] = {}
    try:
        with ExitStack() as stack:
            with stage("start Airflow (API server, scheduler with LocalExecutor)"):
                airflow = stack.enter_context(local_airflow(env, logs))
            airflow.set_paused(DAG_IDS, False)
            stack.callback(airflow.set_paused, DAG_IDS, True)
            for dag_id in DAG_IDS:
                with stage(f"{dag_id} for {day.isoformat()} (scheduler)"):
                    runs[dag_id] = _run_dag(airflow, dag_id, day)
    except StackError as exc:
        raise DemoFailed(f"{exc}\n  Component logs: {logs}") from exc
    return runs


def _ensure_deployment(demo_dir: Path, households: int, seed: int, day: date) -> Path:
    """The deployment's config.yaml, generated first if ``demo_dir`` has none yet."""
    config = demo_dir / "config.yaml"
    if config.is_file():
        print(f"[safetynet] using the deployment already in {demo_dir}", file=sys.stderr)
        return config
    from safetynet.generate import generate_deployment

    with stage(f"generate deployment ({households:,} households, seed {seed})"):
        path = Path(generate_deployment(demo_dir, households, seed, day))
    return path


def _summary(config: Path, day: date, env: dict[str, str]) -> None:
    """Print where the extract is, its cases by rule, and how to open the UI."""
    from safetynet.config import load_config

    outbox = load_config(config).outbox
    print()
    if "://" in outbox:
        print(f"Published to {outbox}/{day.isoformat()}/")
    else:
        folder = Path(outbox) / day.isoformat()
        csv_path = folder / f"mismatches_{day:%Y%m%d}.csv"
        if not (folder / "_SUCCESS").is_file() or not csv_path.is_file():
            raise DemoFailed(f"daily_report ran but {folder} holds no complete extract")
        print(f"Published extract: {folder}/")
        print(f"Cases (CSV):       {csv_path}")
        by_rule: Counter[tuple[str, str]] = Counter()
        with csv_path.open(encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):
                by_rule[(row["rule_code"], row.get("rule_name", ""))] += 1
        print(f"Cases by rule ({sum(by_rule.values()):,} in all):")
        for (code, name), count in sorted(by_rule.items()):
            print(f"  {code}  {count:>6,}  {name}")
    _warnings_summary(load_config(config).warning_outbox, day)
    home = Path(env["AIRFLOW_HOME"])
    ui_env = {k: env[k] for k in ("AIRFLOW_HOME", "SAFETYNET_CONFIG")}
    prefix = " ".join(f"{k}={shlex.quote(v)}" for k, v in ui_env.items())
    # `airflow standalone` starts its components as `airflow …` found on PATH.
    bin_dir = shlex.quote(str(Path(sys.executable).parent))
    print()
    print("Open the Airflow UI on this demo (http://localhost:8080):")
    print(f"  PATH={bin_dir}:$PATH {prefix} airflow standalone")
    password = home / PASSWORD_FILE
    if password.is_file():
        print(f"Log in as admin with the password in {password}.")
    else:
        print("Log in as admin with the password it prints on its first start "
              f"(\"Password for user 'admin': …\"; kept in {password}).")
    print(f"Every task's log is there: Dags → a DAG → its run for {day.isoformat()} → a task → Logs.")
    print("The DAGs are paused: unpausing one starts its schedule (today's run) on the demo's data.")


def _warnings_summary(location: str, day: date) -> None:
    """Print where the hardship warnings went (the social-assistance unit's outbox) and how many."""
    if not location or "://" in location:
        print(f"Hardship warnings: {location + '/' + day.isoformat() + '/' if location else 'not published'}")
        return
    csv_path = Path(location) / day.isoformat() / f"warnings_{day:%Y%m%d}.csv"
    if not csv_path.is_file():
        raise DemoFailed(f"daily_warnings ran but {csv_path} is missing")
    with csv_path.open(encoding="utf-8-sig", newline="") as handle:
        by_code = Counter((row["warning_code"], row["warning_name"]) for row in csv.DictReader(handle))
    total = sum(by_code.values())
    print(f"Hardship warnings, for the social-assistance unit ({total:,}): {csv_path.parent}/")
    for (code, name), count in sorted(by_code.items()):
        print(f"  {code}  {count:>6,}  {name}")


def main() -> int:
    """Run the demo; 0 when the day's extract was published, 1 with a message otherwise."""
    demo_dir = Path(os.environ.get("DEMO_DIR", "demo")).resolve()
    day = date.fromisoformat(os.environ.get("DEMO_DATE", "2026-11-20"))
    households = int(os.environ.get("DEMO_HOUSEHOLDS", "2000"))
    seed = int(os.environ.get("DEMO_SEED", "7"))
    try:
        config = _ensure_deployment(demo_dir, households, seed, day)
        logs = demo_dir / "logs"
        # The publish deadline is on, as in production: the demo's runs are manual, so they carry none.
        env = airflow_environment(config, demo_dir / "airflow", deadline=True)
        _airflow_step("airflow db migrate", ["db", "migrate"], env, logs / "db_migrate.log")
        pin_airflow_cfg(env)
        _airflow_step("airflow dags reserialize", ["dags", "reserialize"], env, logs / "dags_reserialize.log")
        run_day(env, logs, day)
        _summary(config, day, env)
    except DemoFailed as exc:
        print(f"\ndemo failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
