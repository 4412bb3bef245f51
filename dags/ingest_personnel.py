"""Monthly ingest of the organisation and HR system (组织人事) into the warehouse.

A thin DAG file on purpose: the work is in ``safetynet.pipeline`` (through
``safetynet.orchestration.tasks``); this file says when, in what order, and what
the run updates. Nothing here runs at parse time beyond building the DAG.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import dag, task

from safetynet.orchestration import defaults, tasks
from safetynet.orchestration.tasks import StepResult

SOURCE = "personnel"

DOC = """
### Ingest: personnel (组织人事)

On the 1st of every month at 02:00 (Asia/Shanghai) reads the HR system's
monthly refresh (staff on public payroll, village and community cadres, declared
close relatives), validates the batch and loads it into the warehouse in one
transaction.

* **extract** stages the new rows as a batch; **validate** stops the run on a
  batch-level failure and quarantines bad rows; **load** updates the warehouse
  and the asset `x-safetynet://warehouse/personnel`.
* XCom carries counts only, never personal data. Re-running a date is safe.
"""


@dag(
    dag_id="ingest_personnel",
    schedule=defaults.cron("0 2 1 * *"),
    start_date=defaults.START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=defaults.DEFAULT_ARGS,
    on_failure_callback=defaults.on_failure_callback,
    tags=defaults.tags("ingest", SOURCE),
    doc_md=DOC,
)
def ingest_personnel() -> None:
    """Extract → validate → load for the personnel source."""

    @task(multiple_outputs=False)
    def extract(logical_date: datetime | None = None, dag_run: Any = None) -> StepResult:
        return tasks.extract(SOURCE, logical_date, dag_run)

    @task(multiple_outputs=False)
    def validate(batch: StepResult) -> StepResult:
        return tasks.validate(SOURCE, batch)

    @task(multiple_outputs=False, outlets=[defaults.warehouse_asset(SOURCE)])
    def load(batch: StepResult) -> StepResult:
        return tasks.load(SOURCE, batch)

    load(validate(extract()))


ingest_personnel()
