"""The daily run with every file source and the outbox on a real OpenSSH server."""

from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from tests.integration.sftp_server import SshServer

from safetynet.pipeline import run

D = date(2026, 11, 20)
CONN = "departments_sftp"


def _over_sftp(config: Path, sshd: SshServer, monkeypatch: pytest.MonkeyPatch, tag: str) -> Path:
    """Move the drops and the outbox onto the server and point the configuration at them."""
    remote = sshd.data / tag
    shutil.move(str(config.parent / "drop"), remote / "drop")
    (remote / "outbox").mkdir()
    body, moved = re.subn(r"location: (drop/\w+|outbox)$", rf"location: sftp://{CONN}{remote}/\1",
                          config.read_text("utf-8"), flags=re.MULTILINE)
    assert moved == len(list((remote / "drop").iterdir())) + 1, body  # every drop and the outbox
    config.write_text(body, "utf-8")
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN.upper()}", sshd.conn_env())
    return remote


def test_run_pulls_from_and_publishes_to_sftp(
        deployment: Callable[..., Path], tmp_path: Path, sshd: SshServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    config = deployment(tmp_path, households=300)
    remote = _over_sftp(config, sshd, monkeypatch, tmp_path.name)
    result = run(D, config)
    assert result["failed_sources"] == {}
    folder = remote / "outbox" / D.isoformat()
    assert sorted(p.name for p in folder.iterdir()) == [
        "_SUCCESS", "manifest.json", f"mismatches_{D:%Y%m%d}.csv", f"mismatches_{D:%Y%m%d}.xlsx",
        f"monitoring_{D:%Y%m%d}.csv"]
    manifest = json.loads((folder / "manifest.json").read_text("utf-8"))
    for entry in manifest["files"]:
        assert hashlib.sha256((folder / entry["name"]).read_bytes()).hexdigest() == entry["sha256"]
    expected = json.loads((config.parent / "expected_cases.json").read_text("utf-8"))["cases"]
    with (folder / f"mismatches_{D:%Y%m%d}.csv").open(encoding="utf-8-sig") as fh:
        keys = {r["case_key"] for r in csv.DictReader(fh)}
    assert keys == {k for ks in expected.values() for k in ks}
    unfinished = sorted((remote / "drop" / "power").glob("DL_*.csv"))[-1]
    landed = config.parent / "work" / "landing" / "electricity"
    assert not (landed / unfinished.name).exists()  # no marker: never downloaded


def test_a_changed_host_key_is_refused_and_nothing_is_published(
        deployment: Callable[..., Path], tmp_path: Path, sshd: SshServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    config = deployment(tmp_path, households=200)
    remote = _over_sftp(config, sshd, monkeypatch, tmp_path.name)
    other = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN.upper()}", sshd.conn_env(host_key=other))
    with pytest.raises(Exception, match="host key"):
        run(D, config)  # the outbox is on the same server: nothing can be published
    assert not (remote / "outbox" / D.isoformat() / "_SUCCESS").exists()


def test_dispositions_are_read_from_an_sftp_inbox(
        deployment: Callable[..., Path], tmp_path: Path, sshd: SshServer,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy import text

    from safetynet.config import load_config
    from safetynet.warehouse.engine import get_engine

    config = deployment(tmp_path, households=200)
    remote = sshd.data / f"{tmp_path.name}-inbox"
    remote.mkdir()
    body = config.read_text("utf-8").replace("location: inbox", f"location: sftp://{CONN}{remote}")
    config.write_text(body, "utf-8")
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN.upper()}", sshd.conn_env())
    run(D, config)
    key = json.loads((config.parent / "expected_cases.json").read_text("utf-8"))["cases"]["R08"][0]
    (remote / "dispositions_a.csv").write_text(f"case_key,outcome,note,suppress_until\n{key},CONFIRMED,,\n",
                                               encoding="utf-8")
    (remote / "dispositions_b.csv").write_text("case_key,outcome,note,suppress_until\n", encoding="utf-8")
    (remote / "dispositions_a.csv.ok").touch()  # b is still being uploaded: no marker
    run(D, config)
    with get_engine(load_config(config).warehouse_url).connect() as conn:
        rows = conn.execute(text("SELECT file_name, case_key, outcome FROM core_disposition")).all()
    assert [tuple(r) for r in rows] == [("dispositions_a.csv", key, "CONFIRMED")]
