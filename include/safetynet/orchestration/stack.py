"""A local Airflow for one deployment: API server, scheduler (LocalExecutor) and, if asked, triggerer.

``airflow dags test`` runs a DAG's tasks inside the CLI process: no task log files
(the UI says "Log file not found"), and the run's start is its logical date (a run
for a past day "lasts" weeks). Runs that go through the scheduler and an executor
are what a deployment does: each task runs in its own process, writes its log where
the UI reads it (``[logging] base_log_folder``) and the run lasts as long as it ran.
The demo and the tests that run the runbook's commands start such an Airflow with
:func:`local_airflow`, on the SQLite metadata database of the deployment's Airflow
home (as ``airflow standalone`` does).

The API server listens on 127.0.0.1 on a free port; the components find its
Execution API through ``AIRFLOW__CORE__EXECUTION_API_SERVER_URL``. Its REST API
needs no login while this Airflow runs (``simple_auth_manager_all_admins``, set in
the components' environment only, never in ``airflow.cfg``): it is a private,
local tool for the duration of the demo or the test. Every process is started in
its own process group and stopped with it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from safetynet.orchestration.environment import airflow_command

FINISHED = frozenset({"success", "failed"})
"""DAG-run states after which nothing more happens without a clear."""


class StackError(RuntimeError):
    """The local Airflow did not start, a request failed, or a wait timed out (the message says which)."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stack_environment(env: Mapping[str, str], port: int, *, job_schedule: bool = False) -> dict[str, str]:
    """``env`` plus what the components of a local Airflow need to find each other.

    LocalExecutor; the Execution API on ``port``; no login on the REST API; the log
    servers of the scheduler and triggerer on free ports (not 8793/8794, which another
    Airflow on the machine may hold); and, unless ``job_schedule``, a scheduler that
    creates no runs from the DAGs' schedules (only triggered, cleared and back-fill runs
    run: unpausing a DAG to run a past day then does not also start today's scheduled run).
    """
    stack = dict(env)
    stack.update({
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "True" if job_schedule else "False",
    })
    return stack


