"""Duplicate, late and missing deliveries (issue #9, item 3), with real files and warehouses.

* The same file seen again (same name, same SHA-256) is a no-op; the same content
  under another valid name is recognised by its SHA-256, recorded in ``meta_file``
  as ``duplicate`` and not loaded — on SQLite and on PostgreSQL, with the warehouse
  rows and the accounting (``meta_load_log``) unchanged. A registry snapshot is
  never a duplicate: each date is a version of its own (docs/over-time.md).
* A file that lands after its day's run is loaded by the next day's run, or by a
  re-run (back-fill) of that day, with every row accounted for.
* A delivery still missing at its configured cut-off
  (``deliveries.<source>.expected_by``) is mailed once, naming the source, the file
  and the folder, through a real SMTP server (aiosmtpd).
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import text
from tests.integration.conftest import SmtpSink

from safetynet import pipeline
from safetynet.config import ConfigError, load_config
from safetynet.warehouse.engine import get_engine

pytestmark = pytest.mark.integration

D = date(2026, 11, 20)
SHANGHAI = ZoneInfo("Asia/Shanghai")


# --------------------------------------------------------------------------- helpers


@pytest.fixture(params=["sqlite", "postgresql"])
def warehouse(request: pytest.FixtureRequest) -> str | None:
    """None for the deployment's own SQLite warehouse, else a fresh PostgreSQL database URL."""
    if request.param == "sqlite":
        return None
    return str(request.getfixturevalue("pg_database"))


def _deploy(deployment: Callable[..., Path], tmp_path: Path, warehouse: str | None) -> Path:
    config = deployment(tmp_path, households=200)
    if warehouse is not None:
        raw = yaml.safe_load(config.read_text("utf-8"))
        raw["warehouse"] = warehouse
        config.write_text(yaml.safe_dump(raw, allow_unicode=True), "utf-8")
    return config


def _query(config: Path, sql: str, **params: object) -> list[tuple]:
    with get_engine(load_config(config).warehouse_url).connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql), params)]


def _state(config: Path, source: str) -> dict[str, Any]:
    """Everything a repeated or duplicate delivery must leave untouched."""
    table = "core_property_right" if source == "property" else "core_utility_reading"
    where = "" if source == "property" else f" WHERE source = '{source}'"
    return {
        "rows": _query(config, f"SELECT COUNT(*) FROM {table}{where}")[0][0],
        "load_log": sorted(_query(config, "SELECT item, batch_id, rows_read, rows_loaded, rows_quarantined, "
                                          "rows_duplicate, loaded_at FROM meta_load_log WHERE source = :s",
                                  s=source)),
        "newest": _query(config, "SELECT newest_data FROM meta_source_state WHERE source = :s",
                         s=source)[0][0],
    }


def _files(config: Path, source: str) -> dict[str, tuple[str, str]]:
    """``meta_file`` for a source: name -> (outcome, sha256)."""
    rows = _query(config, "SELECT file_name, outcome, sha256 FROM meta_file WHERE source = :s", s=source)
    return {name: (outcome, sha) for name, outcome, sha in rows}


def _deliver(folder: Path, name: str, content: bytes) -> None:
    """Write a file, then its ``.ok`` marker, as a department does."""
    (folder / name).write_bytes(content)
    (folder / f"{name}.ok").touch()


# --------------------------------------------------------------------------- duplicates


def test_same_file_again_is_a_no_op(deployment: Callable[..., Path], tmp_path: Path,
                                    warehouse: str | None) -> None:
    """Re-sending a loaded file byte for byte (new marker, new mtime) loads nothing again."""
    config = _deploy(deployment, tmp_path, warehouse)
    pipeline.ingest("electricity", D, config)
    before, files = _state(config, "electricity"), _files(config, "electricity")
    assert before["rows"] > 1000 and files["DL_202610.csv"][0] == "loaded"
    drop = config.parent / "drop" / "power"
    content = (drop / "DL_202610.csv").read_bytes()
    (drop / "DL_202610.csv.ok").unlink()
    time.sleep(1.1)  # loaded_at has second precision: a reload would show
    _deliver(drop, "DL_202610.csv", content)
    result = pipeline.ingest("electricity", D + timedelta(days=1), config)
    assert result["items"] == 0 and result["read"] == 0
    assert _state(config, "electricity") == before
    assert _files(config, "electricity") == files


