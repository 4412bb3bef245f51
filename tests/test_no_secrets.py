"""No secret is committed: every git-tracked file is scanned for keys, tokens and passwords.

Why: secrets belong in Airflow connections or ``AIRFLOW_CONN_*`` variables (README,
"Security"); a key pasted into a fixture or a password left in a URL is forever in
the history once committed. Tests that need keys generate them at run time
(``tests/integration/sftp_server.py`` with ssh-keygen, ``tests/unit/transport`` with
``cryptography``), so nothing here should ever need an exception for a real key.
The allowlist below holds only obviously fake values that tests use to check that
a password is refused or hidden; each entry says where and why.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

PATTERNS: dict[str, re.Pattern[str]] = {
    "private key": re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----\s+[\w+/=:\-\s]{40}"),
    "AWS access key id": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "AWS secret key": re.compile(r"(?i)aws_?secret_?access_?key\W{1,4}[A-Za-z0-9/+=]{40}\b"),
    "GitHub token": re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{60,})\b"),
    "Slack token": re.compile(r"\bxox[abeprs]-[A-Za-z0-9-]{10,}"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b"),
    "JSON web token": re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),
    "password in a URL": re.compile(r"\b[a-z][a-z0-9+.\-]*://[^\s/:@'\"`\[\]]+:(?P<value>[^\s/@'\"`]+)@"),
    "secret assigned": re.compile(
        r"(?i)\b[\w.-]*(?:password|passwd|secret|token|api_?key|fernet_key|private_key)[\"']?\s*[:=]\s*"
        r"[\"'](?P<value>[^\"'\s]{6,})[\"']"),
}
"""What a committed secret looks like; ``value`` (where named) is what the allowlist is checked against."""

PLACEHOLDER = re.compile(r"^(?:\*+|…|\.\.\.|x+|password|pw|secret|changeme|\$\{.*|\{.*\}|<.*>|%\(.*)$",
                         re.IGNORECASE)
"""Values that stand for a secret instead of being one (``${VAR}``, ``***``, ``<password>`` …)."""

ALLOWED: dict[tuple[str, str], str] = {
    ("tests/unit/transport/test_settings.py", "hunter2-secret"):
        "a fake password that the SFTP settings must refuse (key login only)",
    ("tests/unit/test_connections.py", "s3cret"):
        "a fake password that a rendered connection URL must hide",
    ("tests/unit/transport/test_settings.py", "garbage"):
        "a private_key value that is not a key, which the SFTP settings must reject",
}
SECRET_FILE_NAMES = re.compile(
    r"(^|/)(id_(rsa|dsa|ecdsa|ed25519)|\.env|\.netrc|\.pgpass|airflow\.cfg|[^/]*\.(pem|key|p12|pfx|jks)"
    r"|[^/]*passwords\.json(\.generated)?)$")
"""Files that hold secrets by their nature, whatever their content."""


def tracked_files() -> list[str]:
    """Every git-tracked path; fails (never skips) outside a git checkout."""
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True,
                             timeout=60).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.fail(f"the secret scan needs a git checkout with git on PATH: {exc}", pytrace=False)
    return [p for p in out.decode().split("\0") if p]


def findings(path: str, text: str) -> list[str]:
    """``path:line: kind`` for every secret-looking match not placeholder or allowlisted."""
    found = []
    for kind, pattern in PATTERNS.items():
        for match in pattern.finditer(text):
            value = match.groupdict().get("value")
            if value is not None and (PLACEHOLDER.match(value) or (path, value) in ALLOWED):
                continue
            line = text.count("\n", 0, match.start()) + 1
            found.append(f"{path}:{line}: {kind}")
    return found


def test_no_secret_in_tracked_files() -> None:
    paths = tracked_files()
    assert len(paths) > 50, f"git lists only {len(paths)} files"
    problems = [f"{p}: a secret file by its name" for p in paths if SECRET_FILE_NAMES.search(p)]
    for path in paths:
        file = REPO / path
        if not file.is_file():  # deleted in the working tree, not yet committed
            continue
        data = file.read_bytes()
        if b"\0" not in data[:8192]:
            problems += findings(path, data.decode("utf-8", errors="replace"))
    assert not problems, "possible secrets committed (move them to a connection or env var):\n" + "\n".join(
        problems)


def test_allowlist_entries_are_still_needed() -> None:
    """A stale exception would silently allow that value anywhere in that file later."""
    for path, value in ALLOWED:
        assert value in (REPO / path).read_text(encoding="utf-8"), f"{path} no longer holds {value!r}"


def test_the_patterns_catch_real_looking_secrets() -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    pem = Ed25519PrivateKey.generate().private_bytes(serialization.Encoding.PEM,
                                                     serialization.PrivateFormat.OpenSSH,
                                                     serialization.NoEncryption()).decode()
    samples = [  # (kind, sample) pairs: a dict literal's "…token": "…" would itself match
        ("private key", pem),
        ("AWS access key id", "aws_access_key_id = AKIA" + "Z7QX4MPLE2RT5KYB"),
        ("GitHub token", "token: ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"),
        ("JSON web token", "eyJhbGciOiJIUzI1NiJ9." + "eyJzdWIiOiJzYWZldHluZXQifQ.c2lnbmF0dXJlLXZhbHVl"),
        ("password in a URL", "postgresql://loader:" + "Tr0ub4dor&3@db:5432/warehouse"),
        ("secret assigned", 'AIRFLOW__API_AUTH__JWT_SECRET: "' + 'q9fJ2kLm0pXz7Rt5"'),
    ]
    for kind, sample in samples:
        assert any(f.endswith(f": {kind}") for f in findings("sample.txt", sample)), kind
    for placeholder in ("postgresql://user:password@host:5432", "postgresql://loader:***@db/x",
                        'password: "${WAREHOUSE_PASSWORD}"'):
        assert findings("sample.txt", placeholder) == [], placeholder
    assert SECRET_FILE_NAMES.search("config/sftp/safetynet_ed25519.key")
    assert SECRET_FILE_NAMES.search("deploy/.env") and not SECRET_FILE_NAMES.search(".env.example")
