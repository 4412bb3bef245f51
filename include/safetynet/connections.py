"""Airflow connections, with or without a running Airflow: the one place secrets come from.

Inside a task the connection comes from Airflow (its secrets backends included);
elsewhere (the CLI, tests) from ``AIRFLOW_CONN_<ID>`` in Airflow's JSON form, which
is also how the compose stack defines them. Configuration files name connections
and never hold secrets (outputs.md).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import Any

from sqlalchemy import URL

log = logging.getLogger(__name__)
DRIVERS = {"postgres": "postgresql+psycopg2", "postgresql": "postgresql+psycopg2", "sqlite": "sqlite"}


def connection_fields(conn_id: str, *, use_airflow: bool | None = None) -> dict[str, Any]:
    """Airflow-shaped fields of a connection (``conn_type``, ``host``, …, ``extra``).

    ``use_airflow=None`` asks Airflow only when ``airflow.sdk`` is already loaded
    (inside a task); importing it just to look up a connection costs ~3 s.
    Raises ``LookupError`` with what to do when the connection is not defined.
    """
    if use_airflow is None:
        use_airflow = "airflow.sdk" in sys.modules
    fields = _from_airflow(conn_id) if use_airflow else None
    return fields if fields is not None else _from_env(conn_id)


def _from_airflow(conn_id: str) -> dict[str, Any] | None:
    try:
        from airflow.sdk import Connection

        conn = Connection.get(conn_id)
    except Exception as exc:  # not defined there, or not inside a task: fall back to the env var
        log.debug("connection %s not available from Airflow: %s", conn_id, type(exc).__name__)
        return None
    return {"conn_type": conn.conn_type, "host": conn.host, "port": conn.port, "login": conn.login,
            "password": conn.password, "schema": conn.schema, "extra": conn.extra_dejson}


def _from_env(conn_id: str) -> dict[str, Any]:
    var = f"AIRFLOW_CONN_{conn_id.upper()}"
    raw = os.environ.get(var)
    if not raw:
        raise LookupError(
            f"connection {conn_id!r} is not defined: add it in Airflow or set {var} to its JSON form")
    try:
        fields = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise LookupError(f"{var} is not JSON (use Airflow's JSON connection form): "
                          f"{exc.msg} at position {exc.pos}") from None
    if not isinstance(fields, dict):
        raise LookupError(f"{var} must hold a JSON object")
    return fields


def sqlalchemy_url(conn_id: str) -> URL:
    """A SQLAlchemy URL for a database connection (PostgreSQL or SQLite)."""
    f = connection_fields(conn_id)
    kind = str(f.get("conn_type") or "postgres").lower()
    if kind not in DRIVERS:
        raise LookupError(f"connection {conn_id!r}: type {kind!r} is not a supported database "
                          f"(use one of {sorted(DRIVERS)})")
    if kind == "sqlite":
        return URL.create("sqlite", database=f.get("host") or f.get("schema"))
    return URL.create(DRIVERS[kind], username=f.get("login"), password=f.get("password"),
                      host=f.get("host"), port=f.get("port"), database=f.get("schema"))
