"""The Airflow DAG ``ingest_medical``: extract → validate → load of the medical source.

A thin DAG file on purpose: the DAG is built from the source's declaration
(``safetynet.sources.declarations``) by ``safetynet.orchestration.ingest.ingest_dag``;
nothing runs at parse time beyond building it.
"""

from __future__ import annotations

from safetynet.orchestration.ingest import ingest_dag

dag = ingest_dag("medical")
