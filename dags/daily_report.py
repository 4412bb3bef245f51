"""Every morning: evaluate the rules and publish the day's mismatch extract (每日疑点清单).

A thin DAG file on purpose: the work is in ``safetynet.pipeline`` (through
``safetynet.orchestration.tasks``); this file says when and in what order.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import dag, task

from safetynet.orchestration import defaults, tasks
from safetynet.orchestration.tasks import StepResult

DOC = """
### Daily report (每日疑点清单)

Every morning at 06:30 (Asia/Shanghai), after the night's ingests, and again
whenever an ingest updates a source's warehouse Asset (such a run reports for the
local day it runs on):

* **evaluate** runs every rule and hardship warning as of the report date (the
  run's day in Asia/Shanghai) against the warehouse and updates the case and
  warning tables, applying the inspectors' and the bureau's decisions (the
  warnings are published by `daily_warnings`, which this task's Asset triggers);
* **publish** writes `mismatches_YYYYMMDD.csv/.xlsx`, `monitoring_YYYYMMDD.csv` and
  `manifest.json` and publishes the folder `YYYY-MM-DD/` atomically to the
  discipline-inspection office's outbox (`_SUCCESS` is written last).

A deadline alert fires when the scheduled morning run has not published the
extract by `SAFETYNET_PUBLISH_BY` (08:30 local): the miss is recorded in
`meta_task_failure` and mailed. Manual re-runs and back-fills carry no deadline
(trigger with the conf `{"deadline_alert": true}` to have a manual run watched).
Stale sources are named in the manifest; the report always publishes.

Publishing a date again replaces that folder with byte-identical case files for
identical inputs. XCom carries counts only, never personal data.
"""


@dag(
    dag_id="daily_report",
    schedule=defaults.report_schedule(),
    start_date=defaults.START_DATE,
    catchup=False,
    max_active_runs=1,
    deadline=defaults.publish_deadline(),
    default_args=defaults.DEFAULT_ARGS,
    on_failure_callback=defaults.on_failure_callback,
    tags=defaults.tags("report"),
    doc_md=DOC,
)
def daily_report() -> None:
    """Evaluate → publish for the run's report date."""

    @task(multiple_outputs=False, outlets=[defaults.evaluated_asset()])
    def evaluate(logical_date: datetime | None = None, dag_run: Any = None) -> StepResult:
        return tasks.evaluate(logical_date, dag_run)

    @task(multiple_outputs=False)
    def publish(logical_date: datetime | None = None, dag_run: Any = None) -> StepResult:
        return tasks.publish(logical_date, dag_run)

    evaluate() >> publish()


daily_report()
