"""Every morning: publish the day's hardship warnings (预警清单) to the social-assistance unit.

A thin DAG file on purpose: the work is in ``safetynet.pipeline`` (through
``safetynet.orchestration.tasks``); this file says when.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.sdk import dag, task

from safetynet.orchestration import defaults, tasks
from safetynet.orchestration.tasks import StepResult

DOC = """
### Daily hardship warnings (预警清单)

Every morning at 07:00 (Asia/Shanghai), and again whenever `daily_report` has
evaluated a day (the warnings H01–H04 are evaluated with the rules, in its
**evaluate** task):

* **publish_warnings** writes `warnings_YYYYMMDD.csv/.xlsx` and `manifest.json` and
  publishes the folder `YYYY-MM-DD/` atomically to the social-assistance unit's
  `warning_outbox` (`_SUCCESS` last) — never to the discipline-inspection office.
  A day not evaluated yet fails the try and is retried; without a `warning_outbox`
  nothing is published.

A deadline alert fires when the scheduled morning run has not published by
`SAFETYNET_WARNINGS_BY` (09:00 local). A separate DAG, not a task of `daily_report`:
it has another recipient and its own deadline, and a failure on one side never
marks the other's run failed. XCom carries counts only: the warnings hold medical
figures.
"""


@dag(
    dag_id="daily_warnings",
    schedule=defaults.warnings_schedule(),
    start_date=defaults.START_DATE,
    catchup=False,
    max_active_runs=1,
    deadline=defaults.warnings_deadline(),
    default_args=defaults.DEFAULT_ARGS,
    on_failure_callback=defaults.on_failure_callback,
    tags=defaults.tags("warnings"),
    doc_md=DOC,
)
def daily_warnings() -> None:
    """Publish the run's report date's warnings."""

    @task(multiple_outputs=False)
    def publish_warnings(logical_date: datetime | None = None, dag_run: Any = None) -> StepResult:
        return tasks.publish_warnings(logical_date, dag_run)

    publish_warnings()


daily_warnings()
