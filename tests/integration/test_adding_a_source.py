"""Adding a source takes four files (README, "Adding a source"): proven on a toy source.

In a temporary copy of the package, DAG folder and suites, exactly four files
change — the source's declaration, its warehouse table, its expectation suite and
its DAG file — and nothing else. The copy then generates a deployment, receives
two monthly deliveries of the new source and runs the day: the rows are
extracted, validated (a bad row quarantined with its file, row and reason),
loaded, reported fresh and listed in the manifest; a broken re-delivery fails the
new source alone and the next report names it stale. The DAG folder parses with
the new ingest DAG built from the declaration.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
D1, D2 = "2026-11-20", "2026-11-21"

pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

DECLARATION = '''
TOY = Source(
    "toy", "农业农村局", "Agriculture", "files", (TableSpec("NY", "core_toy", columns(
        补贴编号=("grant_no", "key"), 证件号码=("holder_id", "id"), 姓名=("holder_name", "name"),
        发放年月=("month", "month"), 补贴金额=("amount", "number"),
    ), key=("month", "grant_no"), extra={"encoding": "utf-8", "sep": ","}),),
    schedule="0 5 6 * *", stale_after_days=100, freshness=("core_toy", "month"),
    cadence="monthly", file_name="NY_{tag}.csv", doc=MONTHLY_DOC)
'''
TABLE = '''
core_toy = Table(  # a toy source (tests/integration/test_adding_a_source.py)
    "core_toy", metadata,
    Column("source", String(16)), Column("month", String(7), nullable=False),
    Column("grant_no", String(64), nullable=False), *_id("holder_id"), Column("holder_name", Text),
    Column("amount", Float), Column("file_name", Text),
)
'''
SUITE = {
    "name": "toy",
    "meta": {"source": "toy", "table": None},
    "expectations": [
        {"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "grant_no"},
         "meta": {"level": "row", "why": "a grant without its number cannot be identified"}},
        {"type": "expect_column_values_to_be_between",
         "kwargs": {"column": "amount", "min_value": 0, "max_value": 100000},
         "meta": {"level": "row", "why": "a negative or absurd amount is a clerical error"}},
        {"type": "expect_table_row_count_to_be_between",
         "kwargs": {"min_value": {"$PARAMETER": "min_rows"}, "max_value": {"$PARAMETER": "max_rows"}},
         "meta": {"level": "batch", "why": "a collapsed re-delivery is refused"}},
        {"type": "expect_column_max_to_be_between",
         "kwargs": {"column": "month", "min_value": {"$PARAMETER": "fresh_since"}},
         "meta": {"level": "batch", "why": "the newest month must not be older than stale_after_days"}},
    ],
}
DAG_FILE = '''"""The Airflow DAG ``ingest_toy``, built from the source's declaration."""

from __future__ import annotations

from safetynet.orchestration.ingest import ingest_dag

