"""The monitor app wired to Airflow's auth manager: the only dashboard module that knows Airflow.

Tokens are checked by the auth manager the API server already initialised,
with ``get_user_from_token`` (signature, expiry, audience and revocation, the
same checks as ``/api/v2``). Authorisation asks that manager whether the user
may see the custom view "Safety Net Monitor", so a deployment with the FAB or
Keycloak manager can grant or deny it per role; the simple auth manager lets
every logged-in user (Viewer and up) see it. Airflow is imported inside the
functions, so importing this module costs nothing where Airflow is not running.
"""

from __future__ import annotations

from fastapi import FastAPI

from safetynet.dashboard.app import RESOURCE, NotAuthenticated, Principal, create_app


async def authenticate(token: str) -> Principal:
    """Validate an Airflow JWT and ask the auth manager whether its user may see the monitor."""
    from airflow.api_fastapi.app import get_auth_manager
    from jwt import InvalidTokenError  # Airflow's validator raises PyJWT's errors

    manager = get_auth_manager()
    try:
        user = await manager.get_user_from_token(token)
    except InvalidTokenError as exc:  # expired ones included (ExpiredSignatureError)
        raise NotAuthenticated(type(exc).__name__) from exc
    allowed = manager.is_authorized_custom_view(method="GET", resource_name=RESOURCE, user=user)
    return Principal(user.get_name(), bool(allowed))


def login_url(next_url: str) -> str:
    """Airflow's login page for the configured auth manager, coming back to ``next_url``."""
    from airflow.api_fastapi.app import get_auth_manager

    return get_auth_manager().get_url_login(next_url=next_url)


def create_airflow_app() -> FastAPI:
    """The app the plugin mounts: Airflow's tokens, the deployment named by ``SAFETYNET_CONFIG``."""
    from safetynet.dashboard.summary import load_summary
    from safetynet.dashboard.validation_page import load_validation_page

    return create_app(authenticate, load_summary, login_url, load_validation_page)
