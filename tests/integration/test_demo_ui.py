"""The demo as an Airflow user meets it: ``make demo``, then ``airflow standalone`` as the README says.

1. A fresh ``make demo`` (200 households instead of 2,000, through ``DEMO_HOUSEHOLDS``)
   into ``<tmp>/original/demo``.
2. The demo folder is copied to ``<tmp>/copy/demo`` and the README's commands (read from
   README.md, "To look at the runs in the Airflow UI") are run there as written, from a
   folder laid out like the checkout (``.venv`` beside ``demo``). Only the ports change
   (``AIRFLOW__API__PORT`` and friends), so the test never meets another Airflow on 8080.
   Running the copy is the stricter check: it must show the demo's runs, and write nothing
   into the original (the original's ``airflow/`` folder is compared before and after).
3. Headless Chromium signs in through Airflow's login form with the password that
   ``airflow standalone`` printed, opens a task's log page and must show its log lines,
   not "Log file not found". The screenshot is saved in the test's tmp folder and as
   ``artifacts/demo-task-log.png``.
4. Through the REST API, with the same login: every task of every demo run has a log,
   every run lasted as long as it ran (seconds, not the weeks since its logical date), and
   every DAG is paused, as the README says.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.integration.doc_commands import REPO, readme_ui_block
from tests.integration.test_dashboard import CHROMIUM_APT, Chromium, find_chromium

from safetynet.orchestration.environment import DAG_IDS
from safetynet.orchestration.stack import free_port, tail

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]

RUN_ID = "demo_2026-11-20"
SCREENSHOT = REPO / "artifacts" / "demo-task-log.png"
PASSWORD_LINE = re.compile(r"Password for user 'admin': (\S+)")


def _snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with its SHA-256: what a run of the copy must leave alone."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@dataclass(frozen=True)
class Standalone:
    """``airflow standalone`` on a copy of the demo, as the README starts it."""

    url: str
    demo: Path
    output: Path
    password: str

    def token(self) -> str:
        """A token from Airflow's login endpoint, with the printed password."""
        answer = httpx.post(f"{self.url}/auth/token", json={"username": "admin", "password": self.password})
        assert answer.status_code == 201, answer.text
        return str(answer.json()["access_token"])

    def api(self, path: str, token: str) -> Any:
        """GET ``/api/v2`` + ``path`` as the signed-in admin; the JSON answer (status 200)."""
        answer = httpx.get(f"{self.url}/api/v2{path}", headers={"Authorization": f"Bearer {token}"},
                           timeout=60)
        assert answer.status_code == 200, f"{path}: {answer.status_code} {answer.text[:300]}"
        return answer.json()


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh ``make demo`` (the Makefile's own recipe; the venv is taken as installed)."""
    base = tmp_path_factory.mktemp("original")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    result = subprocess.run(
        ["make", "-o", ".venv/.installed", "demo", f"DEMO_DIR={base / 'demo'}", "DEMO_HOUSEHOLDS=200"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=420, check=False)
    (base / "make-demo.log").write_text(result.stdout + result.stderr, encoding="utf-8")
    assert result.returncode == 0, f"make demo failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    assert "Published extract:" in result.stdout, result.stdout[-2000:]
    cfg = (base / "demo" / "airflow" / "airflow.cfg").read_text(encoding="utf-8")
    assert str(base) not in cfg, "airflow.cfg names the demo folder by its absolute path"
    return base


@pytest.fixture(scope="module")
def standalone(original: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Standalone]:
    """``airflow standalone`` started by the README's commands on a copy of the demo; stopped after."""
    copy = tmp_path_factory.mktemp("copy")
    shutil.copytree(original / "demo", copy / "demo", symlinks=True)
    (copy / ".venv").symlink_to(REPO / ".venv")
    before = _snapshot(original / "demo" / "airflow")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env.update({
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://localhost:{port}/execution/",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
    })
    commands = readme_ui_block()
    assert commands[-1].endswith("airflow standalone"), commands
    output = copy / "standalone.log"
    with output.open("wb") as out:
        process = subprocess.Popen(["bash", "-c", "\n".join(commands)], cwd=copy, env=env, stdout=out,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        password = None
        while password is None or not _healthy(url):
            assert process.poll() is None, f"airflow standalone exited:\n{tail(output, 60)}"
            assert time.monotonic() < deadline, f"airflow standalone did not come up:\n{tail(output, 60)}"
            found = PASSWORD_LINE.search(output.read_text(encoding="utf-8", errors="replace"))
            password = found.group(1) if found else None
            time.sleep(1)
        yield Standalone(url, copy / "demo", output, password)
    finally:
        _stop_group(process)
    assert _snapshot(original / "demo" / "airflow") == before, "the copy wrote into the original demo"


def _stop_group(process: subprocess.Popen[bytes]) -> None:
    """Stop standalone as Ctrl+C would, then whatever of its process group is left (workers, triggerer)."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGINT)  # our own process group: standalone and its components
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=30)
    for sig in (signal.SIGTERM, signal.SIGKILL):  # the group outlives its leader: always sweep it
        with suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        time.sleep(5 if sig == signal.SIGTERM else 0)
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=10)


def _healthy(url: str) -> bool:
    """Whether the API server answers its health check."""
    try:
        return httpx.get(f"{url}/api/v2/monitor/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _require_browser() -> str:
    """Chromium's executable; the test fails (never skips) without one."""
    exe = find_chromium()
    if exe is None:  # a missing part fails loudly, never skips
        pytest.fail(f"Chromium not found for the task-log screenshot; install with: {CHROMIUM_APT}",
                    pytrace=False)
    return exe


def test_task_logs_of_every_demo_run_are_shown_in_the_ui(standalone: Standalone, tmp_path: Path) -> None:
    """Sign in as the README says, open a task's log page: its log lines are there."""
    generated = standalone.demo / "airflow" / "simple_auth_manager_passwords.json.generated"
    assert json.loads(generated.read_text(encoding="utf-8"))["admin"] == standalone.password, \
        "the README says the printed password is kept in that file"
    page = f"{standalone.url}/dags/ingest_civil_affairs/runs/{RUN_ID}/tasks/extract"
    with Chromium(_require_browser(), tmp_path / "profile") as browser:
        try:
            browser.navigate(page)  # not signed in: Airflow's login form, then back to the page
            browser.wait_for("document.querySelector('input[name=username]') !== null", timeout=120)
            for field, value in (("username", "admin"), ("password", standalone.password)):
                browser.evaluate(f"document.querySelector('input[name={field}]').focus()")
                browser.call("Input.insertText", text=value)
            browser.wait_for("!document.querySelector('button[type=submit]').disabled")
            browser.evaluate("document.querySelector('button[type=submit]').click()")
            browser.wait_for("location.pathname.endsWith('/tasks/extract')", timeout=120)
            # The task's own lines (the pipeline's, then Airflow's last one) in the Logs tab.
            browser.wait_for("document.body.innerText.includes('Done. Returned value was')", timeout=120)
        except AssertionError:
            browser.screenshot(tmp_path / "failed.png", full_page=False)
            (tmp_path / "failed.txt").write_text(str(browser.evaluate("document.body.innerText")), "utf-8")
            raise
        text = str(browser.evaluate("document.body.innerText"))
        png = browser.screenshot(tmp_path / "demo-task-log.png", full_page=False)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    SCREENSHOT.write_bytes(png)
    assert "Log file not found" not in text
    assert "extract civil_affairs" in text, text[-2000:]
    assert "Success" in text and RUN_ID in text
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_every_task_of_every_demo_run_has_its_log_and_a_real_duration(standalone: Standalone) -> None:
    token = standalone.token()
    for dag_id in DAG_IDS:
        run = standalone.api(f"/dags/{dag_id}/dagRuns/{RUN_ID}", token)
        assert run["state"] == "success", run
        took = datetime.fromisoformat(run["end_date"]) - datetime.fromisoformat(run["start_date"])
        assert timedelta(0) < took < timedelta(minutes=15), f"{dag_id} lasted {took}"
        for ti in standalone.api(f"/dags/{dag_id}/dagRuns/{RUN_ID}/taskInstances", token)["task_instances"]:
            log = standalone.api(f"/dags/{dag_id}/dagRuns/{RUN_ID}/taskInstances/{ti['task_id']}/logs/"
                                 f"{ti['try_number']}", token)
            text = json.dumps(log["content"])
            assert "Log file not found" not in text, (dag_id, ti["task_id"], text[:500])
            assert len(log["content"]) > 3, (dag_id, ti["task_id"], text[:500])


def test_the_dags_start_paused_as_the_readme_says(standalone: Standalone) -> None:
    dags = standalone.api("/dags", standalone.token())["dags"]
    assert {d["dag_id"]: d["is_paused"] for d in dags} == dict.fromkeys(DAG_IDS, True)
