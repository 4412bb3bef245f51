"""Monthly ingest of the power company's consumption file (供电公司) into the warehouse.

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

SOURCE = "electricity"

DOC = """
### Ingest: electricity (供电公司)

On the 5th of every month at 04:00 (Asia/Shanghai) reads the new or
re-delivered `DL_YYYYMM.csv` files (GB18030) from the company's drop (only files
with their `.ok` marker), validates them and loads them into the warehouse in one
transaction; a re-delivered month replaces the earlier one.

* **wait_for_delivery** waits (in reschedule mode, holding no worker slot) for
  the run's file and its `.ok` marker, and fails with a message naming the file,
  the period and the location when it does not come in time;
* **extract** stages the new rows as a batch; **validate** stops the run on a
  batch-level failure and quarantines bad rows; **load** updates the warehouse
  and the asset `x-safetynet://warehouse/electricity`.
* XCom carries counts only, never personal data. Re-running a date is safe.
"""


@dag(
    dag_id="ingest_electricity",
    schedule=defaults.cron("0 4 5 * *"),
    start_date=defaults.START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=defaults.DEFAULT_ARGS,
    on_failure_callback=defaults.on_failure_callback,
    tags=defaults.tags("ingest", SOURCE),
    doc_md=DOC,
)
def ingest_electricity() -> None:
    """Wait for the delivery → extract → validate → load for the electricity source."""

    @task(multiple_outputs=False)
    def extract(logical_date: datetime | None = None, dag_run: Any = None) -> StepResult:
        return tasks.extract(SOURCE, logical_date, dag_run)

    @task(multiple_outputs=False)
    def validate(batch: StepResult) -> StepResult:
        return tasks.validate(SOURCE, batch)

    @task(multiple_outputs=False, outlets=[defaults.warehouse_asset(SOURCE)])
    def load(batch: StepResult) -> StepResult:
        return tasks.load(SOURCE, batch)

    batch = extract()
    defaults.delivery_sensor(SOURCE) >> batch
    load(validate(batch))


ingest_electricity()
