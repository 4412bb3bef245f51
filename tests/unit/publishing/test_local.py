"""Atomic local publishing: _SUCCESS last, re-publishing replaces, content checked."""

from __future__ import annotations

from pathlib import Path

from safetynet.publishing import SUCCESS, publish_folder


def _stage(folder: Path, files: dict[str, bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def test_publish_writes_every_file_then_success(tmp_path: Path) -> None:
    staged = _stage(tmp_path / "s1", {"a.csv": b"1", "manifest.json": b"{}"})
    target = Path(publish_folder(str(tmp_path / "outbox"), staged, "2026-11-20"))
    assert sorted(p.name for p in target.iterdir()) == [SUCCESS, "a.csv", "manifest.json"]
    assert (target / SUCCESS).stat().st_size == 0
    assert (target / SUCCESS).stat().st_mtime_ns >= (target / "a.csv").stat().st_mtime_ns


def test_republishing_replaces_content_and_drops_old_files(tmp_path: Path) -> None:
    out = str(tmp_path / "outbox")
    publish_folder(out, _stage(tmp_path / "s1", {"a.csv": b"old", "b.csv": b"x"}), "D")
    target = Path(publish_folder(out, _stage(tmp_path / "s2", {"a.csv": b"new"}), "D"))
    assert sorted(p.name for p in target.iterdir()) == [SUCCESS, "a.csv"]
    assert (target / "a.csv").read_bytes() == b"new"
