"""Validation settings and the suites they apply: read, never built in code.

Suites are GX 1.x JSON files in ``expectations/`` (``<source>.json`` for the file
sources, ``<source>.<table>.json`` for the two databases), so an analyst can read
and change a check without touching Python. Every expectation declares in its
``meta.level`` what a failure does: ``row`` quarantines the failing rows, ``batch``
rejects the whole batch.

The thresholds that differ between deployments (the configuration file's
``validation:`` section) are read by :mod:`safetynet.thresholds`.
"""

from __future__ import annotations

import json
from pathlib import Path

from safetynet.config import ConfigError
from safetynet.sources.declarations import personal_columns
from safetynet.thresholds import EXPECTATIONS_ENV

LEVELS = ("row", "batch")
PERSONAL_COLUMNS = personal_columns() | {"row_key"}  # row_key embeds raw IDs for some tables
PERSONAL_SUFFIXES = ("_raw", "_norm", "_birth")


def is_personal(column: str) -> bool:
    """True for columns GX must never see: ID numbers (raw, normalised, birth date), names, addresses."""
    return column in PERSONAL_COLUMNS or column.endswith(PERSONAL_SUFFIXES)


def suite_name(source: str, item: str, database: bool) -> str:
    """The suite for an item: per table for the databases, per source for files."""
    return f"{source}.{item}" if database else source


def load_suite(folder: Path, name: str) -> dict:
    """One suite's JSON, checked for what this pipeline relies on (levels, no personal columns)."""
    path = folder / f"{name}.json"
    if not path.is_file():
        raise ConfigError(f"no expectation suite {path} (set validation.expectations_dir or "
                          f"{EXPECTATIONS_ENV})")
    suite = json.loads(path.read_text(encoding="utf-8"))
    for exp in suite.get("expectations", []):
        level = (exp.get("meta") or {}).get("level")
        if level not in LEVELS:
            raise ConfigError(f"{path}: {exp.get('type')} needs meta.level 'row' or 'batch', not {level!r}")
        leaked = [c for c in referenced_columns(exp["kwargs"]) if is_personal(c)]
        if leaked:
            raise ConfigError(f"{path}: {exp['type']} reads personal column(s) {leaked}; "
                              "validate their *_problem, *_present or *_hash columns instead")
    return suite


def referenced_columns(kwargs: dict) -> list[str]:
    """Every column an expectation's kwargs name, row conditions included."""
    out = [kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs]
    out += list(kwargs.get("column_list", []))
    stack = [kwargs.get("row_condition")]
    while stack:
        cond = stack.pop()
        if isinstance(cond, dict):
            if "column" in cond:
                out.append(cond["column"]["name"])
            stack.extend(cond.get("conditions", []))
    return out
