"""docker-compose.yml and Dockerfile: the Airflow 3 CeleryExecutor stack is complete and secret-free.

Docker is not needed: the file is parsed with PyYAML (which resolves the
``x-airflow-common`` anchors and ``<<`` merges the way Compose does) and checked
for what breaks a stack at run time rather than at start: a component without
the shared JWT secret or Execution API URL, a missing mount, a missing health
check, an image without the project's dependencies, an auth manager whose
provider is not locked, an SFTP login by password, or a password committed in
the file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "Dockerfile"
AIRFLOW_SERVICES = (
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-worker",
    "airflow-triggerer",
    "airflow-init",
)
OTHER_SERVICES = ("postgres", "redis", "warehouse", "sftp")
MOUNTS = ("dags", "plugins", "include", "expectations")
INTERPOLATED = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*(:?[-?][^}]*)?\}$")
SECRET_NAME = re.compile(r"PASSWORD|SECRET|FERNET|TOKEN|_KEY$|^AIRFLOW_CONN_|SFTP_USERS")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def _env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # the "KEY=value" form
        env = dict(item.split("=", 1) for item in env)
    return {str(k): str(v) for k, v in env.items()}


def test_services(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(AIRFLOW_SERVICES + OTHER_SERVICES) <= set(services)
    assert "x-airflow-common" in compose
    assert services["postgres"]["image"] == "postgres:16"
    assert services["warehouse"]["image"] == "postgres:16"
    assert services["redis"]["image"].startswith("redis:7.2")
    assert services["sftp"]["image"].split(":")[0] in {
        "atmoz/sftp",
        "linuxserver/openssh-server",
        "lscr.io/linuxserver/openssh-server",
    }
    commands = {name: services[name].get("command") for name in AIRFLOW_SERVICES}
    assert commands["airflow-apiserver"] == "api-server"
    assert commands["airflow-scheduler"] == "scheduler"
    assert commands["airflow-dag-processor"] == "dag-processor"
    assert commands["airflow-worker"] == "celery worker"
    assert commands["airflow-triggerer"] == "triggerer"


@pytest.mark.parametrize("name", AIRFLOW_SERVICES)
def test_airflow_component_settings(compose: dict[str, Any], name: str) -> None:
    service = compose["services"][name]
    env = _env(service)
    common = _env(compose["x-airflow-common"])
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
    assert INTERPOLATED.match(env["AIRFLOW__API_AUTH__JWT_SECRET"])
    assert env["AIRFLOW__API_AUTH__JWT_SECRET"] == common["AIRFLOW__API_AUTH__JWT_SECRET"]
    assert "/opt/airflow/include" in env["PYTHONPATH"].split(":")
    assert env["SAFETYNET_CONFIG"].startswith("/opt/airflow/")
    assert INTERPOLATED.match(env["SAFETYNET_ALERT_EMAIL_TO"]), "alert recipients come from the environment"
    assert "AIRFLOW_CONN_SMTP_DEFAULT" in env, "alerts are mailed through the smtp_default connection"
    assert env.get("AIRFLOW__API__SECRET_KEY") == common["AIRFLOW__API__SECRET_KEY"]
    assert "_PIP_ADDITIONAL_REQUIREMENTS" not in env, "dependencies are in the image, not installed at start"
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"].lower() == "false"
    connections = {k: v for k, v in env.items() if k.startswith("AIRFLOW_CONN_")}
    assert connections, "connections come from AIRFLOW_CONN_* variables"
    for key, value in connections.items():
        assert INTERPOLATED.match(value), f"{key} must come from the environment"
    mounts = {v.split(":")[0]: v.split(":")[1] for v in service["volumes"]}
    for folder in MOUNTS:
        assert mounts.get(f"./{folder}") == f"/opt/airflow/{folder}", folder
    assert {"postgres", "redis"} <= set(service["depends_on"])


@pytest.mark.parametrize("name", [*AIRFLOW_SERVICES, *OTHER_SERVICES])
def test_health_checks(compose: dict[str, Any], name: str) -> None:
    service = compose["services"][name]
    if name == "airflow-init":  # a one-shot job: others wait for it to complete instead
        assert service["depends_on"]
        return
    test = service.get("healthcheck", {}).get("test")
    assert test and test[0] in {"CMD", "CMD-SHELL"}, f"{name} has no health check"


def test_components_wait_for_init_and_health(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in AIRFLOW_SERVICES[:-1]:
        depends = services[name]["depends_on"]
        assert depends["airflow-init"]["condition"] == "service_completed_successfully", name
        assert depends["postgres"]["condition"] == "service_healthy", name


def _walk_env(compose: dict[str, Any]) -> list[tuple[str, str, str]]:
    found = [("x-airflow-common", k, v) for k, v in _env(compose["x-airflow-common"]).items()]
    for name, service in compose["services"].items():
        found += [(name, k, v) for k, v in _env(service).items()]
    return found


def test_no_literal_secret(compose: dict[str, Any]) -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    assert "PRIVATE KEY" not in text
    for where, key, value in _walk_env(compose):
        if key.endswith("_FILE") and value.startswith("/opt/airflow/"):  # where a secret is kept
            continue
        if SECRET_NAME.search(key) and value:
            if key == "SFTP_USERS":  # user:password:uid:gid:dirs, and the password stays empty
                assert re.match(r"^[^:]+::", value), f"{where}: literal SFTP password"
                continue
            literal = re.sub(r"\$\{[^}]*\}", "", value)
            assert literal == "", f"{where}: {key} holds a literal value"
    # Credentials inside URLs (scheme://user:password@host) must be interpolated too.
    for match in re.finditer(r"://[^\s:/@]+:([^\s@]+)@", text):
        assert match.group(1).startswith("${"), f"literal password in {match.group(0)}"


def test_airflow_services_run_the_project_image(compose: dict[str, Any]) -> None:
    common = compose["x-airflow-common"]
    assert common["build"]["context"] == "."
    assert common["build"]["dockerfile"] == "Dockerfile"
    for name in AIRFLOW_SERVICES:
        service = compose["services"][name]
        assert service["build"] == common["build"], name
        assert service["image"] == common["image"], name


def test_dockerfile_builds_on_airflow_with_the_lock_and_the_package() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    froms = re.findall(r"(?m)^FROM\s+(\S+)", text)
    assert froms == ["apache/airflow:3.3.2-python3.11"]
    assert re.search(r"pip install [^\n]*--require-hashes -r \S*requirements\.lock", text)
    assert re.search(r"pip install [^\n]*--no-deps /opt/safetynet", text), "the safetynet package"
    for folder in ("include", "dags", "plugins", "expectations"):
        assert re.search(rf"(?m)^COPY .*\b{folder}\b", text), folder
    assert re.search(r"(?m)^USER airflow$", text), "pip runs as the airflow user (official image rule)"
    ignored = (REPO / ".dockerignore").read_text(encoding="utf-8").split()
    assert ".venv" in ignored and ".git" in ignored, "the build context leaves the venv and .git out"


def test_image_dependencies_are_locked() -> None:
    """What the stack needs at run time is pinned in requirements.lock (which the image installs)."""
    lock = (REPO / "requirements.lock").read_text(encoding="utf-8")
    for package in ("apache-airflow", "apache-airflow-providers-celery", "celery", "redis", "paramiko",
                    "apache-airflow-providers-smtp", "apache-airflow-providers-postgres", "psycopg2-binary"):
        assert re.search(rf"(?m)^{re.escape(package)}==", lock), f"{package} is not in requirements.lock"
    for unused in ("apache-airflow-providers-sftp", "apache-airflow-providers-ssh"):  # SFTP is paramiko
        assert not re.search(rf"(?m)^{re.escape(unused)}==", lock), f"{unused} is locked but never used"


def test_auth_manager_is_installed(compose: dict[str, Any]) -> None:
    env = _env(compose["x-airflow-common"])
    manager = env.get("AIRFLOW__CORE__AUTH_MANAGER", "")
    if "providers.fab" in manager:
        lock = (REPO / "requirements.lock").read_text(encoding="utf-8")
        assert re.search(r"(?m)^apache-airflow-providers-fab==", lock), "FabAuthManager needs fab"


def test_sftp_logins_use_keys_and_a_pinned_host_key(compose: dict[str, Any]) -> None:
    sftp = compose["services"]["sftp"]
    user, password = sftp["environment"]["SFTP_USERS"].split(":")[:2]
    assert user == "safetynet" and password == "", "the monitor refuses password logins"
    mounts = {v.split(":")[1]: v.split(":")[0] for v in sftp["volumes"]}
    assert "/home/safetynet/.ssh/keys/safetynet_ed25519.pub" in mounts, "the client key is authorised"
    assert "/etc/ssh/ssh_host_ed25519_key" in mounts, "a stable host key, so connections can pin it"
    header = COMPOSE.read_text(encoding="utf-8")
    assert '"host_key"' in header and "no_host_key_check" not in header


def test_triggerer_can_reach_the_warehouse(compose: dict[str, Any]) -> None:
    """The deadline callback runs in the triggerer and records the miss in the warehouse."""
    assert "warehouse" in compose["services"]["airflow-triggerer"]["depends_on"]