@dataclass
class LocalAirflow:
    """A running local Airflow: its environment, API port, processes and their logs."""

    env: dict[str, str]
    port: int
    logs: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """The API server's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def log_of(self, component: str) -> Path:
        """The file a component's output goes to."""
        return self.logs / f"{component}.log"

    def start(self, component: str, *args: str) -> None:
        """Start one ``airflow`` component in its own process group, its output to its log."""
        self.logs.mkdir(parents=True, exist_ok=True)
        with self.log_of(component).open("ab") as out:
            self.processes[component] = subprocess.Popen(
                airflow_command(*args), env=self.env, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )

    def check_alive(self) -> None:
        """Raise :class:`StackError` naming the component and its log if one has exited."""
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise StackError(f"airflow {name} exited ({process.returncode}); its log: "
                                 f"{self.log_of(name)}\n{tail(self.log_of(name), 30)}")

    def healthy(self) -> bool:
        """Whether the API server answers its health check."""
        import httpx

        try:
            return httpx.get(f"{self.url}/api/v2/monitor/health", timeout=3).status_code == 200
        except httpx.HTTPError:
            return False

    def request(self, method: str, path: str, body: Mapping[str, Any] | None = None,
                params: Mapping[str, str] | None = None) -> Any:
        """One REST API call (``/api/v2`` + ``path``); its JSON answer, or :class:`StackError`."""
        import httpx

        answer = httpx.request(method, f"{self.url}/api/v2{path}", json=body, params=params, timeout=60)
        if answer.status_code >= 400:
            raise StackError(f"{method} {path} answered {answer.status_code}: {answer.text[:500]}")
        return answer.json() if answer.content else None

    def set_paused(self, dag_ids: Iterable[str], paused: bool) -> None:
        """Pause or unpause DAGs."""
        for dag_id in dag_ids:
            self.request("PATCH", f"/dags/{dag_id}", {"is_paused": paused})

    def runs_at(self, dag_id: str, logical_date: datetime) -> list[dict[str, Any]]:
        """The DAG's runs with exactly this logical date (at most one: Airflow keeps it unique)."""
        when = logical_date.isoformat()
        answer = self.request("GET", f"/dags/{dag_id}/dagRuns",
                              params={"logical_date_gte": when, "logical_date_lte": when})
        return list(answer["dag_runs"])

    def trigger(self, dag_id: str, run_id: str, logical_date: datetime | None,
                conf: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Create a manual run (as ``airflow dags trigger`` does)."""
        body = {"dag_run_id": run_id, "logical_date": logical_date.isoformat() if logical_date else None,
                "conf": dict(conf or {})}
        return dict(self.request("POST", f"/dags/{dag_id}/dagRuns", body))

    def clear_run(self, dag_id: str, run_id: str) -> None:
        """Clear every task of one run, so the scheduler runs it again (as "Clear" in the UI)."""
        self.request("POST", f"/dags/{dag_id}/clearTaskInstances",
                     {"dry_run": False, "dag_run_id": run_id, "only_failed": False, "reset_dag_runs": True})

    def run_state(self, dag_id: str, run_id: str) -> str:
        """A run's state (``queued``, ``running``, ``success``, ``failed``)."""
        return str(self.request("GET", f"/dags/{dag_id}/dagRuns/{run_id}")["state"])

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        """A run's task instances as the REST API shows them (``task_id``, ``state``, ``try_number``, …)."""
        answer = self.request("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")
        return list(answer["task_instances"])

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 600) -> str:
        """Wait until a run has finished; its final state. :class:`StackError` after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive()
            state = self.run_state(dag_id, run_id)
            if state in FINISHED:
                return state
            if time.monotonic() > deadline:
                raise StackError(f"{dag_id} run {run_id} still {state} after {timeout:.0f}s; scheduler log: "
                                 f"{self.log_of('scheduler')}\n{tail(self.log_of('scheduler'), 30)}")
            time.sleep(1)

    def stop(self, grace: float = 30) -> None:
        """SIGTERM each component's process group, SIGKILL what is left after ``grace`` seconds."""
        for process in self.processes.values():
            if process.poll() is None:
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for process in self.processes.values():
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
        for process in self.processes.values():
            with suppress(ProcessLookupError):  # the group may outlive its leader (task processes)
                os.killpg(process.pid, signal.SIGKILL)
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)


def tail(path: Path, lines: int) -> str:
    """The last ``lines`` lines of a text file ("" when it cannot be read)."""
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@contextmanager
def local_airflow(env: Mapping[str, str], logs: Path, *,
                  components: Sequence[str] = ("api-server", "scheduler"),
                  job_schedule: bool = False, timeout: float = 180) -> Iterator[LocalAirflow]:
    """Start a local Airflow on ``env``'s home (metadata DB migrated, DAGs serialised); stop it after.

    ``components`` from ``api-server`` (always started: it serves the Execution API),
    ``scheduler``, ``triggerer`` (runs deadline callbacks) and ``dag-processor``. Each
    component's output goes to ``logs/<component>.log``. See :func:`stack_environment`
    for ``job_schedule``.
    """
    port = free_port()
    stack = LocalAirflow(env=stack_environment(env, port, job_schedule=job_schedule), port=port, logs=logs)
    try:
        stack.start("api-server", "api-server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1")
        for component in components:
            if component != "api-server":
                stack.start(component, component)
        deadline = time.monotonic() + timeout
        while not stack.healthy():
            stack.check_alive()
            if time.monotonic() > deadline:
                raise StackError(f"the API server did not answer within {timeout:.0f}s; its log: "
                                 f"{stack.log_of('api-server')}")
            time.sleep(0.5)
        yield stack
    finally:
        stack.stop()
