"""Ingestion of a 20,000-household deployment on SQLite and PostgreSQL (issue 3).

Every file's accounting adds up, a second load of every source changes nothing,
and every row-level dirt kind of sources.md arrives normalised in the warehouse.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from safetynet import pipeline
from safetynet.config import load_config
from safetynet.sources.declarations import SOURCES
from safetynet.warehouse.engine import get_engine

D = date(2026, 11, 20)
HOUSEHOLDS = 20_000
ID_TABLES = {"core_member": "id", "core_allowance": "id", "core_cremation": "id", "core_staff": "id",
             "core_cadre": "id", "core_declared_relative": "relative_id",
             "core_property_right": "owner_id", "core_utility_reading": "holder_id"}
CN_NUMERAL_UNIT = re.compile(r"[零一二两三四五六七八九十百]+(组|号|栋|单元|室|楼|层)")


def _checksums(url: str) -> dict[str, tuple[int, str]]:
    engine = get_engine(url)
    out = {}
    with engine.connect() as conn:
        for table in sorted(inspect(engine).get_table_names()):
            if table.startswith(("core_", "ref_")):
                rows = conn.execute(text(f"SELECT * FROM {table}")).all()
                digest = hashlib.sha256("\n".join(sorted(map(repr, rows))).encode()).hexdigest()
                out[table] = (len(rows), digest)
    return out


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def loaded(request: pytest.FixtureRequest, deployment: Callable[..., Path],
           tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, tuple[int, str]]]:
    config = deployment(tmp_path_factory.mktemp(request.param), households=HOUSEHOLDS)
    if request.param == "postgresql":
        url = request.getfixturevalue("pg_module_database")
        body = config.read_text("utf-8").splitlines()
        config.write_text("\n".join(f"warehouse: {url}" if ln.startswith("warehouse:") else ln
                                    for ln in body) + "\n", "utf-8")
    for source in pipeline.SOURCES:
        pipeline.ingest(source, D, config)
    first = _checksums(load_config(config).warehouse_url)
    for source in pipeline.SOURCES:  # the second run of every load
        pipeline.ingest(source, D, config)
    return config, first


def _in_force(config: Path) -> set[str]:
    """The delivered files a run for D reads: each marked month up to D's, a registry's newest
    marked snapshot dated on or before D (sources.md), found in the drops, not by the pipeline."""
    cfg, out = load_config(config), set()
    for name, source in SOURCES.items():
        if source.kind != "files" or name not in cfg.sources:
            continue
        tags = {}
        for path in Path(cfg.sources[name]).iterdir():
            found = re.fullmatch(source.pattern.strip("^$"), path.name)
            if found and path.with_name(path.name + ".ok").exists():
                tags[found.group(1)] = path.name
        due = sorted(t for t in tags if t <= D.strftime("%Y%m%d")[: len(t)])
        out |= {tags[t] for t in (due[-1:] if source.cadence == "snapshot" else due)}
    return out


def _query(config: Path, sql: str) -> list:
    with get_engine(load_config(config).warehouse_url).connect() as conn:
        return conn.execute(text(sql)).all()


def test_every_file_accounting_adds_up(loaded: tuple[Path, dict]) -> None:
    config, _ = loaded
    rows = _query(config, "SELECT item, rows_read, rows_loaded, rows_quarantined, rows_duplicate "
                          "FROM meta_load_log WHERE batch_id = '2026-11-20'")
    files = {r.item for r in rows if r.item.endswith((".csv", ".txt", ".xlsx"))}
    assert files == _in_force(config)  # every complete month up to D's, each registry's newest snapshot
    for item, read, loaded_, quarantined, duplicates in rows:
        assert read == loaded_ + quarantined + duplicates, item
    assert sum(r.rows_duplicate for r in rows) > 0


def test_second_run_changes_nothing(loaded: tuple[Path, dict]) -> None:
    config, first = loaded
    assert _checksums(load_config(config).warehouse_url) == first


def test_id_dirt_is_normalised(loaded: tuple[Path, dict]) -> None:
    config, _ = loaded
    dirt = json.loads((config.parent / "expected_cases.json").read_text("utf-8"))["dirt"]
    seen = {"fullwidth": 0, "spaces": 0, "lower_x": 0, "legacy15": 0}
    for table, p in ID_TABLES.items():
        for raw, norm, problem in _query(config, f"SELECT {p}_raw, {p}_norm, {p}_problem FROM {table} "
                                                  f"WHERE {p}_raw IS NOT NULL"):
            assert re.fullmatch(r"[0-9X]*", norm or "") or problem, (table, problem)
            if problem is None:
                assert len(norm) == 18
                seen["fullwidth"] += any("０" <= c <= "９" for c in raw)
                seen["spaces"] += any(c.isspace() for c in raw)
                seen["lower_x"] += raw.endswith("x")
                seen["legacy15"] += len(re.sub(r"\s", "", raw)) == 15
    assert all(seen[k] > 0 for k in seen), seen
    assert dirt["id_wrong_check"] > 0
    bad = _query(config, "SELECT COUNT(*) FROM core_member WHERE id_problem = 'check_char'")[0][0]
    assert bad > 0


def test_names_addresses_dates_and_numbers_are_normalised(loaded: tuple[Path, dict]) -> None:
    config, _ = loaded
    names = [n for (n,) in _query(config, "SELECT name FROM core_member")]
    assert names and not any(n and (re.search(r"\s", n) or re.search(r"[\uff01-\uff5e]", n)) for n in names)
    addresses = [a for (a,) in _query(config, "SELECT address_norm FROM core_household")]
    assert addresses and all(a for a in addresses)
    for a in addresses:
        assert not CN_NUMERAL_UNIT.search(a) and "#" not in a and "幢" not in a, a
        assert not a.startswith(("江西省", "上饶市", "广丰区")), a
    raw_dirty = _query(config, "SELECT COUNT(*) FROM core_household WHERE address LIKE '%#%' "
                               "OR address LIKE '%幢%' OR address LIKE '江西省%'")[0][0]
    assert raw_dirty > 0  # the dirt was there as delivered
    assert _query(config, "SELECT COUNT(*) FROM meta_quarantine WHERE reason LIKE 'unparseable%'"
                  )[0][0] == 0  # every date and number form of sources.md parses
    assert _query(config, "SELECT COUNT(*) FROM core_household WHERE approved_on IS NULL")[0][0] == 0
    assert _query(config, "SELECT COUNT(*) FROM core_property_right WHERE registered_on IS NULL")[0][0] == 0
    usage = _query(config, "SELECT COUNT(*), SUM(usage) FROM core_utility_reading")[0]
    assert usage[0] > 0 and usage[1] > 0


def test_rules_at_scale_equal_the_reference(loaded: tuple[Path, dict]) -> None:
    config, _ = loaded
    pipeline.evaluate(D, config)
    expected = json.loads((config.parent / "expected_cases.json").read_text("utf-8"))["cases"]
    found: dict[str, set[str]] = {rule: set() for rule in expected}
    for key, rule in _query(config, "SELECT case_key, rule_code FROM mart_case_day "
                                    "WHERE report_date = '2026-11-20' AND status <> 'RESOLVED'"):
        found[rule].add(key)
    assert found == {rule: set(keys) for rule, keys in expected.items()}
