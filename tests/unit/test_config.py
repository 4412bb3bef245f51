"""The configuration file is checked against its schema before anything runs (outputs.md)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from safetynet.config import ConfigError, load_config

GOOD = {
    "region": {"province": "江西省", "city": "上饶市", "county": "广丰区"},
    "regions_file": "regions.csv",
    "warehouse": "sqlite:///warehouse.db",
    "work_dir": "work",
    "sources": {
        "civil_affairs": {"url": "sqlite:///sources/civil_affairs.db"},
        "personnel": {"url": "sqlite:///sources/personnel.db"},
        "property": {"location": "drop/property"},
        "electricity": {"location": "drop/power"},
        "water": {"location": "drop/water"},
    },
    "outbox": {"location": "outbox"},
    "inbox": {"location": "inbox"},
    "rules": {"electricity_high_kwh": 500, "utility_window_months": 3},
    "validation": {"volume_floor": 0.5},
}


def _write(tmp_path: Path, changes: dict) -> Path:
    raw = yaml.safe_load(yaml.safe_dump(GOOD, allow_unicode=True))
    for dotted, value in changes.items():
        *parents, last = dotted.split(".")
        node = raw
        for p in parents:
            node = node.setdefault(p, {})
        if value is DELETE:
            node.pop(last)
        else:
            node[last] = value
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


DELETE = object()


def test_a_good_file_loads_with_the_contracts_defaults(tmp_path: Path) -> None:
    cfg = load_config(_write(tmp_path, {"sources.vehicles": {"location": "drop/vehicles"},
                                        "warning_outbox": {"location": "warnings"}}))
    assert cfg.rules["utility_window_months"] == 3 and cfg.rules["non_residential_uses"] == [
        "商业", "办公", "工业"]


@pytest.mark.parametrize(("change", "named"), [
    ({"rules.non_residential_uses": "商业"}, "rules.non_residential_uses"),  # a string, not a list
    ({"rules.utility_window_months": 0}, "rules.utility_window_months"),
    ({"rules.utility_window_months": "3"}, "rules.utility_window_months"),
    ({"rules.electricity_hihg_kwh": 600}, "rules.electricity_hihg_kwh: unknown key"),
    ({"validation.volume_floor": 1.5}, "validation.volume_floor"),
    ({"outbx": {"location": "x"}}, "outbx: unknown key"),
    ({"sources.civil_affairs": DELETE}, "sources.civil_affairs: field required"),
    ({"sources.water.location": ["a"]}, "sources.water.location"),
    ({"outbox.location": "drop/power/out"}, "outbox: "),  # inside a partner's drop
    ({"outbox.location": "inbox"}, "outbox: "),  # the inbox itself
    ({"work_dir": "outbox/work"}, "work_dir: "),  # inside the outbox
    ({"warning_outbox": {"location": "outbox"}}, "outbox: "),  # the inspectors' outbox itself
])
def test_a_bad_file_is_refused_with_one_line_naming_the_key(tmp_path: Path, change: dict,
                                                             named: str) -> None:
    path = _write(tmp_path, change)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert "\n" not in message and f"{path}: {named}" in message, message


def test_the_command_line_exits_2_with_one_line(tmp_path: Path) -> None:
    path = _write(tmp_path, {"rules.utility_window_months": 0})
    for args in (["check-config"], ["run", "--date", "2026-11-20"], ["status"]):
        done = subprocess.run([sys.executable, "-m", "safetynet.cli", *args, "--config", str(path)],
                              capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 2, (args, done.stderr)
        assert done.stderr.strip().count("\n") == 0 and "rules.utility_window_months" in done.stderr
    missing = subprocess.run([sys.executable, "-m", "safetynet.cli", "run", "--date", "2026-11-20",
                              "--config", str(tmp_path / "nowhere.yaml")],
                             capture_output=True, text=True, timeout=120, check=False)
    assert missing.returncode == 2 and "configuration file not found" in missing.stderr
    assert "source" not in missing.stderr  # not five misleading "source failed" lines
