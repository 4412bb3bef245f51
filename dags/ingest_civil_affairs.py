"""Nightly ingest of the civil-affairs system (社会救助信息系统) into the warehouse.

A thin DAG file on purpose: the work is in ``safetynet.pipeline`` (through
``safetynet.orchestration.ingest``); this file says when, in what order, and what
the run updates. Nothing here runs at parse time beyond building the DAG.
"""

from __future__ import annotations

from airflow.sdk import dag

from safetynet.orchestration import defaults
from safetynet.orchestration.ingest import ingest_tasks

SOURCE = "civil_affairs"

DOC = """
### Ingest: civil affairs (社会救助信息系统)

Every night at 01:00 (Asia/Shanghai) reads what changed in the read-only replica
since the last successful watermark (households, members, payments, allowances,
cremation records, relative filings), validates the batch and loads it into the
warehouse in one transaction.

* **extract** stages the new rows as a batch; **validate** stops the run on a
  batch-level failure and quarantines bad rows; **load** updates the warehouse
  and the asset `x-safetynet://warehouse/civil_affairs`.
* XCom carries counts only, never personal data. Re-running a date is safe.
"""


@dag(
    dag_id="ingest_civil_affairs",
    schedule=defaults.cron("0 1 * * *"),
    start_date=defaults.START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=defaults.DEFAULT_ARGS,
    on_failure_callback=defaults.on_failure_callback,
    tags=defaults.tags("ingest", SOURCE),
    doc_md=DOC,
)
def ingest_civil_affairs() -> None:
    """Extract → validate → load for the civil-affairs source."""
    ingest_tasks(SOURCE, wait_for_delivery=False)


ingest_civil_affairs()
