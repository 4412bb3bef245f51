"""The monitor's FastAPI app: the page, its JSON twin, and authentication in front of both.

Airflow mounts a plugin's FastAPI app *without* its login, so the app checks
credentials itself. It accepts exactly what Airflow's own API accepts, in the
same order: an ``Authorization: Bearer`` JWT, else the ``_token`` cookie that
Airflow's UI sets at login (and sends along when the page is shown in Airflow's
iframe). Checking the token is delegated to an injected :data:`Authenticate`
(Airflow's auth manager in production, see ``airflow_auth``), so this module
imports no Airflow and the tests can exercise every branch.

Without a valid token the page redirects to Airflow's login (back here after),
and the JSON API answers 401; a valid user the auth manager does not allow to
see this view gets 403. Tokens are never accepted in the URL: URLs end up in
access logs and browser history.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

COOKIE = "_token"
RESOURCE = "Safety Net Monitor"
HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    # Everything is inline; only Airflow itself (same origin) may frame the page.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                               "frame-ancestors 'self'",
}


@dataclass(frozen=True)
class Principal:
    """Who the token names, and whether the auth manager lets them see the monitor."""

    name: str
    allowed: bool


class NotAuthenticated(Exception):
    """No usable credential: missing, malformed, expired, revoked or badly signed."""


Authenticate = Callable[[str], Awaitable[Principal]]
"""Checks one token; returns the principal or raises :class:`NotAuthenticated`."""


def bearer_or_cookie(request: Request) -> str | None:
    """The credential Airflow would use: the Bearer header wins over the session cookie."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(COOKIE) or None


def create_app(authenticate: Authenticate, load_summary: Callable[[], dict[str, Any]],
               login_url: Callable[[str], str] | None = None,
               load_validation: Callable[[], str] | None = None) -> FastAPI:
    """Build the app; ``login_url(next_url)`` is where an unauthenticated browser is sent,
    ``load_validation()`` renders the validation results page (``/validation``)."""
    app = FastAPI(title="Safety Net Monitor", docs_url=None, redoc_url=None, openapi_url=None)

    async def principal(request: Request) -> Principal:
        token = bearer_or_cookie(request)
        try:
            if token is None:
                raise NotAuthenticated("no token")
            who = await authenticate(token)
        except NotAuthenticated as exc:
            raise HTTPException(401, "Not authenticated", {"WWW-Authenticate": "Bearer"}) from exc
        if not who.allowed:
            raise HTTPException(403, f"{who.name} may not view {RESOURCE}")
        return who

    @app.exception_handler(HTTPException)
    async def _denied(request: Request, exc: HTTPException) -> Response:
        """Browsers asking for the page go to Airflow's login; API clients get the status."""
        wants_page = not request.url.path.rstrip("/").endswith("/api/summary")
        if exc.status_code == 401 and wants_page and login_url is not None:
            return RedirectResponse(login_url(str(request.url)), status_code=303, headers=HEADERS)
        headers = {**HEADERS, **(exc.headers or {})}
        return JSONResponse({"detail": exc.detail}, exc.status_code, headers=headers)

    guarded = [Depends(principal)]

    @app.get("/", response_class=HTMLResponse, dependencies=guarded)
    def page() -> HTMLResponse:
        """The monitor page (sync: FastAPI runs it in a worker thread, off the event loop)."""
        from safetynet.dashboard.page import render

        return HTMLResponse(render(load_summary()), headers=HEADERS)

    @app.get("/validation", response_class=HTMLResponse, dependencies=guarded)
    def validation() -> HTMLResponse:
        """Every validation result by source and batch (offline, escaped: ``validation.docs``)."""
        if load_validation is None:
            raise HTTPException(404, "no validation page in this deployment")
        return HTMLResponse(load_validation(), headers=HEADERS)

    @app.get("/api/summary", dependencies=guarded)
    def summary() -> Response:
        """The page's data as JSON, masked exactly as on the page."""
        body = json.dumps(load_summary(), ensure_ascii=False, default=str)
        return Response(body, media_type="application/json", headers=HEADERS)

    @app.get("/icon.svg", include_in_schema=False)
    def icon() -> Response:
        """The nav icon: a static picture, public like Airflow's own assets."""
        return Response(ICON, media_type="image/svg+xml", headers={"Cache-Control": "max-age=86400"})

    return app


ICON = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" stroke="#0ea5e9" '
        'stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><path d="M3 3v18h18"/>'
        '<rect x="7" y="11" width="3" height="6"/><rect x="12" y="7" width="3" height="10"/>'
        '<rect x="17" y="13" width="3" height="4"/></svg>')
