"""Personal data stays in the extract and the warehouse: an end-to-end scan of everything else.

Why: the privacy promise (README, "Privacy") is easy to break silently — one
``log.info(row)``, one task returning a DataFrame to XCom, one GX result with raw
failing values, one failing ``COPY`` whose row the server writes to its log. So
this test runs a whole day through Airflow (warehouse on PostgreSQL, with bad
deliveries so the failure paths run too, and an ID field holding two numbers),
with rare canary names planted in the source data, and then searches every other
place a person's data could land: Airflow's task logs and metadata DB (XCom,
rendered template fields, …), ``meta_validation``, ``meta_task_failure``, the
validation reports, the alert emails, the PostgreSQL server log of the run, the
manifest, ``safetynet status`` and the monitoring and validation pages. None may
hold any of the deployment's full ID numbers (every one in the source databases)
or a canary name. The extract (outbox) and the warehouse tables may, and must:
that is the check that the scan can find what it looks for.

:class:`PersonalDataScanner` is the reusable part: give it the needles, feed it
texts, files, folders or rows, and :func:`describe` lists each hit's place with
the value masked.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import sys
import unicodedata
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, create_engine, inspect, text
from tests.integration.conftest import SmtpSink

from safetynet.dashboard.page import render
from safetynet.dashboard.summary import load_summary
from safetynet.dashboard.validation_page import load_validation_page
from safetynet.privacy import mask_id
from safetynet.sources.declarations import SOURCES
from safetynet.transforms.ids import normalize_id

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(1800)]

DAY = "2026-11-20"
# Rare, unmistakable names (rarely used ideographs), one per kind of source record; "headerless"
# is the first row of a file delivered without its header line.
CANARIES = {"member": "龘靐齉", "cremation": "麤鱻爨", "staff": "齾灪龖", "allowance": "籱龗驫",
            "role": "爩麣癵", "headerless": "黧黟黥"}
ID_TABLES = {  # source table -> its ID columns, from the declarations (every database source)
    table.name: tuple(column for column, (_, kind) in table.columns.items() if kind == "id")
    for source in SOURCES.values() if source.kind == "database" for table in source.tables
}
_RUN = re.compile(r"[0-9X]{15,}")
_WS = re.compile(r"\s+")


# --------------------------------------------------------------------------- the scanner


@dataclass(frozen=True)
class Hit:
    """One piece of personal data found: where, and the value masked."""

    place: str
    masked: str


@dataclass
class PersonalDataScanner:
    """Finds given ID numbers and names in texts, files, folders and table rows.

    Texts are NFKC-normalised and upper-cased, and searched once as they are and
    once with whitespace removed, so full-width digits, ``x`` and IDs split by
    spaces (all delivered that way) are still found.
    """

    ids: frozenset[str]
    names: frozenset[str]
    figures: frozenset[str] = frozenset()  # medical amounts as they may be written
    hits: list[Hit] = field(default_factory=list)

    def text(self, place: str, value: str) -> list[Hit]:
        """Record and return the hits in one text."""
        plain = unicodedata.normalize("NFKC", value).upper()
        found: set[str] = set()
        for variant in (plain, _WS.sub("", plain)):
            for run in _RUN.findall(variant):
                for width in (18, 15):
                    found.update(run[i:i + width] for i in range(len(run) - width + 1)
                                 if run[i:i + width] in self.ids)
            found.update(n for n in self.names if n in variant)
            found.update(f for f in self.figures if f in variant)
        new = [Hit(place, mask_id(v) if v in self.ids else "medical figure" if v in self.figures
                   else v[0] + "*" * (len(v) - 1)) for v in sorted(found)]
        self.hits.extend(new)
        return new

    def file(self, path: Path, place: str) -> list[Hit]:
        """Scan one file's bytes as UTF-8 (undecodable bytes replaced)."""
        return self.text(place, path.read_bytes().decode("utf-8", errors="replace"))

    def tree(self, root: Path, label: str) -> int:
        """Scan every file under ``root``; returns how many files were read."""
        files = sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            self.file(path, f"{label} {path.relative_to(root)}")
        return len(files)

    def rows(self, label: str, rows: Iterable[Mapping[str, Any]]) -> int:
        """Scan every value of every row; returns the number of rows."""
        count = 0
        for count, row in enumerate(rows, 1):
            who = ",".join(f"{k}={row[k]}" for k in ("dag_id", "task_id", "key", "id") if row.get(k))
            for column, value in row.items():
                if isinstance(value, bytes | memoryview):
                    value = bytes(value).decode("utf-8", errors="replace")
                if value is not None:
                    self.text(f"{label}.{column} (row {count}{': ' + who if who else ''})", str(value))
        return count

    def database(self, engine: Engine, label: str, tables: Iterable[str] | None = None) -> dict[str, int]:
        """Scan whole tables (default: all); returns rows read per table."""
        names = list(tables) if tables is not None else inspect(engine).get_table_names()
        read = {}
        with engine.connect() as conn:
            for table in names:
                rows = conn.execute(text(f'SELECT * FROM "{table}"')).mappings()
                read[table] = self.rows(f"{label} {table}", rows)
        return read


