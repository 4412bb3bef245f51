"""Validation settings and the suites they apply: read, never built in code.

Suites are GX 1.x JSON files in ``expectations/`` (``<source>.json`` for the file
sources, ``<source>.<table>.json`` for the two databases), so an analyst can read
and change a check without touching Python. Every expectation declares in its
``meta.level`` what a failure does: ``row`` quarantines the failing rows, ``batch``
rejects the whole batch.

The thresholds that differ between deployments live in the configuration file's
optional ``validation:`` section (defaults below); :class:`safetynet.config.Config`
does not carry it, so it is read here from the same YAML file.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from safetynet.config import Config, ConfigError

EXPECTATIONS_ENV = "SAFETYNET_EXPECTATIONS"
LEVELS = ("row", "batch")
DEFAULT_MAX_AGE_DAYS = {  # how old a source's newest data may be on the report date
    "civil_affairs": 62,  # newest payment period (a month's first day): payments are monthly
    "personnel": 92,  # newest payroll change: the register is refreshed monthly
    "property": 14,  # snapshot date: snapshots are weekly
    "electricity": 100,  # reading month: files are monthly and arrive after the month
    "water": 100,
}
PERSONAL_COLUMNS = frozenset({"name", "holder_name", "owner_name", "relative_name", "address",
                              "location", "row_key"})  # row_key embeds raw IDs for some tables
PERSONAL_SUFFIXES = ("_raw", "_norm", "_birth")


def is_personal(column: str) -> bool:
    """True for columns GX must never see: ID numbers (raw, normalised, birth date), names, addresses."""
    return column in PERSONAL_COLUMNS or column.endswith(PERSONAL_SUFFIXES)


@dataclass(frozen=True)
class Settings:
    """Deployment-specific thresholds (``validation:`` in the configuration file)."""

    expectations_dir: Path
    volume_floor: float = 0.5  # a full delivery below this share of the previous one is refused
    min_rows: int = 20  # below this, shares (ID validity, failing-row share) are not judged
    row_failure_ceiling: float = 0.1  # a row-level check failing more rows than this rejects the batch
    max_age_days: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_MAX_AGE_DAYS))
    max_file_mb: int = 4096  # a delivered file above this is refused before it is read
    max_unpacked_mb: int = 16384  # an XLSX whose entries unpack beyond this is refused unread
    max_unpack_ratio: int = 200  # ... or one of whose sizeable entries unpacks more than this


def load_settings(cfg: Config) -> Settings:
    """Read ``validation:`` from the configuration file; missing keys take the defaults."""
    raw = yaml.safe_load(cfg.path.read_text(encoding="utf-8")) or {}
    section = raw.get("validation") or {}
    if not isinstance(section, dict):
        raise ConfigError(f"{cfg.path}: 'validation' must be a mapping")
    where = section.get("expectations_dir") or os.environ.get(EXPECTATIONS_ENV)
    folder = (cfg.path.parent / where).resolve() if where else default_expectations_dir()
    try:
        return Settings(
            expectations_dir=folder,
            volume_floor=_share(cfg, "volume_floor", section.get("volume_floor", 0.5)),
            min_rows=int(section.get("min_rows", 20)),
            row_failure_ceiling=float(section.get("row_failure_ceiling", 0.1)),
            max_age_days={**DEFAULT_MAX_AGE_DAYS, **(section.get("max_age_days") or {})},
            max_file_mb=int(section.get("max_file_mb", 4096)),
            max_unpacked_mb=int(section.get("max_unpacked_mb", 16384)),
            max_unpack_ratio=int(section.get("max_unpack_ratio", 200)),
        )
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{cfg.path}: malformed 'validation' setting ({exc})") from exc


def _share(cfg: Config, key: str, value: object) -> float:
    """A share between 0 and 1, or a one-line :class:`ConfigError` naming the key."""
    try:
        share = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{cfg.path}: validation.{key} must be a number between 0 and 1, "
                          f"got {value!r}") from exc
    if not 0 <= share <= 1:
        raise ConfigError(f"{cfg.path}: validation.{key} must be between 0 and 1, got {share}")
    return share


def default_expectations_dir() -> Path:
    """``expectations/`` at the repository root (``include/safetynet/validation`` is three levels down)."""
    return Path(__file__).resolve().parents[3] / "expectations"


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
