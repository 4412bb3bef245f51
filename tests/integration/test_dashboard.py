"""The monitor inside a real Airflow API server, with real Airflow tokens and a real browser.

One module-wide set-up: a generated deployment whose warehouse is PostgreSQL
(the production dialect), the pipeline run on three report dates, then
``airflow db migrate`` and ``airflow api-server`` with this repository's
``plugins/`` and the simple auth manager.

How the browser logs in: the test asks Airflow for a token the way a user's
login does (``POST /auth/token`` with the admin password Airflow generated), then
drives Debian's headless Chromium over the DevTools protocol (``websockets``,
already in the venv): it sets that token as Airflow's ``_token`` cookie, exactly
what Airflow's login leaves in a browser, and opens the page. The token never
goes into a URL. The screenshot lands in ``artifacts/dashboard.png`` (git-ignored).
CI needs ``apt-get install -y chromium fonts-noto-cjk``; when either is missing
the browser test fails (never skips): without a CJK font the Chinese labels
would render as boxes.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from tests.conftest import REPO_ROOT

from safetynet.config import load_config
from safetynet.orchestration.environment import airflow_command, airflow_environment
from safetynet.pipeline import run
from safetynet.warehouse.engine import get_engine

pytestmark = [pytest.mark.integration, pytest.mark.slow]
LAST = date(2026, 11, 20)
DATES = [LAST - timedelta(days=2), LAST - timedelta(days=1), LAST]
SCREENSHOT = REPO_ROOT / "artifacts" / "dashboard.png"
IN_AIRFLOW = REPO_ROOT / "artifacts" / "dashboard-in-airflow.png"
CHROMIUM_APT = "apt-get install -y chromium fonts-noto-cjk"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--force-device-scale-factor=1", "--window-size=1400,1800",
                  "--remote-debugging-port=0"]


BETWEEN_DOCUMENTS = ("Inspected target navigated or closed", "Not attached to an active page")


def find_chromium() -> str | None:
    """Debian's ``chromium`` (or another Chromium/Chrome on PATH), or None."""
    return next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)