def describe(hits: Iterable[Hit]) -> str:
    """The assertion message: one line per hit, place first, value masked."""
    lines = sorted({f"  {h.place}: {h.masked}" for h in hits})
    return f"personal data found in {len(lines)} place(s):\n" + "\n".join(lines[:200])


def _canaries(hits: Iterable[Hit]) -> set[str]:
    """The (masked) names among the hits: an ID's mask starts with 6 digits, a name's never."""
    return {h.masked for h in hits if not h.masked[:6].isdigit()}


def source_ids(sources: Path) -> frozenset[str]:
    """Every full ID number in the generated source databases, as normalised 18 characters and,
    for legacy numbers, also as the 15 digits delivered."""
    found: set[str] = set()
    for db in sorted(sources.glob("*.db")):
        with sqlite3.connect(db) as con:
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            for table, columns in ID_TABLES.items():
                if table not in tables:
                    continue
                for column in columns:
                    for (raw,) in con.execute(f"SELECT {column} FROM {table}"):
                        as_given = _WS.sub("", unicodedata.normalize("NFKC", str(raw or ""))).upper()
                        norm = normalize_id(raw) or ""
                        found.update(v for v in (as_given, norm) if re.fullmatch(r"\d{15}|\d{17}[\dX]", v))
    return frozenset(found)


# --------------------------------------------------------------------------- the deployment


def _plant_canaries(deployment: Path) -> None:
    """Give planted-case people canary names — an R08 member (both memberships), an R01 death
    record, an R02 staff member, an R10 allowance holder, an R12 market-entity role — so the
    names reach the extract."""
    import json

    cases = json.loads((deployment / "expected_cases.json").read_text(encoding="utf-8"))["cases"]
    targets = {"member": ("civil_affairs", "sa_member", cases["R08"][0]),
               "cremation": ("civil_affairs", "sa_cremation", cases["R01"][0]),
               "staff": ("personnel", "hr_staff", cases["R02"][0]),
               "allowance": ("civil_affairs", "sa_allowance", cases["R10"][0]),
               "role": ("business", "mr_role", cases["R12"][0])}
    for kind, (db, table, case_key) in targets.items():
        person = case_key.split(":")[-1]
        with sqlite3.connect(deployment / "sources" / f"{db}.db") as con:
            rowids = [rid for rid, raw in con.execute(f"SELECT rowid, id_number FROM {table}")
                      if normalize_id(raw) == person]
            assert rowids, f"no {table} row for the planted {case_key}"
            con.executemany(f"UPDATE {table} SET name = ? WHERE rowid = ?",
                            [(CANARIES[kind], rid) for rid in rowids])


MEDICAL_BILL = "98765.43"  # an out-of-pocket total no other figure of the deployment has
FIGURES = frozenset({MEDICAL_BILL, "98,765.43", "98765.4"})


