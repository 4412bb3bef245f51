"""Airflow glue for Safety Net Monitor: shared DAG settings, task bodies, the demo runner.

Nothing here does the work itself; every task calls one step of
:mod:`safetynet.pipeline`, the same functions ``safetynet run`` calls.
"""
