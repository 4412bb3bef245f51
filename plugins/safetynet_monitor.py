"""Airflow plugin: the Safety Net Monitor page at ``/safetynet/`` and its nav entry.

Only wiring lives here (see ``safetynet.dashboard``). Every Airflow component
imports the plugins folder, but only the API server serves the app, so the app
is built on its first request: importing this file loads no FastAPI, SQLAlchemy
or pandas. Authentication is the app's own (Airflow does not guard plugin apps):
Airflow's JWT as a Bearer header or the UI's ``_token`` cookie.
"""

from __future__ import annotations

from typing import Any

from airflow.plugins_manager import AirflowPlugin

URL_PREFIX = "/safetynet"


class LazyDashboard:
    """An ASGI app that builds the real one on first use (one event loop: no race to guard)."""

    def __init__(self) -> None:
        self._app: Any = None

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        """Serve one ASGI connection with the dashboard app, building it if needed."""
        if self._app is None:
            from safetynet.dashboard.airflow_auth import create_airflow_app

            self._app = create_airflow_app()
        await self._app(scope, receive, send)


class SafetyNetMonitorPlugin(AirflowPlugin):
    """Mounts the monitor app and links it from Airflow's navigation bar."""

    # Class-level lists are AirflowPlugin's own API (it declares them so), hence the noqa.
    name = "safetynet_monitor"
    fastapi_apps = [  # noqa: RUF012
        {"app": LazyDashboard(), "url_prefix": URL_PREFIX, "name": "Safety Net Monitor"},
    ]
    external_views = [{  # noqa: RUF012
        "name": "Safety Net Monitor",
        "href": f"{URL_PREFIX}/",
        "icon": f"{URL_PREFIX}/icon.svg",
        "url_route": "safetynet",  # shown inside Airflow's UI at /plugin/safetynet
        "destination": "nav",
        "nav_top_level": True,
    }]
