"""The ``safetynet`` command as on-call runs it (issue 18, item 5), through the installed console script.

* ``generate --out DIR`` refuses a non-empty folder (exit 2, one line saying what to do);
  with ``--force`` it replaces the deployment there: exactly what generate wrote and
  what running it added (warehouse.db, work/, the outbox), nothing else;
* ``run --source S --date D`` re-runs one source's extract, validate and load under
  that source's task lock, leaves the other sources' load log as it was, evaluates
  and publishes nothing, and says what it loaded; an unknown source exits 2 naming
  the sources; a held lock exits 3 naming the holder;
* dates are ``YYYY-MM-DD`` only (``20261121`` and ``2026-1-5`` exit 2).
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text

from safetynet.config import load_config
from safetynet.locking import task_lock
from safetynet.sources.declarations import SOURCES
from safetynet.warehouse.engine import get_engine

pytestmark = pytest.mark.integration

SAFETYNET = Path(sys.executable).with_name("safetynet")
D = "2026-11-20"
LOCAL = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+08:00"


def _cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SAFETYNET), *map(str, args)], capture_output=True, text=True,
                          timeout=600, check=False)


def _load_log(config: Path) -> list[tuple]:
    with get_engine(load_config(config).warehouse_url).connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT source, item, batch_id, rows_read, rows_loaded, rows_quarantined, rows_duplicate, "
            "loaded_at FROM meta_load_log ORDER BY source, item"))]


@pytest.mark.parametrize("args", [
    ["run", "--date", "20261121", "--config", "{tmp}/config.yaml"],
    ["run", "--date", "2026-1-5", "--config", "{tmp}/config.yaml"],
    ["run", "--date", "2026-11-31", "--config", "{tmp}/config.yaml"],
    ["run", "--date", "2026-W47-5", "--config", "{tmp}/config.yaml"],
    ["run", "--source", "water", "--date", "20261121", "--config", "{tmp}/config.yaml"],
    ["generate", "--out", "{tmp}/new", "--date", "20261121"],
])
def test_a_date_not_written_yyyy_mm_dd_is_refused(args: list[str], tmp_path: Path) -> None:
    done = _cli(*[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert done.returncode == 2, done
    assert "not a date in the form YYYY-MM-DD" in done.stderr
    assert not (tmp_path / "new").exists()


def test_generate_refuses_a_non_empty_folder_and_force_replaces_the_deployment(tmp_path: Path) -> None:
    out = tmp_path / "dep"
    first = _cli("generate", "--out", out, "--households", "200")
    assert first.returncode == 0, first.stderr[-2000:]
    config = out / "config.yaml"
    written = config.stat().st_mtime_ns

    again = _cli("generate", "--out", out, "--households", "200", "--seed", "8")
    assert again.returncode == 2
    assert again.stderr.strip().count("\n") == 0, again.stderr  # one line
    assert "not empty" in again.stderr and "--force" in again.stderr
    assert config.stat().st_mtime_ns == written  # nothing touched

    other = tmp_path / "mine"  # a folder that holds no deployment is refused as well
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    refused = _cli("generate", "--out", other)
    assert refused.returncode == 2 and (other / "notes.txt").read_text() == "keep me"
    assert not (other / "config.yaml").exists()

    # What a run leaves behind, and what is not the deployment's
    (out / "warehouse.db").write_bytes(b"old warehouse")
    (out / "warehouse.db-wal").write_bytes(b"old wal")
    (out / "work" / "locks").mkdir(parents=True)
    (out / "work" / "stale.parquet").write_bytes(b"x")
    (out / "outbox" / D).mkdir(parents=True)
    (out / "outbox" / D / "_SUCCESS").touch()
    (out / "airflow").mkdir()
    (out / "airflow" / "airflow.cfg").write_text("[core]\n")
    (out / "notes.txt").write_text("keep me")

    forced = _cli("generate", "--out", out, "--households", "200", "--seed", "8", "--force")
    assert forced.returncode == 0, forced.stderr[-2000:]
    removed = forced.stdout.splitlines()[0]
    for name in ("config.yaml", "sources", "drop", "outbox", "warehouse.db", "warehouse.db-wal", "work"):
        assert re.search(rf"\b{re.escape(name)}\b", removed), removed
    assert not (out / "warehouse.db").exists() and not (out / "warehouse.db-wal").exists()
    assert not (out / "work").exists()
    assert list((out / "outbox").iterdir()) == []
    assert (out / "notes.txt").read_text() == "keep me"  # not the deployment's: kept
    assert (out / "airflow" / "airflow.cfg").is_file()
    assert '"seed": 8' in (out / "expected_cases.json").read_text("utf-8")  # the new deployment


def test_generate_help_says_exactly_what_force_removes() -> None:
    from safetynet.generate.deployment import REPLACED

    shown = " ".join(_cli("generate", "--help").stdout.split())
    assert "--force" in shown
    for name in REPLACED:
        assert name.removeprefix("warehouse.db") in shown or name in shown, name
    assert "anything else in the folder is kept" in shown


def test_run_one_source_loads_it_alone_and_publishes_nothing(deployment: Callable[..., Path],
                                                              tmp_path: Path) -> None:
    config = deployment(tmp_path)
    prop = _cli("run", "--source", "property", "--date", D, "--config", config)
    assert prop.returncode == 0, prop.stderr[-2000:]
    assert re.match(r"loaded property for 2026-11-20: 1 new item\(s\), [\d,]+ rows read, [\d,]+ loaded",
                    prop.stdout), prop.stdout
    before = _load_log(config)
    assert {r[0] for r in before} == {"property"}

    water = _cli("run", "--source", "water", "--date", D, "--config", config)
    assert water.returncode == 0, water.stderr[-2000:]
    assert water.stdout.startswith("loaded water for 2026-11-20: "), water.stdout
    after = _load_log(config)
    assert [r for r in after if r[0] != "water"] == before  # the other sources' log, untouched
    water_rows = [r for r in after if r[0] == "water"]
    assert water_rows and all(r[4] > 0 for r in water_rows)
    assert sum(r[4] for r in water_rows) == int(re.search(r"([\d,]+) loaded", water.stdout)
                                                .group(1).replace(",", ""))

    # It evaluates and publishes nothing.
    assert not (config.parent / "outbox" / D).exists()
    with get_engine(load_config(config).warehouse_url).connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM mart_case_day")).scalar() == 0

    # The same again finds nothing new; the log stays as it was.
    again = _cli("run", "--source", "water", "--date", D, "--config", config)
    assert again.returncode == 0 and "0 new item(s)" in again.stdout, again
    assert _load_log(config) == after

    status = _cli("status", "--config", config)
    shown = status.stdout
    assert re.search(rf"water +ok +newest=2026-10 loaded_at={LOCAL} last=loaded", shown), shown
    assert re.search(r"personnel +STALE newest=- loaded_at=- last=never_loaded", shown), shown


def test_run_one_source_names_the_sources_and_respects_the_task_lock(deployment: Callable[..., Path],
                                                                     tmp_path: Path) -> None:
    config = deployment(tmp_path)
    unknown = _cli("run", "--source", "gas", "--date", D, "--config", config)
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == f"safetynet: unknown source 'gas'; the sources are {', '.join(SOURCES)}"
    assert "civil_affairs, personnel, property" in unknown.stderr  # declaration order

    with task_lock(load_config(config), "water", "airflow ingest_water.load 2026-11-20 (test)"):
        held = _cli("run", "--source", "water", "--date", D, "--config", config)
        other = _cli("run", "--source", "property", "--date", D, "--config", config)
    assert held.returncode == 3, held
    assert "airflow ingest_water.load 2026-11-20 (test)" in held.stderr
    assert other.returncode == 0, other.stderr[-2000:]  # another source's lock is free
    assert {r[0] for r in _load_log(config)} == {"property"}
