"""Weekly ingest of the real-estate registry snapshot (不动产登记中心) into the warehouse.

A thin DAG file on purpose: the work is in ``safetynet.pipeline`` (through
``safetynet.orchestration.ingest``); this file says when, in what order, and what
the run updates. Nothing here runs at parse time beyond building the DAG.
"""

from __future__ import annotations

from airflow.sdk import dag

from safetynet.orchestration import defaults
from safetynet.orchestration.ingest import ingest_tasks

SOURCE = "property"

DOC = """
### Ingest: property (不动产登记)

Every Monday at 03:00 (Asia/Shanghai) reads the newest complete
`BDC_QLR_YYYYMMDD.xlsx` snapshot from the registry's drop (a file counts only
once its `.ok` marker is there), validates it and loads it into the warehouse in
one transaction; the newest snapshot replaces all earlier ones.

* **wait_for_delivery** waits (in reschedule mode, holding no worker slot) for
  the run's file and its `.ok` marker, and fails with a message naming the file,
  the period and the location when it does not come in time;
* **extract** stages the new rows as a batch; **validate** stops the run on a
  batch-level failure and quarantines bad rows; **load** updates the warehouse
  and the asset `x-safetynet://warehouse/property`.
* XCom carries counts only, never personal data. Re-running a date is safe.
"""


@dag(
    dag_id="ingest_property",
    schedule=defaults.cron("0 3 * * 1"),
    start_date=defaults.START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=defaults.DEFAULT_ARGS,
    on_failure_callback=defaults.on_failure_callback,
    tags=defaults.tags("ingest", SOURCE),
    doc_md=DOC,
)
def ingest_property() -> None:
    """Wait for the delivery → extract → validate → load for the property source."""
    ingest_tasks(SOURCE, wait_for_delivery=True)


ingest_property()