class Chromium:
    """Headless Chromium driven over the DevTools protocol: just what this test needs."""

    def __init__(self, exe: str, profile: Path) -> None:
        profile.mkdir(parents=True)
        self.proc = subprocess.Popen([exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file, deadline = profile / "DevToolsActivePort", time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            assert self.proc.poll() is None and time.monotonic() < deadline, "Chromium did not start"
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        page = next(t for t in httpx.get(f"http://127.0.0.1:{port}/json/list").json() if t["type"] == "page")
        from websockets.sync.client import connect

        self.ws = connect(page["webSocketDebuggerUrl"], max_size=None)
        self.ids, self.events = itertools.count(1), []  # type: ignore[var-annotated]
        self.call("Page.enable")

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc: object) -> None:
        self.ws.close()
        self.proc.terminate()
        self.proc.wait(timeout=30)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send one command and return its result (events that arrive meanwhile are kept).

        A command that lands while the page is between documents (a client-side redirect
        after the load event) is answered "navigated or closed" / "Not attached to an active
        page"; it is sent again once the new document is there, for up to 30 s."""
        deadline = time.monotonic() + 30
        while True:
            message = self._send(method, params)
            error = str(message.get("error", {}).get("message", ""))
            if not any(part in error for part in BETWEEN_DOCUMENTS) or time.monotonic() > deadline:
                assert "error" not in message, message
                return dict(message["result"])
            time.sleep(0.25)

    def _send(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        ident = next(self.ids)
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv(timeout=60))
            if message.get("id") == ident:
                return dict(message)
            self.events.append(message.get("method"))

    def navigate(self, url: str) -> None:
        """Open ``url`` and wait for its load event (after any redirects)."""
        self.events.clear()
        self.call("Page.navigate", url=url)
        while "Page.loadEventFired" not in self.events:
            self.events.append(json.loads(self.ws.recv(timeout=60)).get("method"))

    def evaluate(self, expression: str) -> Any:
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True)["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 60) -> None:
        """Poll a JavaScript condition (for pages that render after their load event)."""
        deadline = time.monotonic() + timeout
        while not self.evaluate(expression):
            assert time.monotonic() < deadline, f"timed out waiting for {expression}"
            time.sleep(0.25)

    def set_cookie(self, url: str, name: str, value: str) -> None:
        """Set a cookie as a login response would (HttpOnly, SameSite=Lax)."""
        self.call("Network.setCookie", url=f"{url}/", name=name, value=value, httpOnly=True, sameSite="Lax")

    def screenshot(self, path: Path, full_page: bool = True) -> bytes:
        """Save a PNG of the page (the whole page at 1400 px wide by default) and return it."""
        if full_page:
            height = self.call("Page.getLayoutMetrics")["cssContentSize"]["height"]
            self.call("Emulation.setDeviceMetricsOverride", width=1400, height=max(int(height), 1800),
                      deviceScaleFactor=1, mobile=False)
        png = base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"])
        self.call("Emulation.clearDeviceMetricsOverride")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(png)
        return png


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Server:
    """A running API server and what the tests need to talk to it."""

    url: str
    home: Path
    jwt_secret: str
    config: Path
    log: Path

    def password(self) -> str:
        generated = self.home / "simple_auth_manager_passwords.json.generated"
        return str(json.loads(generated.read_text(encoding="utf-8"))["admin"])

    def login(self) -> str:
        """A token from Airflow's own login endpoint, as the UI gets one."""
        answer = httpx.post(f"{self.url}/auth/token", json={"username": "admin", "password": self.password()})
        assert answer.status_code == 201, answer.text
        return str(answer.json()["access_token"])


@pytest.fixture(scope="module")
def monitored(deployment: Callable[..., Path], pg_module_database: str,
              tmp_path_factory: pytest.TempPathFactory) -> Path:
    config = deployment(tmp_path_factory.mktemp("dashboard-e2e"), households=400)
    body = config.read_text(encoding="utf-8").splitlines()
    config.write_text("\n".join(f"warehouse: {pg_module_database}" if line.startswith("warehouse:") else line
                                for line in body) + "\n", encoding="utf-8")
    for d in DATES:
        run(d, config)
    return config


@pytest.fixture(scope="module")
def server(monitored: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("airflow-home")
    port, secret, log = _free_port(), secrets.token_hex(32), home / "api-server.log"
    env = airflow_environment(monitored, home)
    env.update({
        "AIRFLOW__CORE__AUTH_MANAGER":
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__API_AUTH__JWT_SECRET": secret,
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
    })
    with log.open("ab") as out:
        subprocess.run(airflow_command("db", "migrate"), env=env, stdout=out, stderr=subprocess.STDOUT,
                       check=True, timeout=300)
        proc = subprocess.Popen(airflow_command("api-server", "-H", "127.0.0.1", "-p", str(port), "-w", "1"),
                                env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 180
        while not _healthy(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"airflow api-server did not come up; log tail:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield Server(url, home, secret, monitored, log)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # our own process group: the server and its worker
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/v2/monitor/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _mint(secret: str, valid_for: float = 300) -> str:
    """A token signed like Airflow signs them (secret, audience), without asking the server."""
    from airflow.api_fastapi.auth.tokens import JWTGenerator

    generator = JWTGenerator(secret_key=secret, private_key=None,  # type: ignore[arg-type]
                             valid_for=valid_for,
                             audience="apache-airflow", issuer=None, algorithm="HS512")
    return generator.generate({"sub": "admin", "role": "ADMIN"})


def test_plugin_is_registered_with_its_app_and_nav_link(server: Server) -> None:
    plugins = httpx.get(f"{server.url}/api/v2/plugins",
                        headers={"Authorization": f"Bearer {server.login()}"}).json()["plugins"]
    ours = next(p for p in plugins if p["name"] == "safetynet_monitor")
    assert ours["fastapi_apps"][0]["url_prefix"] == "/safetynet"
    view = ours["external_views"][0]
    assert (view["name"], view["href"], view["destination"]) == ("Safety Net Monitor", "/safetynet/", "nav")


def test_no_or_bad_token_gets_401_or_the_login_page(server: Server) -> None:
    api = f"{server.url}/safetynet/api/summary"
    assert httpx.get(api).status_code == 401
    page = httpx.get(f"{server.url}/safetynet/")
    assert page.status_code == 303 and page.headers["location"].startswith("/auth/login?next=")
    for bad in ("garbage", _mint(secrets.token_hex(32)), _mint(server.jwt_secret, valid_for=-60)):
        assert httpx.get(api, headers={"Authorization": f"Bearer {bad}"}).status_code == 401
        assert httpx.get(api, cookies={"_token": bad}).status_code == 401


def test_airflow_tokens_open_the_page_and_the_api_with_the_warehouse_figures(server: Server) -> None:
    minted, logged_in = _mint(server.jwt_secret), server.login()
    page = httpx.get(f"{server.url}/safetynet/", cookies={"_token": logged_in})
    assert page.status_code == 200 and page.text.count("<svg") >= 4
    api = httpx.get(f"{server.url}/safetynet/api/summary", headers={"Authorization": f"Bearer {minted}"})
    assert api.status_code == 200
    summary = api.json()
    with get_engine(load_config(server.config).warehouse_url).connect() as conn:
        total = int(conn.execute(text("SELECT COUNT(*) FROM mart_case_day WHERE report_date = :d AND "
                                  "(suppressed IS NULL OR suppressed = 0)"), {"d": LAST}).scalar() or 0)
        ids = {r[0] for r in conn.execute(text("SELECT id_number FROM mart_case_day")) if r[0]}
    assert summary["report_date"] == LAST.isoformat() and summary["cases"]["total"] == total > 0
    assert summary["trend"]["dates"] == [d.isoformat() for d in DATES]
    assert not [i for i in ids if i in api.text or i in page.text]


def test_headless_chromium_renders_the_page_and_saves_a_screenshot(server: Server, tmp_path: Path) -> None:
    exe = find_chromium()
    cjk = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True, check=False).stdout \
        if shutil.which("fc-list") else "unknown"
    if exe is None or not cjk.strip():
        what = "Chromium" if exe is None else "a Chinese font (the labels would render as boxes)"
        message = f"{what} not found for the dashboard screenshot test; install with: {CHROMIUM_APT}"
        pytest.fail(message, pytrace=False)  # a missing part fails loudly, never skips
    with Chromium(exe, tmp_path / "profile") as browser:
        browser.navigate(f"{server.url}/safetynet/")  # no cookie yet: Airflow's login page
        assert "/auth/login" in browser.evaluate("location.href")
        browser.set_cookie(server.url, "_token", server.login())
        browser.navigate(f"{server.url}/safetynet/")
        assert browser.evaluate("location.pathname") == "/safetynet/"
        html = browser.evaluate("document.documentElement.outerHTML")
        assert html.count("<svg") >= 4 and "Safety Net Monitor" in html
        png = browser.screenshot(SCREENSHOT)
        browser.navigate(f"{server.url}/plugin/safetynet")  # the nav entry: the page in Airflow's iframe
        framed = "document.querySelector('iframe')?.contentDocument?.querySelectorAll('svg').length >= 4"
        browser.wait_for(framed)
        browser.screenshot(IN_AIRFLOW, full_page=False)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert width == 1400 and height >= 1800 and len(png) > 100_000