def test_renamed_copy_of_a_loaded_month_is_recorded_as_duplicate(
        deployment: Callable[..., Path], tmp_path: Path, warehouse: str | None) -> None:
    """October's file re-sent as DL_202611.csv would load October's rows as November's: skipped."""
    config = _deploy(deployment, tmp_path, warehouse)
    pipeline.ingest("electricity", D, config)
    before = _state(config, "electricity")
    drop = config.parent / "drop" / "power"
    october = (drop / "DL_202610.csv").read_bytes()
    _deliver(drop, "DL_202611.csv", october)  # replaces the unfinished file the generator left
    result = pipeline.ingest("electricity", date(2026, 12, 5), config)
    assert result["items"] == 0
    assert _state(config, "electricity") == before
    assert _query(config, "SELECT COUNT(*) FROM core_utility_reading WHERE month = '2026-11'")[0][0] == 0
    files = _files(config, "electricity")
    assert files["DL_202611.csv"][0] == "duplicate"
    assert files["DL_202611.csv"][1] == files["DL_202610.csv"][1]
    assert files["DL_202610.csv"][0] == "loaded"
    seen = _query(config, "SELECT seen_at FROM meta_file WHERE file_name = 'DL_202611.csv'")
    time.sleep(1.1)
    assert pipeline.ingest("electricity", date(2026, 12, 6), config)["items"] == 0  # known: quiet no-op
    assert _query(config, "SELECT seen_at FROM meta_file WHERE file_name = 'DL_202611.csv'") == seen


def test_every_dated_snapshot_is_a_version_whatever_its_content(
        deployment: Callable[..., Path], tmp_path: Path, warehouse: str | None) -> None:
    """A snapshot equal to the loaded one under a later date is that date's version (the
    registry confirmed its data that week); one equal to an older snapshot is the registry
    rolling back, and is the version in force from its date. Earlier versions stay."""
    config = _deploy(deployment, tmp_path, warehouse)
    drop = config.parent / "drop" / "property"
    pipeline.ingest("property", date(2026, 11, 13), config)  # loads BDC_QLR_20261113
    pipeline.ingest("property", D, config)  # BDC_QLR_20261120 is the next version
    assert _state(config, "property")["newest"] == "2026-11-20"
    assert pipeline.ingest("property", D, config)["items"] == 0  # the same file again: a no-op

    shutil.copy(drop / "BDC_QLR_20261120.xlsx", drop / "BDC_QLR_20261121.xlsx")
    (drop / "BDC_QLR_20261121.xlsx.ok").touch()
    assert pipeline.ingest("property", date(2026, 11, 21), config)["items"] == 1
    files = _files(config, "property")
    assert files["BDC_QLR_20261121.xlsx"] == ("loaded", files["BDC_QLR_20261120.xlsx"][1])
    assert _query(config, "SELECT last_outcome FROM meta_source_state WHERE source = 'property'"
                  ) == [("loaded",)]

    shutil.copy(drop / "BDC_QLR_20261113.xlsx", drop / "BDC_QLR_20261127.xlsx")
    (drop / "BDC_QLR_20261127.xlsx.ok").touch()
    result = pipeline.ingest("property", date(2026, 11, 27), config)
    assert result["items"] == 1
    assert _files(config, "property")["BDC_QLR_20261127.xlsx"][0] == "loaded"
    counts = dict(_query(config, "SELECT snapshot_date, COUNT(*) FROM core_property_right "
                                 "GROUP BY snapshot_date"))
    counts = {str(k)[:10]: v for k, v in counts.items()}
    assert sorted(counts) == ["2026-11-13", "2026-11-20", "2026-11-21", "2026-11-27"]
    assert counts["2026-11-27"] == counts["2026-11-13"] and counts["2026-11-21"] == counts["2026-11-20"]


# --------------------------------------------------------------------------- late files


def _hold_back(config: Path) -> tuple[Path, bytes]:
    """Take October's water file out of the drop (it has not arrived yet)."""
    drop = config.parent / "drop" / "water"
    content = (drop / "SS_202610.txt").read_bytes()
    (drop / "SS_202610.txt").unlink()
    (drop / "SS_202610.txt.ok").unlink()
    return drop, content


