"""A real OpenSSH server for the SFTP tests, and a TCP proxy that cuts connections.

The transport must be proven against the server production talks to (OpenSSH's
``internal-sftp``), not a mock: host-key checks, key-only login, resumable
downloads and atomic renames all depend on real server behaviour. ``sshd`` runs
from a private config in a temp dir on 127.0.0.1 with its own host key and one
authorised client key; :class:`CuttingProxy` sits between client and server
and drops the TCP connection after N bytes, which is a genuine mid-transfer cut.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

SSHD_CANDIDATES = ("/usr/sbin/sshd", "/usr/local/sbin/sshd")
INSTALL_HINT = "install the OpenSSH server: `apt-get install -y openssh-server` (CI must do this too)"


def find_sshd() -> str:
    """Path of ``sshd``; fails the test run (never skips) when it is missing."""
    for candidate in (*SSHD_CANDIDATES, shutil.which("sshd")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    where = "CI (CI=true)" if os.environ.get("CI", "").lower() == "true" else "this machine"
    pytest.fail(f"No sshd on {where}: the SFTP integration tests need a real OpenSSH server; "
                f"{INSTALL_HINT}", pytrace=False)


def keygen(path: Path, comment: str) -> str:
    """Create an ed25519 key pair at ``path``; return the public key line ``ssh-ed25519 AAAA… comment``."""
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)],
                   check=True, capture_output=True, timeout=30)
    return path.with_suffix(".pub").read_text().strip()


def fingerprint(public_key_file: Path) -> str:
    """``SHA256:…`` of a public key, computed by ssh-keygen (independently of paramiko)."""
    out = subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f", str(public_key_file)],
                         check=True, capture_output=True, text=True, timeout=30).stdout
    return out.split()[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class SshServer:
    """A running sshd: where it listens, its host key, the client key it accepts, its data folder."""

    root: Path
    port: int
    process: subprocess.Popen[bytes]
    host_key_line: str  # "ssh-ed25519 AAAA… comment"
    client_key: Path
    data: Path
    host: str = "127.0.0.1"
    login: str = field(default_factory=getpass.getuser)

    @property
    def host_key(self) -> str:
        """The pinned-key form: type and base64, without the comment."""
        return " ".join(self.host_key_line.split()[:2])

    @property
    def host_fingerprint(self) -> str:
        return fingerprint(self.root / "ssh_host_ed25519_key.pub")

    def connection(self, port: int | None = None, **extra: Any) -> dict[str, Any]:
        """Airflow's JSON connection form for this server (``extra`` overrides the defaults)."""
        fields = {"private_key": self.client_key.read_text(), "host_key": self.host_key,
                  "conn_timeout": 10}
        fields.update(extra)
        return {"conn_type": "sftp", "host": self.host, "port": port or self.port, "login": self.login,
                "extra": {k: v for k, v in fields.items() if v is not None}}

    def conn_env(self, **extra: Any) -> str:
        return json.dumps(self.connection(**extra))

    def log(self) -> str:
        return (self.root / "sshd.log").read_text(errors="replace")[-3000:]


def _config(root: Path, with_penalties_off: bool) -> str:
    lines = [
        "ListenAddress 127.0.0.1",
        f"HostKey {root / 'ssh_host_ed25519_key'}",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "PubkeyAuthentication yes",
        f"AuthorizedKeysFile {root / 'authorized_keys'}",
        "StrictModes no",
        "PermitRootLogin prohibit-password",
        "Subsystem sftp internal-sftp",
        f"PidFile {root / 'sshd.pid'}",
        "UsePAM no",
        "MaxStartups 100:30:200",
    ]
    if with_penalties_off:  # OpenSSH >= 9.8 would otherwise block 127.0.0.1 after refused logins
        lines.append("PerSourcePenalties no")
    return "\n".join(lines) + "\n"


def start_sshd(root: Path, timeout: float = 15.0) -> SshServer:
    """Start ``sshd -D -e`` on a free 127.0.0.1 port with fresh keys under ``root``; wait until it answers."""
    sshd = find_sshd()
    Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # privilege-separation dir sshd insists on
    root.mkdir(parents=True, exist_ok=True)
    host_key_line = keygen(root / "ssh_host_ed25519_key", "test-sshd-host")
    client_pub = keygen(root / "client_key", "safetynet-test-client")
    (root / "authorized_keys").write_text(client_pub + "\n")
    config = root / "sshd_config"
    config.write_text(_config(root, with_penalties_off=True))
    if subprocess.run([sshd, "-t", "-f", str(config)], capture_output=True, timeout=30).returncode != 0:
        config.write_text(_config(root, with_penalties_off=False))  # older sshd: option unknown
    checked = subprocess.run([sshd, "-t", "-f", str(config)], capture_output=True, text=True, timeout=30)
    if checked.returncode != 0:
        pytest.fail(f"sshd rejects the test configuration: {checked.stderr.strip()}", pytrace=False)
    data = root / "data"
    data.mkdir()
    port = free_port()
    log = (root / "sshd.log").open("wb")
    process = subprocess.Popen([sshd, "-D", "-e", "-f", str(config), "-p", str(port)],
                               stdout=log, stderr=subprocess.STDOUT)
    server = SshServer(root, port, process, host_key_line, root / "client_key", data)
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            pytest.fail(f"sshd exited with {process.returncode}:\n{server.log()}", pytrace=False)
        try:
            with socket.create_connection((server.host, port), timeout=1) as sock:
                if sock.recv(4).startswith(b"SSH-"):
                    return server
        except OSError:
            if time.monotonic() > deadline:
                stop_sshd(server)
                pytest.fail(f"sshd did not accept connections within {timeout:g}s:\n{server.log()}",
                            pytrace=False)
            time.sleep(0.05)  # startup poll, not a test delay


def stop_sshd(server: SshServer) -> None:
    """Terminate the listener (sessions it forked end with their connections)."""
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait(timeout=10)


class CuttingProxy:
    """Forward 127.0.0.1:<port> to the server; drop each connection after ``cut_after`` bytes.

    ``direction`` is ``"down"`` (server to client, for downloads) or ``"up"``
    (client to server, for uploads). ``cut_after=None`` never cuts and only
    counts, which shows how much a resumed download really transferred.
    ``stall=True`` stops forwarding at the cut but keeps the connection open: a
    hung server, which only a client timeout can end.
    """

    def __init__(self, target_port: int, cut_after: int | None, direction: str = "down",
                 stall: bool = False) -> None:
        self.target_port, self.cut_after, self.direction = target_port, cut_after, direction
        self.stall = stall
        self.bytes = {"down": 0, "up": 0}
        self.cuts = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            pair = (client, upstream)
            for sock in pair:  # forward each block at once, as a real network hop would
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._pump, args=(upstream, client, "down", pair), daemon=True).start()
            threading.Thread(target=self._pump, args=(client, upstream, "up", pair), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, direction: str,
              pair: tuple[socket.socket, socket.socket]) -> None:
        try:
            while block := src.recv(16384):
                with self._lock:
                    self.bytes[direction] += len(block)
                    cut = (direction == self.direction and self.cut_after is not None
                           and self.bytes[direction] >= self.cut_after)
                if cut:
                    self.cuts += 1
                    if self.stall:
                        continue  # swallow everything from now on, never close
                    break
                dst.sendall(block)
        except OSError:
            pass
        for sock in pair:  # a hard cut: both ends see the connection die
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def close(self) -> None:
        self._listener.close()
