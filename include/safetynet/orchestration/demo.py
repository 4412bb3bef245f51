"""``make demo``: one day of the monitor, end to end, through the real Airflow DAGs.

Generates a deployment (synthetic departments' data) into ``DEMO_DIR`` unless one
is already there, then runs ``airflow dags test`` for the five ingest DAGs and the
daily report against it, with a private Airflow home and SQLite metadata DB under
``DEMO_DIR/airflow``. Running it again re-runs the same day on the same
deployment. Each Airflow command's verbose output goes to ``DEMO_DIR/logs/``; the
terminal gets one progress line per stage, the published folder, the cases by
rule and how to open the Airflow UI on the result.

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
from datetime import date
from pathlib import Path

from safetynet.orchestration.environment import (
    DAG_IDS,
    airflow_environment,
    pin_airflow_cfg,
    run_airflow,
)
from safetynet.progress import stage


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
    """The failure callback's one-line summary from a log (already free of personal data)."""
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    for line in lines:
        if "safetynet failure:" in line and "task=-" not in line:
            summary = line[line.index("safetynet failure:") :]
            return "\n  " + summary.split(" [safetynet.orchestration]")[0].strip()
    return ""


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
    ui_env = {k: env[k] for k in ("AIRFLOW_HOME", "SAFETYNET_CONFIG")}
    prefix = " ".join(f"{k}={shlex.quote(v)}" for k, v in ui_env.items())
    # `airflow standalone` starts its components as `airflow …` found on PATH.
    bin_dir = shlex.quote(str(Path(sys.executable).parent))
    print()
    print("Open the Airflow UI on this demo (http://localhost:8080, it prints the admin password):")
    print(f"  PATH={bin_dir}:$PATH {prefix} airflow standalone")


def main() -> int:
    """Run the demo; 0 when the day's extract was published, 1 with a message otherwise."""
    demo_dir = Path(os.environ.get("DEMO_DIR", "demo")).resolve()
    day = date.fromisoformat(os.environ.get("DEMO_DATE", "2026-11-20"))
    households = int(os.environ.get("DEMO_HOUSEHOLDS", "2000"))
    seed = int(os.environ.get("DEMO_SEED", "7"))
    try:
        config = _ensure_deployment(demo_dir, households, seed, day)
        logs = demo_dir / "logs"
        env = airflow_environment(config, demo_dir / "airflow")
        _airflow_step("airflow db migrate", ["db", "migrate"], env, logs / "db_migrate.log")
        pin_airflow_cfg(env)
        for dag_id in DAG_IDS:
            _airflow_step(
                f"airflow dags test {dag_id} {day.isoformat()}",
                ["dags", "test", dag_id, day.isoformat()],
                env,
                logs / f"{dag_id}.log",
            )
        _summary(config, day, env)
    except DemoFailed as exc:
        print(f"\ndemo failed: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
