"""``make test`` sets up its own machine (issue 18, item 8): tools/setup-test-services.

* ``make test`` runs the style gates, then the set-up script, then the suite; CI
  (``.ci/run``) runs ``make test``, so CI and a newcomer use the one script;
* run here (as root in CI) the script leaves sshd, chromium with a CJK font, soffice and
  Redis usable, and a second run changes nothing;
* not as root, on a machine that lacks tools, it installs nothing: it prints the exact
  commands to run and exits non-zero.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.integration.sftp_server import SshServer

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "tools" / "setup-test-services"
NOBODY = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if os.geteuid() == 0 else []
"""Run as ``nobody`` when the tests run as root (CI); otherwise the current user is not root already."""


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*args], capture_output=True, text=True, timeout=1800, check=False, env=env)


def test_make_test_runs_the_gates_then_the_set_up_then_the_suite_and_ci_runs_make_test() -> None:
    planned = _run("make", "-C", str(REPO), "-n", "test")
    assert planned.returncode == 0, planned.stderr
    steps = [line for line in planned.stdout.splitlines() if not line.startswith("make")]
    order = [next((i for i, s in enumerate(steps) if key in s), -1)
             for key in ("ruff check include dags plugins tests bench docs", "mypy include/safetynet",
                         "tools/setup-test-services", "-m pytest")]
    assert -1 not in order and order == sorted(order), steps
    ci = (REPO / ".ci" / "run").read_text("utf-8")
    assert [ln for ln in ci.splitlines() if ln and not ln.startswith(("#", "set ", "cd ", "export "))] == [
        "make test"]
    assert "apt-get" not in ci  # the set-up lives in one place only


def test_the_set_up_leaves_every_tool_usable(sshd: SshServer) -> None:
    first = _run(str(SCRIPT))
    assert first.returncode == 0, first.stdout + first.stderr
    assert "ready" in first.stdout or "nothing to do" in first.stdout, first.stdout
    again = _run(str(SCRIPT))  # idempotent: nothing to install or start the second time
    assert again.returncode == 0 and "installing" not in again.stdout and "starting" not in again.stdout

    assert sshd.port > 0  # the session's real OpenSSH server started (fixture)
    chromium = next(p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p)
    page = _run(chromium, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom",
                "data:text/html;charset=utf-8,<p>监测 ok</p>")
    assert "监测 ok" in page.stdout, page.stderr[-2000:]
    assert _run("fc-list", ":lang=zh").stdout.strip(), "no CJK font"
    office = _run("soffice", "--headless", "--version")
    assert office.returncode == 0 and "LibreOffice" in office.stdout, office
    import redis

    url = os.environ.get("SAFETYNET_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    assert redis.Redis.from_url(url, socket_connect_timeout=3).ping()


@pytest.fixture
def bare_path() -> Iterator[Path]:
    """A PATH folder nobody can read that holds no tools, only an ``apt-get`` and a ``sudo`` that
    record being called (so the test sees whether the script tried to install)."""
    folder = Path(tempfile.mkdtemp(prefix="safetynet-bare-path-"))
    calls = folder / "calls.log"
    calls.touch()
    calls.chmod(0o666)
    shutil.copy(SCRIPT, folder / "setup-test-services")  # readable by nobody wherever the clone is
    for name in ("apt-get", "sudo"):
        fake = folder / name
        fake.write_text(f"#!/bin/sh\necho {name} \"$@\" >> {calls}\nexit 0\n")
        fake.chmod(0o755)
    folder.chmod(stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_not_as_root_it_prints_the_commands_and_installs_nothing(bare_path: Path) -> None:
    from tests.conftest import _free_port

    env = {"PATH": str(bare_path), "HOME": "/tmp",
           "SAFETYNET_TEST_REDIS_URL": f"redis://127.0.0.1:{_free_port()}/0"}  # nothing answers there
    script = str(bare_path / "setup-test-services")  # a clone in a 0700 folder is unreadable to nobody
    done = _run(*NOBODY, "/bin/bash", script, env=env)
    assert done.returncode != 0, done.stdout
    out = done.stdout
    assert "Not root, so nothing was installed or started" in out, out + done.stderr
    assert "  sudo apt-get update" in out
    install = next(ln for ln in out.splitlines() if "apt-get install" in ln)
    assert install.startswith("  sudo DEBIAN_FRONTEND=noninteractive apt-get install -y ")
    for package in ("openssh-server", "chromium", "fonts-noto-cjk", "libreoffice-calc-nogui"):
        assert package in install.split(), install
    assert "start Redis at redis://127.0.0.1:" in out
    assert (bare_path / "calls.log").read_text() == "", "it ran apt-get or sudo itself"

    # The same user with the machine's own PATH has everything: nothing to do, exit 0.
    ready = _run(*NOBODY, "/bin/bash", script,
                 env={"PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "HOME": "/tmp"})
    assert ready.returncode == 0 and "nothing to do" in ready.stdout, ready.stdout + ready.stderr
