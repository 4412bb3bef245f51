"""generate_deployment: a complete demo deployment folder, deterministic per arguments.

Layout: config.yaml, regions.csv, sources/*.db (civil_affairs, personnel, business),
drop/{property,power,water,vehicles,medical}, outbox/, inbox/, warnings/ (the hardship
warnings' outbox), extras/ (bad files + README), templates/ (dispositions templates),
expected_cases.json (the reference's cases and, under ``warnings``, its warnings).
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path

import yaml

from safetynet.generate.build import build_world
from safetynet.generate.business_db import write_business
from safetynet.generate.dbwriter import write_databases
from safetynet.generate.extras import write_extras
from safetynet.generate.medical_files import write_medical
from safetynet.generate.property_xlsx import snapshot_frame, wait, write_snapshots
from safetynet.generate.reference import DEFAULTS
from safetynet.generate.templates import write_templates
from safetynet.generate.utility_files import marker, write_utilities
from safetynet.generate.vehicles_csv import write_vehicles
from safetynet.generate.world import World
from safetynet.progress import stage

PARALLEL_ROWS = 100_000

GENERATED = ("config.yaml", "regions.csv", "expected_cases.json", "sources", "drop", "extras", "templates",
             "outbox", "inbox", "warnings")
"""What :func:`generate_deployment` writes into its folder."""
RUN_STATE = ("warehouse.db", "warehouse.db-wal", "warehouse.db-shm", "warehouse.db-journal", "work")
"""What running the generated deployment adds: the embedded warehouse (``sqlite:///warehouse.db``
with its WAL files) and ``work_dir`` (staged batches, locks, Data Docs, reports, landing)."""
REPLACED = GENERATED + RUN_STATE
"""Everything ``safetynet generate --force`` removes from a non-empty folder before generating;
anything else there (the demo's ``airflow/`` and ``logs/``, a user's own files) is left as it is."""


def clear_deployment(out: Path) -> list[str]:
    """Remove :data:`REPLACED` from ``out`` (files, folders or links); return the names removed."""
    import shutil

    removed = []
    for name in REPLACED:
        path = Path(out) / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
        else:
            continue
        removed.append(name)
    return removed


def config_dict() -> dict:
    """The deployment's configuration, paths relative to the config file."""
    return {
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
            "vehicles": {"location": "drop/vehicles"},
            "business": {"url": "sqlite:///sources/business.db"},
            "medical": {"location": "drop/medical"},
        },
        "outbox": {"location": "outbox"},
        "inbox": {"location": "inbox"},
        "warning_outbox": {"location": "warnings"},
        "rules": dict(DEFAULTS),
    }


def expected(world: World) -> dict:
    """The expected_cases.json document."""
    return {
        "report_date": world.report_date.isoformat(), "seed": world.seed,
        "households": world.households, "cases": world.cases, "warnings": world.warnings,
        "planted": sorted(world.planted, key=lambda p: (p["rule"], p["kind"], p["what"], p["key"])),
        "dirt": dict(sorted(world.dirt.items())),
    }


def generate_deployment(out: Path, households: int = 2000, seed: int = 7,
                        report_date: date = date(2026, 11, 20)) -> Path:
    """Generate a whole deployment under ``out``; returns the path of its config.yaml."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    world = build_world(households, seed, report_date)
    dirt: Counter = Counter(world.dirt)
    for sub in ("outbox", "inbox", "warnings", "drop/property", "drop/power", "drop/water",
                "drop/vehicles", "drop/medical", "sources"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    world.regions.to_csv(out / "regions.csv", index=False, encoding="utf-8", lineterminator="\n")
    old_d, new_d = world.snapshot_dates
    prop = world.tables["property"]
    jobs = [(out / "drop/property" / f"BDC_QLR_{d:%Y%m%d}.xlsx", d, newest)
            for d, newest in ((old_d, False), (new_d, True))]
    big = 2 * len(prop) >= PARALLEL_ROWS
    with stage("generate: property snapshots", 2 * len(prop), unit="snapshot rows") as st:
        procs, xdirt = write_snapshots(prop, jobs, seed, parallel=big, late=world.late.get("property"))
        st.advance(xdirt.pop("_rows", 0))
        dirt.update(xdirt)
    with stage("generate: source databases", unit="database rows") as st:
        counts = write_databases(world, out, dirt)
        st.advance(sum(counts.values()))
    with stage("generate: utility files", unit="meter readings") as st:
        write_utilities(world, out, dirt, on_month=st.advance)
    with stage("generate: vehicle snapshots and market registry",
               unit="vehicle rows and database rows") as st:
        st.advance(sum(write_vehicles(world, out, dirt).values()))
        st.advance(sum(write_business(world, out, dirt).values()))
    with stage("generate: medical settlement files", unit="settlement rows") as st:
        st.advance(sum(write_medical(world, out, dirt).values()))
    with stage("generate: extras", unit="bad files") as st:
        sample = snapshot_frame(prop.iloc[:1000], new_d, True, seed, Counter())
        lines = write_extras(world, out, sample, dirt)
        st.advance(len(lines))
    if procs:
        with stage("generate: waiting for property snapshots", 2 * len(prop), unit="snapshot rows") as st:
            xdirt = wait(procs)
            st.advance(xdirt.pop("_rows", 0))
            dirt.update(xdirt)
    for path, _, _ in jobs:
        marker(path)
    world.dirt = dict(dirt)
    write_templates(out)
    (out / "expected_cases.json").write_text(
        json.dumps(expected(world), ensure_ascii=False, indent=2) + "\n",
        encoding="utf-8")
    cfg = out / "config.yaml"
    cfg.write_text(yaml.safe_dump(config_dict(), allow_unicode=True, sort_keys=False),
                   encoding="utf-8")
    return cfg
