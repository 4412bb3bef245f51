"""The suite files: valid GX 1.x suites, one per source or table, with levels and no personal data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from safetynet.config import ConfigError
from safetynet.sources.declarations import DB_SPECS, FILE_SPECS
from safetynet.thresholds import default_expectations_dir
from safetynet.validation.settings import (
    is_personal,
    load_suite,
    referenced_columns,
    suite_name,
)

FOLDER = default_expectations_dir()
NAMES = [suite_name(s, t.name, True) for s, specs in DB_SPECS.items() for t in specs] + list(FILE_SPECS)


def test_every_source_and_table_has_exactly_one_suite() -> None:
    assert sorted(p.stem for p in FOLDER.glob("*.json")) == sorted(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_suite_is_declarative_and_free_of_personal_columns(name: str) -> None:
    suite = load_suite(FOLDER, name)
    assert suite["name"] == name
    checks = {e["meta"]["check"] for e in suite["expectations"]}
    assert {"columns", "id_validity"} <= checks or name in (  # tables that hold no ID number
        "civil_affairs.sa_household", "civil_affairs.sa_payment", "business.mr_entity")
    for exp in suite["expectations"]:
        assert exp["meta"]["level"] in ("row", "batch")
        assert not [c for c in referenced_columns(exp["kwargs"]) if is_personal(c)]
        if exp["meta"]["check"] in ("volume", "freshness", "columns", "id_validity", "id_presence"):
            assert exp["meta"]["level"] == "batch", exp
        if exp["meta"]["check"] in ("range", "date_order", "uniqueness", "values", "keys"):
            assert exp["meta"]["level"] == "row", exp


def test_suites_parse_as_gx_suites() -> None:
    from safetynet.validation.gxrun import import_gx

    import_gx()
    from great_expectations.core.expectation_suite import ExpectationSuite

    for name in NAMES:
        suite = ExpectationSuite(**json.loads((FOLDER / f"{name}.json").read_text("utf-8")))
        assert len(suite.expectations) >= 5


def test_a_suite_reading_an_id_number_is_refused(tmp_path: Path) -> None:
    bad = {"name": "x", "expectations": [{"type": "expect_column_values_to_not_be_null",
                                          "kwargs": {"column": "id_norm"}, "meta": {"level": "row"}}]}
    (tmp_path / "x.json").write_text(json.dumps(bad), "utf-8")
    with pytest.raises(ConfigError, match="personal column"):
        load_suite(tmp_path, "x")


def test_a_suite_without_levels_is_refused(tmp_path: Path) -> None:
    bad = {"name": "x", "expectations": [{"type": "expect_column_values_to_not_be_null",
                                          "kwargs": {"column": "a"}}]}
    (tmp_path / "x.json").write_text(json.dumps(bad), "utf-8")
    with pytest.raises(ConfigError, match=r"meta\.level"):
        load_suite(tmp_path, "x")
