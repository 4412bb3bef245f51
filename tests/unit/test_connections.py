"""Database URLs from Airflow connections defined as environment variables."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from safetynet.connections import sqlalchemy_url
from safetynet.warehouse.engine import get_engine


def test_postgres_connection_becomes_a_psycopg2_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", json.dumps({
        "conn_type": "postgres", "host": "db", "port": 5433, "login": "loader",
        "password": "s3cret", "schema": "safetynet"}))
    url = sqlalchemy_url("warehouse")
    assert url.render_as_string(hide_password=True) == "postgresql+psycopg2://loader:***@db:5433/safetynet"
    assert url.password == "s3cret"


def test_undefined_connection_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_NOPE", raising=False)
    with pytest.raises(LookupError, match="set AIRFLOW_CONN_NOPE"):
        sqlalchemy_url("nope")


def test_engine_for_an_airflow_connection_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "civil.db"
    monkeypatch.setenv("AIRFLOW_CONN_CIVIL_LOCAL", json.dumps({"conn_type": "sqlite", "host": str(db)}))
    with get_engine("airflow://civil_local").begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    assert db.exists()