def _assert_october_water_loaded(config: Path, content: bytes, batch_id: str) -> None:
    delivered = len(content.decode("utf-8").splitlines()) - 1  # minus the header
    (row,) = _query(config, "SELECT batch_id, rows_read, rows_loaded, rows_quarantined, rows_duplicate "
                            "FROM meta_load_log WHERE source = 'water' AND item = 'SS_202610.txt'")
    batch, read, loaded, quarantined, duplicates = row
    assert batch == batch_id
    assert read == delivered == loaded + quarantined + duplicates
    in_warehouse = _query(config, "SELECT COUNT(*) FROM core_utility_reading "
                                  "WHERE source = 'water' AND month = '2026-10'")[0][0]
    assert in_warehouse == loaded > 0.9 * delivered
    assert _query(config, "SELECT COUNT(*) FROM meta_quarantine WHERE source = 'water' "
                          "AND item = 'SS_202610.txt'")[0][0] == quarantined
    assert _files(config, "water")["SS_202610.txt"][0] == "loaded"


def test_late_file_is_loaded_by_the_next_days_run(deployment: Callable[..., Path], tmp_path: Path) -> None:
    config = _deploy(deployment, tmp_path, None)
    drop, content = _hold_back(config)
    first = pipeline.run(D, config)
    assert first["failed_sources"] == {}
    assert _query(config, "SELECT COUNT(*) FROM core_utility_reading WHERE source = 'water' "
                          "AND month = '2026-10'")[0][0] == 0
    _deliver(drop, "SS_202610.txt", content)  # lands after the 2026-11-20 report
    second = pipeline.run(D + timedelta(days=1), config)
    assert second["failed_sources"] == {}
    _assert_october_water_loaded(config, content, (D + timedelta(days=1)).isoformat())
    manifest = json.loads(Path(second["published_to"], "manifest.json").read_text("utf-8"))
    assert manifest["sources"]["water"]["newest_data"] == "2026-10"


def test_late_file_is_loaded_by_a_rerun_of_its_day(deployment: Callable[..., Path], tmp_path: Path) -> None:
    config = _deploy(deployment, tmp_path, None)
    drop, content = _hold_back(config)
    assert pipeline.run(D, config)["failed_sources"] == {}
    _deliver(drop, "SS_202610.txt", content)
    again = pipeline.run(D, config)  # what a back-fill of 2026-11-20 runs
    assert again["failed_sources"] == {}
    _assert_october_water_loaded(config, content, D.isoformat())
    manifest = json.loads(Path(again["published_to"], "manifest.json").read_text("utf-8"))
    assert manifest["sources"]["water"]["newest_data"] == "2026-10"


# --------------------------------------------------------------------------- missing at cut-off


CUTOFF_CONFIG = """\
region: {province: 江西省, city: 上饶市, county: 广丰区}
regions_file: regions.csv
warehouse: sqlite:///warehouse.db
sources:
  civil_affairs: {url: "sqlite:///sources/civil_affairs.db"}
  personnel: {url: "sqlite:///sources/personnel.db"}
  property: {location: drop/property}
  electricity: {location: drop/power}
  water: {location: drop/water}
outbox: {location: outbox}
inbox: {location: inbox}
"""


