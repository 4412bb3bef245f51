"""Airflow plugin: registers the deadline reference of ``daily_report``'s publish deadline.

Only wiring lives here (see ``safetynet.orchestration.deadlines``). Airflow looks a
custom deadline reference up among the plugins' ``deadline_references`` whenever it
reads the DAG back (scheduler, API server, CLI): without this plugin, every component
that creates a ``daily_report`` run fails to load its deadline. Importing this file
loads nothing but ``airflow.sdk``.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from safetynet.orchestration.deadlines import ScheduledRunDeadline


class SafetyNetDeadlinesPlugin(AirflowPlugin):
    """Makes :class:`ScheduledRunDeadline` (deadline for scheduled runs only) known to Airflow."""

    name = "safetynet_deadlines"
    # A class-level list is AirflowPlugin's own API (it declares it so), hence the noqa.
    deadline_references = [ScheduledRunDeadline]  # noqa: RUF012
