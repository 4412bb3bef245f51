"""Local drops: only complete regular files whose name is exactly the contract's (issue 16)."""

from __future__ import annotations

from pathlib import Path

from safetynet.sources.drops import complete_deliveries

DL = r"^DL_(\d{6})\.csv$"


def _deliver(folder: Path, name: str, data: bytes = b"x") -> None:
    (folder / name).write_bytes(data)
    (folder / f"{name}.ok").touch()


def test_links_directories_and_lookalike_names_are_never_read(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    (tmp_path / "passwd").write_bytes(b"root:x:0:0:root:/root:/bin/bash\n")
    (drop / "DL_202605.csv").symlink_to(tmp_path / "passwd")  # a link to a file outside the drop
    (drop / "DL_202605.csv.ok").touch()
    (drop / "DL_202606.csv").mkdir()
    (drop / "DL_202606.csv.ok").touch()
    _deliver(drop, "DL_202607.csv\n")  # a trailing newline passes ``$`` with re.match
    _deliver(drop, "DL_20260\u0669.csv")  # an Arabic-Indic digit passes ``\d`` without re.ASCII
    _deliver(drop, "DL_202608.csv.bak")
    _deliver(drop, "DL_202609.csv", b"the real month")
    (drop / "DL_202610.csv").write_bytes(b"still being written")  # no marker yet
    found = complete_deliveries(drop, DL)
    assert [(d.name, d.tag, d.size) for d in found] == [("DL_202609.csv", "202609", 14)]