def _plant_medical_bill(deployment: Path) -> str:
    """A settlement of the R08 canary (a beneficiary) large enough for an H01 warning; its key."""
    import csv
    import json

    person = json.loads((deployment / "expected_cases.json").read_text("utf-8"))["cases"]["R08"][0]
    person = person.split(":")[-1]
    newest = sorted(p for p in (deployment / "drop" / "medical").glob("YB_*.csv")
                    if p.with_name(p.name + ".ok").exists())[-1]
    month = newest.stem[3:]
    with newest.open("a", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerow(
            ["S-CANARY-1", person, CANARIES["member"], "住院", f"{month[:4]}-{month[4:]}-15",
             "198765.43", "100000.00", MEDICAL_BILL])
    return f"H01:{person}"


def _plant_two_ids_in_one_field(deployment: Path) -> None:
    """A declared relative's ID field holding two people's numbers: dirt that, normalised, is
    longer than the ``*_norm`` column. It used to fail PostgreSQL's COPY of the whole
    personnel source, and the server logged the value, both full IDs, as the COPY's CONTEXT."""
    with sqlite3.connect(deployment / "sources" / "personnel.db") as con:
        first, second = (normalize_id(r[0]) for r in con.execute(
            "SELECT id_number FROM hr_staff WHERE length(trim(id_number)) = 18 LIMIT 2"))
        con.execute("UPDATE hr_relative SET relative_id_number = ? WHERE rowid = (SELECT min(rowid) "
                    "FROM hr_relative)", (f"{first} / {second}",))


def _add_bad_deliveries(deployment: Path, person: str) -> None:
    """Failure paths: a truncated electricity file, a wrongly encoded water file and, read first,
    an electricity file without its header line whose first row names ``person`` and a canary
    (issue 16: that row used to be quoted as the "header" in every error message); a value with
    a NUL byte; a symlink to a file outside the drop; an inspectors' file with a wrong header
    and one with an unquoted comma."""
    for folder, name in (("power", "DL_202507.csv"), ("water", "SS_202506.txt")):
        shutil.copy(deployment / "extras" / "bad" / folder / name, deployment / "drop" / folder / name)
        (deployment / "drop" / folder / f"{name}.ok").touch()
    headerless = deployment / "drop" / "power" / "DL_202501.csv"
    headerless.write_bytes(f"E0,{CANARIES['headerless']},{person},永丰街道幸福路9号,202501,12\n"
                           f"E1,张三,,永丰街道1号,202501,13\n".encode("gb18030"))
    (deployment / "drop" / "power" / "DL_202501.csv.ok").touch()
    outside = deployment.parent / "outside-the-drop.txt"  # a symlink in a drop must never be read
    outside.write_text(f"{person},{CANARIES['headerless']}\n", "utf-8")
    (deployment / "drop" / "power" / "DL_202502.csv").symlink_to(outside)
    (deployment / "drop" / "power" / "DL_202502.csv.ok").touch()
    with sqlite3.connect(deployment / "sources" / "civil_affairs.db") as con:  # a NUL: quarantined
        con.execute("UPDATE sa_member SET name = name || char(0) WHERE rowid = (SELECT MAX(rowid) "
                    "FROM sa_member)")
    inbox = deployment / "inbox"
    (inbox / "dispositions_header.csv").write_text(f"{person},{CANARIES['headerless']},x,\n", "utf-8")
    (inbox / "dispositions_comma.csv").write_text(
        f"case_key,outcome,note,suppress_until\nR01:{person},EXPLAINED,{CANARIES['headerless']}, x,\n",
        "utf-8")


def _pg_log_position(conn: Any) -> tuple[str, int]:
    """The server's current log file (as the server names it) and its size now.

    With ``logging_collector`` on, ``pg_current_logfile()``; off, the log is the
    postmaster's stderr, which every backend inherits: ``/proc/self/fd/2``.
    """
    path = conn.execute(text("SELECT pg_current_logfile()")).scalar() or "/proc/self/fd/2"
    try:
        size = conn.execute(text("SELECT size FROM pg_stat_file(:p)"), {"p": path}).scalar()
    except Exception as exc:  # stderr not a file (a pipe, /dev/null): nothing to read back
        pytest.fail(f"cannot read the PostgreSQL server log {path}: {exc}", pytrace=False)
    return str(path), int(size)


def _pg_log_since(conn: Any, path: str, offset: int, database: str) -> str:
    """This database's entries of the server log written after ``offset``.

    Lines carrying another database's name (other tests share the server) are
    dropped with their continuation lines; lines naming no database are kept.
    """
    chunk = conn.execute(text("SELECT pg_read_file(:p, :o, 100000000)"), {"p": path, "o": offset}).scalar()
    kept, keep = [], True
    for line in (chunk or "").splitlines():
        if re.match(r"\d{4}-\d\d-\d\d ", line):  # a new entry (log_line_prefix starts with %m)
            other = re.search(r"\] [^\s@]*@(\S+) ", line[:300])  # '%m [%p] %q%u@%d '
            keep = other is None or other.group(1) == database
        if keep:
            kept.append(line)
    return "\n".join(kept)


# --------------------------------------------------------------------------- the test


def test_no_personal_data_outside_the_extract_and_the_warehouse(
    deployment: Callable[..., Path], pg_database: str, tmp_path: Path, smtp_sink: SmtpSink,
) -> None:
    from safetynet.config import load_config
    from safetynet.orchestration.environment import DAG_IDS, airflow_environment, run_airflow

    config = deployment(tmp_path, households=200, seed=7)
    home = config.parent
    raw = yaml.safe_load(config.read_text(encoding="utf-8"))
    raw["warehouse"] = pg_database
    config.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    _plant_canaries(home)
    warning_key = _plant_medical_bill(home)
    _plant_two_ids_in_one_field(home)
    with sqlite3.connect(home / "sources" / "civil_affairs.db") as con:
        (person,) = con.execute("SELECT TRIM(id_number) FROM sa_member WHERE LENGTH(TRIM(id_number)) = 18 "
                                "ORDER BY household_id LIMIT 1").fetchone()
    _add_bad_deliveries(home, person)
    scan = PersonalDataScanner(ids=source_ids(home / "sources"), names=frozenset(CANARIES.values()),
                               figures=FIGURES)
    assert len(scan.ids) > 500, f"only {len(scan.ids)} ID numbers read from the source databases"

    database = pg_database.rsplit("/", 1)[-1]
    admin = create_engine(pg_database, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        log_path, log_offset = _pg_log_position(conn)

    airflow_home, run_logs = tmp_path / "airflow", tmp_path / "run-logs"
    env = airflow_environment(config, airflow_home)
    assert run_airflow(["db", "migrate"], env, run_logs / "migrate.log", timeout=600).returncode == 0
    outcomes = {dag_id: run_airflow(["dags", "test", dag_id, DAY], env, run_logs / f"{dag_id}.log",
                                    timeout=900).returncode for dag_id in DAG_IDS}
    cfg = load_config(config)
    probe = f"safetynet-log-probe-{uuid.uuid4().hex}"
    with admin.connect() as conn:
        with pytest.raises(Exception, match="invalid input syntax"):
            conn.execute(text(f"SELECT '{probe}'::integer"))
        server_log = _pg_log_since(conn, log_path, log_offset, database)
    warehouse = create_engine(pg_database)
    metadata = create_engine(f"sqlite:///{airflow_home / 'airflow.db'}")
    try:
        # The scan proper, first: a leak is reported even when the run went wrong as well.
        # `airflow dags test` runs tasks in-process: their logs are its output (a deployment's
        # per-task log files would be under $AIRFLOW_HOME/logs, scanned as well).
        scan.tree(airflow_home / "logs", "airflow log file")
        scan.tree(run_logs, "airflow dags test output")
        read = scan.database(metadata, "airflow-db")
        meta = scan.database(warehouse, "warehouse", ["meta_validation", "meta_task_failure"])
        docs = scan.tree(cfg.work_dir / "data_docs", "data docs")
        mails = smtp_sink.wait_for(2)
        for n, mail in enumerate(mails, 1):
            scan.text(f"alert email {n} ({mail['Subject']})", mail.as_string())
            for part in mail.walk():
                body = part.get_payload(decode=True)
                if isinstance(body, bytes):
                    scan.text(f"alert email {n} body", body.decode("utf-8", errors="replace"))
        scan.text(f"PostgreSQL server log {log_path}", server_log)
        scan.file(Path(cfg.outbox) / DAY / "manifest.json", "manifest.json")
        status = subprocess.run([sys.executable, "-m", "safetynet.cli", "status", "--config", str(config)],
                                capture_output=True, text=True, timeout=300, check=False)
        scan.text("safetynet status", status.stdout + status.stderr)
        page = load_summary(config)
        scan.text("monitoring page (JSON)", json.dumps(page, ensure_ascii=False, default=str))
        scan.text("monitoring page (HTML)", render(page))
        scan.text("validation page", load_validation_page(config))
        assert not scan.hits, describe(scan.hits)

        # The discipline-inspection outbox: the people it names, but no medical figure, no warning.
        inspectors = PersonalDataScanner(ids=frozenset(), names=frozenset(), figures=FIGURES)
        inspectors.tree(Path(cfg.outbox) / DAY, "inspectors' outbox")
        assert not inspectors.hits, describe(inspectors.hits)
        published = (Path(cfg.outbox) / DAY).iterdir()
        extract = "".join(f.read_bytes().decode("utf-8", "replace") for f in published)
        assert warning_key not in extract and "医保" not in extract

        # Each place held something to find: the clean scan is not vacuous.
        assert {d for d, rc in outcomes.items() if rc} == {"ingest_electricity", "ingest_water"}, outcomes
        task_lines = sum(f.read_text(encoding="utf-8").count("[safetynet.") for f in run_logs.glob("*.log"))
        assert task_lines > 20, "the captured Airflow output holds no task log lines"
        assert read.get("xcom", 0) > 0, "no XCom was pushed: the scan would prove nothing about XCom"
        assert read.get("rendered_task_instance_fields", 0) > 0, "no rendered template fields"
        assert meta["meta_validation"] > 0 and meta["meta_task_failure"] >= 2, meta
        assert docs > 0, "no validation reports were written"
        assert "is the header line missing?" in status.stdout, status.stdout  # the headerless file failed
        assert {f["file"] for f in page["dispositions"]["files_rejected"]} >= {"dispositions_header.csv"}
        assert probe in server_log, f"the run's entries are not in the server log read from {log_path}"

        # Positive controls: the needles are found where they belong.
        control = PersonalDataScanner(ids=scan.ids, names=scan.names)
        outbox = Path(cfg.outbox) / DAY
        assert (outbox / "_SUCCESS").is_file(), "the extract was not published"
        control.tree(outbox, "outbox")
        in_extract = {h.masked for h in control.hits}
        ids_in_extract = in_extract - _canaries(control.hits)
        assert _canaries(control.hits) and ids_in_extract, describe(control.hits)
        control.hits.clear()
        control.database(warehouse, "warehouse", ["core_member", "core_staff", "core_allowance",
                                                  "core_market_role"])
        assert len(_canaries(control.hits)) == 4, describe(control.hits)
        warnings_csv = Path(cfg.warning_outbox) / DAY / "warnings_20261120.csv"
        assert warning_key in warnings_csv.read_text("utf-8-sig")  # the bill's warning reaches the bureau
    finally:
        warehouse.dispose()
        metadata.dispose()
        admin.dispose()


def test_a_refused_copy_is_reported_without_the_rows_values(pg_database: str) -> None:
    """PostgreSQL's error for a refused COPY quotes the row (DETAIL, CONTEXT); the pipeline's
    message, which reaches task logs, meta_task_failure and alerts, must not."""
    import pandas as pd

    from safetynet.warehouse.bulk import BulkLoadError, insert_frame
    from safetynet.warehouse.engine import migrate
    from safetynet.warehouse.schema import core_member

    person = "361103196001010017"
    engine = create_engine(pg_database)
    migrate(engine)
    rows = pd.DataFrame({"household_id": ["DB1", None], "id_raw": [person, person],
                         "id_norm": [person, person], "name": [CANARIES["member"]] * 2})
    try:
        with pytest.raises(BulkLoadError) as refused, engine.begin() as conn:
            insert_frame(conn, core_member, rows)
    finally:
        engine.dispose()
    message = str(refused.value)
    assert "core_member" in message and "household_id" in message and "row 2" in message, message
    scan = PersonalDataScanner(ids=frozenset({person}), names=frozenset(CANARIES.values()))
    assert not scan.text("BulkLoadError", message), describe(scan.hits)
    assert refused.value.__cause__ is None and refused.value.__suppress_context__
