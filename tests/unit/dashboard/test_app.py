"""The app's authentication branches with a stand-in authenticator, and the plugin's cheap import.

Airflow's real tokens are tested against a running API server in
``tests/integration/test_dashboard.py``; here every branch of the app's own
logic is pinned without Airflow: which credential is read, what a browser and
what an API client get when it is missing, bad or not allowed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from safetynet.dashboard.app import NotAuthenticated, Principal, create_app

REPO = Path(__file__).resolve().parents[3]
SUMMARY: dict[str, Any] = {
    "deployment": "测试", "generated_at": "2026-11-20T08:00:00+00:00", "report_date": None,
    "cases": None, "trend": None, "recent_cases": [], "sources": [], "quarantine": [],
    "validation": None, "task_failures": None, "failed_sources": [],
}
seen: list[str] = []


async def fake_authenticate(token: str) -> Principal:
    seen.append(token)
    if token == "good":
        return Principal("admin", True)
    if token == "viewer-denied":
        return Principal("guest", False)
    raise NotAuthenticated("bad token")


@pytest.fixture
def client() -> TestClient:
    seen.clear()
    app = create_app(fake_authenticate, lambda: SUMMARY, lambda nxt: f"/auth/login?next={nxt}")
    return TestClient(app, base_url="http://airflow.test", follow_redirects=False)


def test_without_a_token_the_api_answers_401_and_the_page_redirects_to_login(client: TestClient) -> None:
    api = client.get("/api/summary")
    assert api.status_code == 401 and api.headers["www-authenticate"] == "Bearer"
    page = client.get("/")
    assert page.status_code == 303
    assert page.headers["location"] == "/auth/login?next=http://airflow.test/"
    assert seen == []


def test_a_bad_token_is_401_and_a_user_without_the_view_is_403(client: TestClient) -> None:
    assert client.get("/api/summary", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert client.get("/", cookies={"_token": "nope"}).status_code == 303
    denied = client.get("/api/summary", headers={"Authorization": "Bearer viewer-denied"})
    assert denied.status_code == 403 and "guest" in denied.json()["detail"]


def test_bearer_header_or_airflow_cookie_opens_page_and_api(client: TestClient) -> None:
    api = client.get("/api/summary", headers={"Authorization": "Bearer good"})
    assert api.status_code == 200 and api.json()["deployment"] == "测试"
    page = client.get("/", cookies={"_token": "good"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Safety Net Monitor" in page.text and "尚无报告 No report yet" in page.text
    for response in (api, page):
        assert response.headers["cache-control"] == "no-store"
        assert "frame-ancestors 'self'" in response.headers["content-security-policy"]


def test_the_bearer_header_wins_over_the_cookie_like_in_airflow(client: TestClient) -> None:
    client.get("/api/summary", headers={"Authorization": "Bearer good"}, cookies={"_token": "nope"})
    assert seen == ["good"]


def test_a_token_in_the_query_string_is_not_accepted(client: TestClient) -> None:
    assert client.get("/api/summary?token=good&_token=good").status_code == 401


def test_the_nav_icon_is_public(client: TestClient) -> None:
    icon = client.get("/icon.svg")
    assert icon.status_code == 200 and icon.text.startswith("<svg")


def test_importing_the_plugin_loads_neither_fastapi_nor_pandas_nor_the_dashboard() -> None:
    probe = (
        "import importlib.util, sys\n"
        "spec = importlib.util.spec_from_file_location('p', sys.argv[1])\n"
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
        "plugin = m.SafetyNetMonitorPlugin\n"
        "assert plugin.fastapi_apps[0]['url_prefix'] == '/safetynet'\n"
        "assert plugin.external_views[0]['href'] == '/safetynet/'\n"
        "print(sorted(n for n in ('fastapi', 'pandas', 'safetynet.dashboard.app') if n in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe, str(REPO / "plugins" / "safetynet_monitor.py")],
                         capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_the_validation_page_is_guarded_escaped_and_offline(tmp_path: Path) -> None:
    """Issue 16: the results GX produced, readable offline, with hostile values escaped."""
    from sqlalchemy import create_engine, insert

    from safetynet.dashboard.validation_page import render_validation, validation_results
    from safetynet.warehouse.schema import meta_validation, metadata

    engine = create_engine(f"sqlite:///{tmp_path / 'w.db'}")
    metadata.create_all(engine, tables=[meta_validation])
    with engine.begin() as conn:
        conn.execute(insert(meta_validation), [
            {"source": "property", "item": "BDC_QLR_20261120.xlsx", "batch_id": "2026-11-20",
             "expectation": "expect_column_values_to_be_in_set", "column_name": "use", "level": "row",
             "success": False, "outcome": "quarantined", "observed": "1 of 9, e.g. <script>x()</script>",
             "expected": "in {住宅}", "unexpected_count": 1},
            {"source": "water", "item": "SS_202610.txt", "batch_id": "2026-11-21",
             "expectation": "expect_table_row_count_to_be_between", "column_name": None, "level": "batch",
             "success": True, "outcome": "passed", "observed": "361103196001010017", "expected": "",
             "unexpected_count": None}])
    with engine.connect() as conn:
        html = render_validation(validation_results(conn))
    assert html.index("2026-11-21") < html.index("2026-11-20")  # newest first
    assert "<script>" not in html and "&lt;script&gt;" in html and "361103196001010017" not in html
    assert "http" not in html.replace('href="./"', "")
    app = create_app(fake_authenticate, lambda: SUMMARY, lambda nxt: f"/auth/login?next={nxt}",
                     lambda: html)
    client = TestClient(app, base_url="http://airflow.test", follow_redirects=False)
    assert client.get("/validation").status_code == 303  # to the login, like the page
    shown = client.get("/validation", cookies={"_token": "good"})
    assert shown.status_code == 200 and shown.text == html
    assert "script-src" not in shown.headers["content-security-policy"]  # no script may run
