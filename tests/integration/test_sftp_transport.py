"""``safetynet.transport`` against a real OpenSSH server: drops, host keys, cuts, publishing.

No mocks: sshd runs on 127.0.0.1 (see ``sftp_server.py``) and cuts are real TCP
cuts by a proxy. The server's files are on this machine, so the tests prepare
drops and inspect the outbox directly on disk.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from tests.integration.sftp_server import (
    CuttingProxy,
    SshServer,
    fingerprint,
    free_port,
    keygen,
)

from safetynet.sources.drops import complete_deliveries
from safetynet.transport import (
    SUCCESS,
    AuthenticationError,
    ConnectionSettingsError,
    HostKeyError,
    RetryableTransportError,
    SftpDrop,
    SftpSettings,
    fetch_complete,
    publish_sftp,
    settings_from_fields,
)

pytestmark = pytest.mark.integration

CONN_ID = "test_sftp"
DL = r"^DL_(\d{6})\.csv$"


@pytest.fixture
def remote(sshd: SshServer) -> Path:
    """A fresh folder on the server (its absolute path is also the remote path)."""
    folder = sshd.data / uuid.uuid4().hex[:8]
    folder.mkdir()
    return folder


def settings(sshd: SshServer, port: int | None = None, **extra: Any) -> SftpSettings:
    return settings_from_fields(CONN_ID, sshd.connection(port=port, **extra))


def deliver(folder: Path, name: str, data: bytes, ok: bool = True) -> Path:
    path = folder / name
    path.write_bytes(data)
    if ok:
        (folder / f"{name}.ok").touch()
    return path


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------- drops


def test_only_files_with_ok_marker_are_listed_and_downloaded(sshd: SshServer, remote: Path,
                                                             tmp_path: Path) -> None:
    body = "户号,户名\n1,张三\n".encode("gb18030")
    deliver(remote, "DL_202609.csv", body)
    deliver(remote, "DL_202610.csv", b"still being written", ok=False)
    deliver(remote, "SS_202609.txt", b"other source")
    with SftpDrop(settings(sshd), str(remote)) as drop:
        listed = drop.list_complete(DL)
        assert [f.name for f in listed] == ["DL_202609.csv"]
        assert listed[0].size == len(body)
        landed = drop.download(listed[0], tmp_path)
    assert landed == tmp_path / "DL_202609.csv"
    assert landed.read_bytes() == body
    assert sorted(p.name for p in tmp_path.iterdir()) == ["DL_202609.csv"]  # no .part left behind


def test_links_directories_and_lookalike_names_on_the_drop_are_never_listed(
        sshd: SshServer, remote: Path) -> None:
    """Issue 16: only regular files, named in full with ASCII digits, are fetched over SFTP."""
    secret = remote.parent / f"{remote.name}-outside.txt"
    secret.write_bytes(b"root:x:0:0:root:/root:/bin/bash\n")
    (remote / "DL_202605.csv").symlink_to(secret)
    (remote / "DL_202605.csv.ok").touch()
    (remote / "DL_202606.csv").mkdir()
    (remote / "DL_202606.csv.ok").touch()
    deliver(remote, "DL_202607.csv\n", b"a trailing newline")
    deliver(remote, "DL_20260\u0669.csv", b"an Arabic-Indic digit")
    deliver(remote, "DL_202609.csv", b"the real month")
    with SftpDrop(settings(sshd), str(remote)) as drop:
        assert [f.name for f in drop.list_complete(DL)] == ["DL_202609.csv"]


def test_fetch_complete_lands_for_the_local_reader_and_downloads_once(
        sshd: SshServer, remote: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", sshd.conn_env())
    first, second = os.urandom(200_000), os.urandom(50_000)
    deliver(remote, "DL_202609.csv", first)
    deliver(remote, "DL_202610.csv", second)
    deliver(remote, "DL_202611.csv", b"partial", ok=False)
    landing, location = tmp_path / "landing", f"sftp://{CONN_ID}{remote}"

    caplog.set_level(logging.INFO, logger="safetynet.transport")
    landed = fetch_complete(location, DL, landing)
    assert [p.name for p in landed] == ["DL_202609.csv", "DL_202610.csv"]
    read = complete_deliveries(landing, DL)  # the unchanged local-folder reader
    assert [(d.name, d.tag, d.sha256) for d in read] == [
        ("DL_202609.csv", "202609", sha(first)), ("DL_202610.csv", "202610", sha(second))]
    inodes = {p.name: p.stat().st_ino for p in landed}

    caplog.clear()
    again = fetch_complete(location, DL, landing)
    assert again == landed
    assert {p.name: p.stat().st_ino for p in again} == inodes  # same files, not rewritten
    assert sum("downloaded" in r.getMessage() for r in caplog.records) == 0
    assert sum("already landed" in r.getMessage() for r in caplog.records) == 2

    corrected = os.urandom(50_000)  # a redelivered month: same size, new content, newer mtime
    (remote / "DL_202610.csv").write_bytes(corrected)
    stamp = time.time() + 60
    os.utime(remote / "DL_202610.csv", (stamp, stamp))
    caplog.clear()
    fetch_complete(location, DL, landing)
    assert (landing / "DL_202610.csv").read_bytes() == corrected
    assert [r.getMessage() for r in caplog.records if "downloaded" in r.getMessage()] == [
        "DL_202610.csv: downloaded 50000 bytes"]


# --------------------------------------------------------------------------- host keys and login


def test_unknown_host_key_is_refused_fast_every_time(sshd: SshServer, remote: Path, tmp_path: Path) -> None:
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text("")
    s = settings(sshd, host_key=None, known_hosts=str(known_hosts))
    durations = []
    for _ in range(10):
        started = time.perf_counter()
        with pytest.raises(HostKeyError) as caught:
            SftpDrop(s, str(remote)).__enter__()
        durations.append(time.perf_counter() - started)
        message = str(caught.value)
        assert caught.value.retryable is False
        assert f"{sshd.host}:{sshd.port}" in message
        assert sshd.host_fingerprint in message
        assert "out of band" in message
    assert known_hosts.read_text() == ""  # never auto-added
    print(f"\nunknown host key, 10 refusals: max {max(durations) * 1000:.0f} ms, "
          f"mean {sum(durations) / 10 * 1000:.0f} ms")
    assert max(durations) < 2.0


def test_known_hosts_needs_the_bracketed_port_form(sshd: SshServer, remote: Path, tmp_path: Path) -> None:
    deliver(remote, "DL_202609.csv", b"x")
    bare, bracketed = tmp_path / "bare", tmp_path / "bracketed"
    bare.write_text(f"{sshd.host} {sshd.host_key}\n")  # the port-22 form does not cover other ports
    bracketed.write_text(f"[{sshd.host}]:{sshd.port} {sshd.host_key}\n")
    with pytest.raises(HostKeyError):
        SftpDrop(settings(sshd, host_key=None, known_hosts=str(bare)), str(remote)).__enter__()
    with SftpDrop(settings(sshd, host_key=None, known_hosts=str(bracketed)), str(remote)) as drop:
        assert [f.name for f in drop.list_complete(DL)] == ["DL_202609.csv"]


def test_changed_host_key_is_refused(sshd: SshServer, remote: Path, tmp_path: Path) -> None:
    other = " ".join(keygen(tmp_path / "impostor", "other").split()[:2])
    with pytest.raises(HostKeyError) as caught:
        SftpDrop(settings(sshd, host_key=other), str(remote)).__enter__()
    message = str(caught.value)
    assert caught.value.retryable is False
    assert "does not match" in message and f"{sshd.host}:{sshd.port}" in message
    assert sshd.host_fingerprint in message  # what the server presented
    assert fingerprint(tmp_path / "impostor.pub") in message  # what the connection expects
    assert "update extra.host_key" in message


def test_password_login_is_refused(sshd: SshServer, remote: Path, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    conn = sshd.connection(private_key=None)
    conn["password"] = "secret-password"
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", json.dumps(conn))
    with pytest.raises(ConnectionSettingsError, match="password login is not used; configure a private key"
                       ) as caught:
        fetch_complete(f"sftp://{CONN_ID}{remote}", DL, tmp_path)
    assert caught.value.retryable is False
    assert "secret-password" not in str(caught.value)


def test_key_the_server_does_not_know_is_refused(sshd: SshServer, remote: Path, tmp_path: Path) -> None:
    keygen(tmp_path / "stranger", "stranger")
    with pytest.raises(AuthenticationError) as caught:
        SftpDrop(settings(sshd, private_key=(tmp_path / "stranger").read_text()), str(remote)).__enter__()
    assert caught.value.retryable is False


def test_connection_refused_is_retryable(sshd: SshServer, remote: Path) -> None:
    with pytest.raises(RetryableTransportError) as caught:
        SftpDrop(settings(sshd, port=free_port()), str(remote)).__enter__()  # nothing listens there
    assert caught.value.retryable is True


# --------------------------------------------------------------------------- cuts and resume


def test_cut_download_leaves_only_part_and_retry_resumes(sshd: SshServer, remote: Path,
                                                         tmp_path: Path) -> None:
    body = os.urandom(3_000_000)
    deliver(remote, "DL_202610.csv", body)
    cutter = CuttingProxy(sshd.port, cut_after=1_000_000, direction="down")
    started = time.perf_counter()
    with pytest.raises(RetryableTransportError) as caught, \
            SftpDrop(settings(sshd, port=cutter.port), str(remote)) as drop:
        drop.download(drop.list_complete(DL)[0], tmp_path)
    cut_seconds = time.perf_counter() - started
    assert caught.value.retryable is True and cutter.cuts >= 1
    assert "interrupted" in str(caught.value)
    part = tmp_path / ".DL_202610.csv.part"
    assert not (tmp_path / "DL_202610.csv").exists()
    held = part.stat().st_size
    assert 0 < held < len(body)

    counter = CuttingProxy(sshd.port, cut_after=None)
    started = time.perf_counter()
    with SftpDrop(settings(sshd, port=counter.port), str(remote)) as drop:
        landed = drop.download(drop.list_complete(DL)[0], tmp_path)
    resume_seconds = time.perf_counter() - started
    assert sha(landed.read_bytes()) == sha(body)
    assert not part.exists()
    assert counter.bytes["down"] < len(body) - held + 200_000  # only the missing bytes travelled
    print(f"\ncut after {held} bytes detected in {cut_seconds:.2f}s; "
          f"resume of {len(body) - held} bytes took {resume_seconds:.2f}s")
    cutter.close()
    counter.close()


def test_part_of_a_changed_remote_file_is_discarded(sshd: SshServer, remote: Path, tmp_path: Path) -> None:
    deliver(remote, "DL_202610.csv", os.urandom(2_000_000))
    cutter = CuttingProxy(sshd.port, cut_after=500_000, direction="down")
    with pytest.raises(RetryableTransportError), \
            SftpDrop(settings(sshd, port=cutter.port), str(remote)) as drop:
        drop.download(drop.list_complete(DL)[0], tmp_path)
    assert (tmp_path / ".DL_202610.csv.part").exists()
    corrected = os.urandom(1_500_000)
    (remote / "DL_202610.csv").write_bytes(corrected)
    with SftpDrop(settings(sshd), str(remote)) as drop:
        landed = drop.download(drop.list_complete(DL)[0], tmp_path)
    assert sha(landed.read_bytes()) == sha(corrected)
    cutter.close()


def test_stalled_server_times_out_as_retryable(sshd: SshServer, remote: Path, tmp_path: Path) -> None:
    deliver(remote, "DL_202610.csv", os.urandom(2_000_000))
    staller = CuttingProxy(sshd.port, cut_after=500_000, direction="down", stall=True)
    started = time.perf_counter()
    with pytest.raises(RetryableTransportError, match="timed out after 1s") as caught, \
            SftpDrop(settings(sshd, port=staller.port, conn_timeout=1), str(remote)) as drop:
        drop.download(drop.list_complete(DL)[0], tmp_path)
    waited = time.perf_counter() - started
    assert caught.value.retryable is True
    assert not (tmp_path / "DL_202610.csv").exists()
    assert 1.0 <= waited < 5.0
    staller.close()


# --------------------------------------------------------------------------- publishing


def staged_folder(base: Path, sizes: dict[str, int]) -> dict[str, bytes]:
    base.mkdir(parents=True, exist_ok=True)
    files = {name: os.urandom(size) for name, size in sizes.items()}
    for name, data in files.items():
        (base / name).write_bytes(data)
    return files


def assert_published(folder: Path, files: dict[str, bytes]) -> None:
    assert sorted(p.name for p in folder.iterdir()) == sorted([*files, SUCCESS])
    for name, data in files.items():
        assert sha((folder / name).read_bytes()) == sha(data)
    success = folder / SUCCESS
    assert success.stat().st_size == 0
    assert all(success.stat().st_mtime_ns >= (folder / n).stat().st_mtime_ns for n in files)


def test_publish_folder_is_complete_checked_and_success_last(
        sshd: SshServer, remote: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", sshd.conn_env())
    outbox = f"sftp://{CONN_ID}{remote}/outbox"
    old = staged_folder(tmp_path / "old", {"mismatches_20261120.csv": 1000, "obsolete.csv": 10})
    assert publish_sftp(outbox, tmp_path / "old", "2026-11-20") == f"{outbox}/2026-11-20"
    assert_published(remote / "outbox" / "2026-11-20", old)

    new = staged_folder(tmp_path / "new", {"mismatches_20261120.csv": 300_000,
                                           "mismatches_20261120.xlsx": 150_000, "manifest.json": 2_000})
    publish_sftp(outbox, tmp_path / "new", "2026-11-20")
    assert_published(remote / "outbox" / "2026-11-20", new)  # obsolete.csv removed, nothing else


def test_cut_publish_leaves_no_success_and_republish_repairs(sshd: SshServer, remote: Path,
                                                             tmp_path: Path) -> None:
    folder = remote / "outbox" / "2026-11-20"
    first = staged_folder(tmp_path / "first", {"mismatches_20261120.csv": 5_000})
    publish_sftp(f"sftp://{CONN_ID}{remote}/outbox", tmp_path / "first", "2026-11-20",
                 settings=settings(sshd))
    assert (folder / SUCCESS).exists()

    files = staged_folder(tmp_path / "second", {"a.csv": 400_000, "b.xlsx": 400_000, "c.json": 400_000})
    cutter = CuttingProxy(sshd.port, cut_after=600_000, direction="up")
    with pytest.raises(RetryableTransportError):
        publish_sftp(f"sftp://{CONN_ID}{remote}/outbox", tmp_path / "second", "2026-11-20",
                     settings=settings(sshd, port=cutter.port))
    assert not (folder / SUCCESS).exists()  # removed first, not yet written
    assert not (set(files) <= {p.name for p in folder.iterdir()})  # the cut really was mid-publish
    assert sha((folder / "mismatches_20261120.csv").read_bytes()) == sha(first["mismatches_20261120.csv"])

    publish_sftp(f"sftp://{CONN_ID}{remote}/outbox", tmp_path / "second", "2026-11-20",
                 settings=settings(sshd))
    assert_published(folder, files)  # stale .part files and the old extract are gone
    cutter.close()
