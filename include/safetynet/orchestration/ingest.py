"""The one shape every ingest DAG has: (wait for the delivery →) extract → validate → load.

Each ``dags/ingest_*.py`` file declares its DAG (id, schedule, documentation,
house rules) and calls :func:`ingest_tasks` inside it, so the five ingest DAGs
cannot drift apart and each task still calls exactly one ``safetynet`` function.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import task

from safetynet.orchestration import defaults, tasks
from safetynet.orchestration.tasks import StepResult


def ingest_tasks(source: str, *, wait_for_delivery: bool) -> None:
    """Add the source's tasks to the DAG being defined; the load task updates its Asset."""

    @task(task_id="extract", multiple_outputs=False)
    def extract(logical_date: datetime | None = None, dag_run: Any = None) -> StepResult:
        return tasks.extract(source, logical_date, dag_run)

    @task(task_id="validate", multiple_outputs=False)
    def validate(batch: StepResult) -> StepResult:
        return tasks.validate(source, batch)

    @task(task_id="load", multiple_outputs=False, outlets=[defaults.warehouse_asset(source)])
    def load(batch: StepResult) -> StepResult:
        return tasks.load(source, batch)

    batch = extract()
    if wait_for_delivery:
        defaults.delivery_sensor(source) >> batch
    load(validate(batch))  # type: ignore[arg-type]  # TaskFlow resolves the XComArg at run time
