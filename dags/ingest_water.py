"""Monthly ingest of the water company's consumption file (自来水公司) into the warehouse.

A thin DAG file on purpose: the work is in ``safetynet.pipeline`` (through
``safetynet.orchestration.ingest``); this file says when, in what order, and what
the run updates. Nothing here runs at parse time beyond building the DAG.
"""

from __future__ import annotations

from airflow.sdk import dag

from safetynet.orchestration import defaults
from safetynet.orchestration.ingest import ingest_tasks

SOURCE = "water"

DOC = """
### Ingest: water (自来水公司)

On the 5th of every month at 04:30 (Asia/Shanghai) reads the new or
re-delivered `SS_YYYYMM.txt` files from the company's drop (only files with their
`.ok` marker), validates them and loads them into the warehouse in one
transaction; a re-delivered month replaces the earlier one.

* **wait_for_delivery** waits (in reschedule mode, holding no worker slot) for
  the run's file and its `.ok` marker, and fails with a message naming the file,
  the period and the location when it does not come in time;
* **extract** stages the new rows as a batch; **validate** stops the run on a
  batch-level failure and quarantines bad rows; **load** updates the warehouse
  and the asset `x-safetynet://warehouse/water`.
* XCom carries counts only, never personal data. Re-running a date is safe.
"""


@dag(
    dag_id="ingest_water",
    schedule=defaults.cron("30 4 5 * *"),
    start_date=defaults.START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=defaults.DEFAULT_ARGS,
    on_failure_callback=defaults.on_failure_callback,
    tags=defaults.tags("ingest", SOURCE),
    doc_md=DOC,
)
def ingest_water() -> None:
    """Wait for the delivery → extract → validate → load for the water source."""
    ingest_tasks(SOURCE, wait_for_delivery=True)


ingest_water()
