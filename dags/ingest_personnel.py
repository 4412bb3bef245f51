"""Monthly ingest of the organisation and HR system (组织人事) into the warehouse.

A thin DAG file on purpose: the work is in ``safetynet.pipeline`` (through
``safetynet.orchestration.ingest``); this file says when, in what order, and what
the run updates. Nothing here runs at parse time beyond building the DAG.
"""

from __future__ import annotations

from airflow.sdk import dag

from safetynet.orchestration import defaults
from safetynet.orchestration.ingest import ingest_tasks

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
    ingest_tasks(SOURCE, wait_for_delivery=False)


ingest_personnel()
