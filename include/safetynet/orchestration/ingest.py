"""The one shape every ingest DAG has: (wait for the delivery →) extract → validate → load.

Each ``dags/ingest_*.py`` file is one call of :func:`ingest_dag`, which builds the
DAG from the source's declaration (schedule, sensor, documentation) around
:func:`ingest_tasks`, so the ingest DAGs cannot drift apart and each task still
calls exactly one ``safetynet`` function.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import task

from safetynet.orchestration import defaults, tasks
from safetynet.orchestration.tasks import StepResult
from safetynet.sources.batch import BatchRef
from safetynet.sources.declarations import SOURCES as DECLARED


def ingest_tasks(source: str, *, wait_for_delivery: bool) -> None:
    """Add the source's tasks to the DAG being defined; the load task updates its Asset."""

    @task(task_id="extract", multiple_outputs=False)
    def extract(logical_date: datetime | None = None, dag_run: Any = None) -> BatchRef:
        return tasks.extract(source, logical_date, dag_run)

    @task(task_id="validate", multiple_outputs=False)
    def validate(batch: BatchRef) -> StepResult:
        return tasks.validate(source, batch)

    @task(task_id="load", multiple_outputs=False, outlets=[defaults.warehouse_asset(source)])
    def load(batch: StepResult) -> StepResult:
        return tasks.load(source, batch)

    batch = extract()
    if wait_for_delivery:
        defaults.delivery_sensor(source) >> batch
    load(validate(batch))  # type: ignore[arg-type]  # TaskFlow resolves the XComArg at run time


def ingest_dag(source: str) -> Any:
    """The ingest DAG ``ingest_<source>``, built from the source's declaration.

    Schedule, delivery sensor (file sources) and documentation come from
    ``sources.declarations``, so a DAG file is one call and adding a source needs
    no code here. Called at module level of ``dags/ingest_<source>.py``: it builds
    the DAG only (nothing is read or connected at parse time).
    """
    from airflow.sdk import dag

    declared = DECLARED[source]
    files = declared.kind == "files"
    doc = (f"### Ingest: {declared.label_en} ({declared.label_zh})\n\n"
           f"On the schedule `{declared.schedule}` (Asia/Shanghai) this DAG {declared.doc}, "
           "validates the batch and loads it into the warehouse in one transaction.\n\n"
           + ("* **wait_for_delivery** waits (reschedule mode, no worker slot held) for the run's "
              f"file `{declared.file_name}` and its `.ok` marker, and fails naming the file, the "
              "period and the location when it does not come in time;\n" if files else "")
           + "* **extract** stages the new rows; **validate** stops the run on a batch-level failure "
             "and quarantines bad rows; **load** updates the warehouse and the asset "
             f"`x-safetynet://warehouse/{source}`.\n"
             "* XCom carries counts only, never personal data. Re-running a date is safe.\n")

    @dag(dag_id=f"ingest_{source}", schedule=defaults.cron(declared.schedule),
         start_date=defaults.START_DATE, catchup=False, max_active_runs=1,
         default_args=defaults.DEFAULT_ARGS, on_failure_callback=defaults.on_failure_callback,
         tags=defaults.tags("ingest", source), doc_md=doc)
    def ingest() -> None:
        ingest_tasks(source, wait_for_delivery=files)

    return ingest()