@pytest.fixture
def cutoff_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A minimal deployment whose water delivery is expected by 05:00 (SAFETYNET_CONFIG)."""
    path = tmp_path / "config.yaml"
    path.write_text(CUTOFF_CONFIG + "deliveries:\n  water: {expected_by: '05:00'}\n", "utf-8")
    for folder in ("drop/property", "drop/power", "drop/water"):
        (tmp_path / folder).mkdir(parents=True)
    monkeypatch.setenv("SAFETYNET_CONFIG", str(path))
    return path


def _sensor_context(report_day: date, run_id: str) -> dict[str, Any]:
    """A task context whose report date (Asia/Shanghai) is ``report_day``."""
    logical = datetime(report_day.year, report_day.month, report_day.day, 4, 30, tzinfo=SHANGHAI)
    ti = SimpleNamespace(dag_id="ingest_water", run_id=run_id, task_id="wait_for_delivery",
                         get_first_reschedule_date=lambda _context: None)
    return {"logical_date": logical.astimezone(UTC), "dag_run": SimpleNamespace(run_after=logical),
            "ti": ti, "run_id": run_id}


def _alerts(config: Path) -> list[tuple]:
    from safetynet.warehouse.engine import migrate

    migrate(get_engine(load_config(config).warehouse_url))
    return _query(config, "SELECT dag_id, task_id, run_id, message FROM meta_task_failure "
                          "WHERE error_class = 'DeliveryMissing'")


def test_missing_delivery_is_mailed_once_at_its_cutoff(cutoff_config: Path, smtp_sink: SmtpSink,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.sdk.exceptions import AirflowRescheduleException

    from safetynet.orchestration import alerts
    from safetynet.orchestration.sensors import DeliveryMarkerSensor, previous_month

    monkeypatch.setenv(alerts.EMAIL_TO_ENV, "bureau@example.org")

    today = datetime.now(SHANGHAI).date()
    late_day = today - timedelta(days=1)  # its 05:00 cut-off has certainly passed
    month = previous_month(late_day)
    expected = f"SS_{month:%Y%m}.txt"
    drop = cutoff_config.parent / "drop" / "water"
    sensor = DeliveryMarkerSensor(task_id="wait_for_delivery", source="water", timeout=7 * 24 * 3600)

    # Before the cut-off (a run for tomorrow): waiting quietly.
    with pytest.raises(AirflowRescheduleException):
        sensor.execute(_sensor_context(today + timedelta(days=1), "early"))
    assert _alerts(cutoff_config) == []

    # After the cut-off: one email naming the source, the file and the folder; the sensor waits on.
    for _ in range(3):  # every later check of the same run stays quiet
        with pytest.raises(AirflowRescheduleException):
            sensor.execute(_sensor_context(late_day, "late"))
    deadline = time.monotonic() + 10
    while not smtp_sink.messages and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    assert len(smtp_sink.messages) == 1
    mail = smtp_sink.messages[0]
    content = SmtpSink.text(mail)
    assert mail["To"] == "bureau@example.org"
    assert "ingest_water" in mail["Subject"] and "expected delivery missing" in mail["Subject"]
    assert f"water: expected {expected} with its marker {expected}.ok" in content
    assert str(drop) in content and f"05:00 (Asia/Shanghai) of {late_day.isoformat()}" in content
    assert "deliveries.water.expected_by" in content
    ((dag_id, task_id, run_id, message),) = _alerts(cutoff_config)
    assert (dag_id, task_id, run_id) == ("ingest_water", "wait_for_delivery", "late")
    assert expected in message

    # Once the file and its marker are there the sensor succeeds, without another email.
    _deliver(drop, expected, b"x")
    sensor.execute(_sensor_context(late_day, "late"))
    assert len(smtp_sink.messages) == 1


def test_no_cutoff_configured_means_no_missing_delivery_alert(
        cutoff_config: Path, smtp_sink: SmtpSink,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.sdk.exceptions import AirflowRescheduleException

    from safetynet.orchestration.sensors import DeliveryMarkerSensor

    cutoff_config.write_text(CUTOFF_CONFIG, "utf-8")
    sensor = DeliveryMarkerSensor(task_id="wait_for_delivery", source="water", timeout=7 * 24 * 3600)
    with pytest.raises(AirflowRescheduleException):
        sensor.execute(_sensor_context(datetime.now(SHANGHAI).date() - timedelta(days=1), "late"))
    time.sleep(0.5)
    assert smtp_sink.messages == []
    assert _alerts(cutoff_config) == []


@pytest.mark.parametrize(("setting", "expected"), [
    ("'05:00'", "05:00"),
    ("05:00", "05:00"),  # unquoted: YAML 1.1 reads a sexagesimal 300
    ("'23:59'", "23:59"),
])
def test_cutoff_setting_is_read(cutoff_config: Path, setting: str, expected: str) -> None:
    cutoff_config.write_text(CUTOFF_CONFIG + f"deliveries:\n  electricity: {{expected_by: {setting}}}\n",
                             "utf-8")
    assert load_config(cutoff_config).expected_by == {"electricity": expected}


@pytest.mark.parametrize(("section", "problem"), [
    ("  personnel: {expected_by: '05:00'}", "deliveries.personnel: not a file source"),
    ("  water: {expected_by: '5 am'}", "deliveries.water.expected_by must be a local time HH:MM"),
    ("  water: {expected_by: '24:00'}", "must be a local time HH:MM"),
])
def test_bad_cutoff_setting_is_refused(cutoff_config: Path, section: str, problem: str) -> None:
    cutoff_config.write_text(CUTOFF_CONFIG + f"deliveries:\n{section}\n", "utf-8")
    with pytest.raises(ConfigError, match=problem):
        load_config(cutoff_config)
