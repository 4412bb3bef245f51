"""Run Airflow's CLI against one Safety Net deployment, isolated from anything else on the machine.

The demo (``make demo``) and the end-to-end tests both need "an Airflow with its
own home and SQLite metadata DB, reading this repository's DAGs, pointed at this
deployment's config.yaml"; this module is that one recipe, so both exercise the
same set-up.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from safetynet.orchestration.defaults import PUBLISH_BY_ENV, RETRIES_ENV, WARNINGS_BY_ENV
from safetynet.orchestration.tasks import CONFIG_ENV
from safetynet.sources.declarations import SOURCES

REPO_ROOT = Path(__file__).resolve().parents[3]
"""The checkout this package is installed from (editable install): holds dags/ and plugins/."""

DAG_IDS: tuple[str, ...] = (*(f"ingest_{name}" for name in SOURCES), "daily_report", "daily_warnings")
"""Every DAG, in the order one day's run goes: one ingest per declared source, the report, the warnings."""


def airflow_environment(
    config: str | Path,
    airflow_home: str | Path,
    *,
    repo: str | Path | None = None,
    retries: int | None = 0,
    deadline: bool = False,
    base: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Environment variables for running ``airflow`` against one deployment.

    ``AIRFLOW__*`` settings inherited from ``base`` (default: this process's
    environment) are dropped so that a developer's own Airflow set-up cannot leak
    in; the metadata DB is SQLite under ``airflow_home``. ``retries`` overrides the
    DAGs' retry count (``None`` keeps the production value): 0 makes a one-shot
    ``airflow dags test`` fail at once instead of sleeping through the back-off.
    ``deadline=False`` switches ``daily_report``'s deadline alert off (``airflow dags
    test`` of a DAG with a deadline crashes in 3.3.2, see ``defaults.PUBLISH_BY_ENV``);
    a scheduler-run stack passes ``True``.
    """
    repo_path = Path(repo) if repo is not None else REPO_ROOT
    home = Path(airflow_home).resolve()
    env = {k: v for k, v in (os.environ if base is None else base).items()}
    for key in [k for k in env if k.startswith("AIRFLOW__")]:
        del env[key]
    pythonpath = [str(repo_path / "include"), env.get("PYTHONPATH", "")]
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(repo_path / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(repo_path / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            CONFIG_ENV: str(Path(config).resolve()),
            "PYTHONPATH": os.pathsep.join(p for p in pythonpath if p),
        }
    )
    if not deadline:
        env[PUBLISH_BY_ENV] = env[WARNINGS_BY_ENV] = "off"
    if retries is None:
        env.pop(RETRIES_ENV, None)
    else:
        env[RETRIES_ENV] = str(retries)
    return env


def airflow_command(*args: str) -> list[str]:
    """The ``airflow`` CLI of the running interpreter (no reliance on PATH)."""
    return [sys.executable, "-m", "airflow", *args]


def run_airflow(
    args: Sequence[str], env: Mapping[str, str], log_path: str | Path, *, timeout: float = 900
) -> subprocess.CompletedProcess[bytes]:
    """Run one ``airflow`` command with its output appended to ``log_path``.

    The output (Airflow's and the tasks' verbose logs) goes to the file, not the
    terminal; callers report success or point at the file.
    """
    log_file = Path(log_path)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as out:
        out.write(f"$ airflow {' '.join(args)}\n".encode())
        out.flush()
        return subprocess.run(
            airflow_command(*args),
            env=dict(env),
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            check=False,
        )


_CFG_KEYS = {
    "dags_folder": "AIRFLOW__CORE__DAGS_FOLDER",
    "plugins_folder": "AIRFLOW__CORE__PLUGINS_FOLDER",
    "load_examples": "AIRFLOW__CORE__LOAD_EXAMPLES",
}

HOME_VARIABLE = "${AIRFLOW_HOME}"
"""How ``airflow.cfg`` names its own folder: Airflow expands environment variables in every
value it reads from the file, so a path written this way follows ``AIRFLOW_HOME``."""

_UNDER_HOME = {
    "sql_alchemy_conn": f"sqlite:///{HOME_VARIABLE}/airflow.db",
    "base_log_folder": f"{HOME_VARIABLE}/logs",
    "dag_processor_child_process_log_directory": f"{HOME_VARIABLE}/logs/dag_processor",
}
"""The settings Airflow's default ``airflow.cfg`` fills with absolute paths inside its home."""


def _set_option(text: str, key: str, value: str) -> str:
    """``text`` with the first ``key = …`` line set to ``value`` (left alone when there is none)."""
    # Backslashes doubled: re.sub reads them in a replacement as escapes (Windows paths).
    return re.sub(rf"(?m)^{key} = .*$", f"{key} = {value}".replace("\\", "\\\\"), text, count=1)


def pin_airflow_cfg(env: Mapping[str, str]) -> Path:
    """Make ``$AIRFLOW_HOME/airflow.cfg`` portable and point it at this checkout's DAGs and plugins.

    Airflow writes its default ``airflow.cfg`` (with fresh secrets) on its first
    command, with absolute paths into its home (the metadata DB, the logs) and with
    ``dags_folder``/``plugins_folder`` inside it, ignoring the environment. Here every
    path into the home becomes ``${AIRFLOW_HOME}/…`` (also one written for another
    folder, e.g. in a demo copied before this existed), so a copy of the folder is
    self-contained: started with ``AIRFLOW_HOME`` set to the copy (an absolute path: Airflow
    refuses a relative SQLite path), it uses the copy's database and logs, never the
    original's. The DAG and plugin folders are the code's, not the data's: they stay
    the absolute folders of this checkout, so ``AIRFLOW_HOME=… airflow standalone`` sees
    the same DAGs with no other variables set.
    """
    home = Path(env["AIRFLOW_HOME"])
    cfg = home / "airflow.cfg"
    text = cfg.read_text(encoding="utf-8")
    text = re.sub(rf"{re.escape(str(home))}(?=[/\\\s]|$)", lambda _: HOME_VARIABLE, text, flags=re.M)
    for key, value in _UNDER_HOME.items():
        text = _set_option(text, key, value)
    for key, var in _CFG_KEYS.items():
        text = _set_option(text, key, env[var])
    cfg.write_text(text, encoding="utf-8")
    return cfg
