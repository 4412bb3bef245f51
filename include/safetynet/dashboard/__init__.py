"""The Safety Net Monitor page inside Airflow's UI (issue 7): queries, charts, page and app.

Split so that each part can be tested without the others: ``queries`` and
``health`` are set-based SQL over one SQLAlchemy connection, ``summary``
assembles them into one JSON-ready, masked dict, ``svg`` and ``page`` render that
dict, and ``app`` serves it behind an injected authenticator. Only
``airflow_auth`` knows Airflow (imported lazily), so the rest runs and is tested
without an Airflow process; ``plugins/safetynet_monitor.py`` merely mounts it.
"""