dag = ingest_dag("toy")
'''
HEADER = "补贴编号,证件号码,姓名,发放年月,补贴金额\n"


def _ids(n: int) -> list[str]:
    from safetynet.transforms import check_char

    out = []
    for i in range(n):
        first17 = f"36112219700101{i:03d}"
        out.append(first17 + check_char(first17))
    return out


def _add_toy_source(copy: Path) -> list[Path]:
    """Write the four files into the copy; return them."""
    declarations = copy / "include/safetynet/sources/declarations.py"
    text = declarations.read_text(encoding="utf-8")
    listed = re.search(r"SOURCES: dict\[str, Source\] = \{s\.name: s for s in \(([^)]*)\)\}", text)
    assert listed, "the declarations module no longer lists its sources as the test expects"
    text = text[:listed.end(1)] + ", TOY" + text[listed.end(1):]  # the toy source listed last
    text = text.replace("SOURCES: dict[str, Source]", DECLARATION + "\n\nSOURCES: dict[str, Source]", 1)
    declarations.write_text(text, encoding="utf-8")
    schema = copy / "include/safetynet/warehouse/schema.py"
    schema.write_text(schema.read_text(encoding="utf-8") + TABLE, encoding="utf-8")
    suite = copy / "expectations/toy.json"
    suite.write_text(json.dumps(SUITE, ensure_ascii=False, indent=2), encoding="utf-8")
    dag = copy / "dags/ingest_toy.py"
    dag.write_text(DAG_FILE, encoding="utf-8")
    return [declarations, schema, suite, dag]


def _changed_files(copy: Path) -> set[str]:
    """Files of the copy that differ from (or are not in) the repository."""
    out = set()
    for path in copy.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            original = REPO / path.relative_to(copy)
            if not original.is_file() or original.read_bytes() != path.read_bytes():
                out.add(str(path.relative_to(copy)))
    return out


def _run(copy: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(copy / "include")}
    env.pop("SAFETYNET_EXPECTATIONS", None)
    return subprocess.run([sys.executable, "-m", "safetynet.cli", *args], cwd=copy, env=env,
                          capture_output=True, text=True, timeout=600)


def _deliver(drop: Path, month: str, body: str) -> None:
    name = f"NY_{month}.csv"
    (drop / name).write_text(HEADER + body, encoding="utf-8")
    (drop / f"{name}.ok").touch()


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package, DAGs and suites copied, with the toy source's four files added."""
    root = tmp_path_factory.mktemp("with_toy")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for part in ("include", "dags", "expectations"):
        shutil.copytree(REPO / part, root / part, ignore=ignore)
    _add_toy_source(root)
    return root


def test_only_the_four_files_change(copy: Path) -> None:
    assert _changed_files(copy) == {"include/safetynet/sources/declarations.py",
                                    "include/safetynet/warehouse/schema.py",
                                    "expectations/toy.json", "dags/ingest_toy.py"}


def test_the_new_source_is_extracted_validated_loaded_and_reported(copy: Path) -> None:
    probe = subprocess.run([sys.executable, "-c", "import safetynet; print(safetynet.__file__)"],
                           env={**os.environ, "PYTHONPATH": str(copy / "include")},
                           capture_output=True, text=True, check=True)
    assert probe.stdout.startswith(str(copy)), "the copy, not the installed package, must run"

    site = copy / "site"
    made = _run(copy, "generate", "--out", str(site), "--households", "200", "--seed", "3", "--date", D1)
    assert made.returncode == 0, made.stderr
    config = site / "config.yaml"
    settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    settings["sources"]["toy"] = {"location": "drop/toy"}
    config.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    drop = site / "drop/toy"
    drop.mkdir()
    ids = _ids(30)
    rows = [f"G{i:04d},{pid},农户{i},2026-10,\"1,{i:03d}.50\"" for i, pid in enumerate(ids)]
    rows.append(f"G9999,{ids[0]},农户,2026-10,-5")  # a negative amount: quarantined, not lost
    _deliver(drop, "202610", "\n".join(rows) + "\n")
    _deliver(drop, "202609", "\n".join(r.replace("2026-10", "2026-09") for r in rows[:25]) + "\n")

    day1 = _run(copy, "run", "--config", str(config), "--date", D1)
    assert day1.returncode == 0, day1.stderr[-3000:]
    assert ids[0] not in day1.stdout + day1.stderr  # the new source's IDs stay out of the logs

    with sqlite3.connect(site / "warehouse.db") as db:
        loaded = db.execute("SELECT month, COUNT(*), SUM(amount) FROM core_toy GROUP BY month "
                            "ORDER BY month").fetchall()
        accounting = db.execute("SELECT item, rows_read, rows_loaded, rows_quarantined FROM meta_load_log "
                                "WHERE source = 'toy' ORDER BY item").fetchall()
        quarantined = db.execute("SELECT item, row_number, column_name, reason FROM meta_quarantine "
                                 "WHERE source = 'toy'").fetchall()
        validated = db.execute("SELECT COUNT(*) FROM meta_validation WHERE source = 'toy'").fetchone()[0]
        normalised = db.execute("SELECT COUNT(*) FROM core_toy WHERE holder_id_norm IS NOT NULL "
                                "AND holder_id_problem IS NULL").fetchone()[0]
    assert loaded == [("2026-09", 25, pytest.approx(sum(1000.5 + i for i in range(25)))),
                      ("2026-10", 30, pytest.approx(sum(1000.5 + i for i in range(30))))]
    assert normalised == 55
    assert accounting == [("NY_202609.csv", 25, 25, 0), ("NY_202610.csv", 31, 30, 1)]
    assert len(quarantined) == 1 and quarantined[0][:3] == ("NY_202610.csv", 32, "amount")
    assert validated >= 2

    manifest = json.loads((site / "outbox" / D1 / "manifest.json").read_text(encoding="utf-8"))
    toy = manifest["sources"]["toy"]
    assert toy["newest_data"] == "2026-10" and toy["last_outcome"] == "loaded" and not toy["stale"]
    assert "toy" not in manifest["stale_sources"]

    (drop / "NY_202611.csv").write_text("证件号码,补贴编号\n1,2\n", encoding="utf-8")  # wrong header
    (drop / "NY_202611.csv.ok").touch()
    day2 = _run(copy, "run", "--config", str(config), "--date", D2)
    assert day2.returncode == 0, day2.stderr[-3000:]  # the report still publishes (README) ...
    assert "stale source toy" in day2.stderr and "NY_202611.csv" in day2.stderr
    manifest = json.loads((site / "outbox" / D2 / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["stale_sources"] == ["toy"]  # ... and only the new source is stale
    assert manifest["sources"]["toy"]["newest_data"] == "2026-10"  # the good data stays


def test_the_dag_folder_has_the_new_ingest_dag(copy: Path) -> None:
    script = ("from airflow.dag_processing.dagbag import DagBag\n"
              f"bag = DagBag(dag_folder={str(copy / 'dags')!r})\n"
              "assert not bag.import_errors, bag.import_errors\n"
              "dag = bag.dags['ingest_toy']\n"
              "print(sorted(t.task_id for t in dag.tasks))\n")
    env = {**os.environ, "PYTHONPATH": str(copy / "include")}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "['extract', 'load', 'validate', 'wait_for_delivery']"
