"""Deployment configuration: one YAML file (outputs.md, "Configuration").

Paths and SQLite URLs in the file are relative to the file itself, so a
deployment folder can be moved or copied as a whole. A URL or location may name
an Airflow connection instead (``airflow://<conn_id>`` or ``sftp://<conn_id>/path``),
so that secrets stay out of the file.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from safetynet.config_schema import Folder, SchemaError, check, overlapping
from safetynet.sources.declarations import SOURCES

ENV_VAR = "SAFETYNET_CONFIG"
LOCAL_TIMEZONE = "Asia/Shanghai"  # schedules, report dates, cut-offs and times shown to people
DEFAULT_RULES: dict[str, Any] = {
    "electricity_high_kwh": 500,
    "utility_window_months": 3,
    "elderly_allowance_min_age": 80,
    "max_residential_units": 1,
    "non_residential_uses": ["商业", "办公", "工业"],
    "vehicle_exempt_plate_kinds": ["普通摩托车", "轻便摩托车", "低速车"],
    "medical_window_months": 12,
    "medical_burden_enrolled": 10000,
    "medical_burden_general": 26000,
    "silent_home_min_age": 75,
    "breadwinner_window_days": 90,
}
FILE_SOURCES = tuple(n for n, s in SOURCES.items() if s.kind == "files")
DB_SOURCES = tuple(n for n, s in SOURCES.items() if s.kind == "database")


class ConfigError(ValueError):
    """The configuration is missing, unreadable or incomplete."""


class SourceNotConfigured(ConfigError):
    """The deployment does not have this source (an optional one left out of ``sources``).

    Its ingest DAG skips instead of failing, and the rules that need it are reported
    as not evaluated.
    """


@dataclass(frozen=True)
class Config:
    """A loaded deployment configuration with every path resolved."""

    path: Path
    province: str
    city: str
    county: str
    regions_file: Path
    warehouse_url: str
    work_dir: Path
    sources: dict[str, str] = field(default_factory=dict)
    outbox: str = ""
    inbox: str = ""
    warning_outbox: str = ""
    """The social-assistance unit's outbox for hardship warnings; empty: warnings are not published."""
    rules: dict[str, Any] = field(default_factory=dict)
    expected_by: dict[str, str] = field(default_factory=dict)
    """Per file source, the local time ("HH:MM", Asia/Shanghai) on a run's report date by
    which its delivery must have arrived; later, the bureau is mailed once
    (``deliveries: {electricity: {expected_by: "05:00"}}``)."""

    @property
    def address_prefixes(self) -> list[str]:
        """Province, city and county names stripped from the front of addresses."""
        return [self.province, self.city, self.county]


def load_config(path: str | Path | None = None) -> Config:
    """Load the configuration named by ``path``, else ``SAFETYNET_CONFIG``."""
    chosen = path or os.environ.get(ENV_VAR)
    if not chosen:
        raise ConfigError(
            f"no configuration: pass --config FILE or set {ENV_VAR} "
            "(a demo deployment is made by `safetynet generate --out DIR`)"
        )
    cfg_path = Path(chosen).expanduser().resolve()
    if not cfg_path.is_file():
        raise ConfigError(f"configuration file not found: {cfg_path}")
    try:
        raw = yaml.safe_load(cfg_path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{cfg_path}: not valid YAML ({exc})") from exc
    try:
        checked = check(raw)
    except SchemaError as exc:
        raise ConfigError(f"{cfg_path}: {exc}") from None
    base = cfg_path.parent
    try:
        region = raw["region"]
        sources = raw["sources"]
        cfg = Config(
            path=cfg_path,
            province=str(region.get("province", "")),
            city=str(region.get("city", "")),
            county=str(region.get("county", "")),
            regions_file=_resolve_path(base, raw["regions_file"]),
            warehouse_url=resolve_url(base, raw["warehouse"]),
            work_dir=_resolve_path(base, raw.get("work_dir", "work")),
            sources={  # the configured sources, in declaration order (optional ones may be absent)
                name: resolve_url(base, sources[name]["url"]) if name in DB_SOURCES
                else resolve_location(base, sources[name]["location"])
                for name in SOURCES if sources.get(name) is not None},
            outbox=resolve_location(base, raw["outbox"]["location"]),
            inbox=resolve_location(base, raw["inbox"]["location"]),
            warning_outbox=resolve_location(base, checked.warning_outbox.location)
            if checked.warning_outbox is not None else "",
            rules={**DEFAULT_RULES, **(checked.rules.model_dump(exclude_unset=True) if checked.rules
                                       else {})},
            expected_by=_expected_by(cfg_path, raw.get("deliveries")),
        )
    except (KeyError, TypeError) as exc:
        raise ConfigError(f"{cfg_path}: missing or malformed setting {exc}") from exc
    given: dict[str, Any] = dict(checked.sources)  # a pydantic model iterates (field, value)
    places = {**{f"sources.{n}": resolve_location(base, f.location) for n, f in given.items()
                 if isinstance(f, Folder)},
              "inbox": cfg.inbox, "outbox": cfg.outbox, "work_dir": str(cfg.work_dir)}
    if cfg.warning_outbox:
        places["warning_outbox"] = cfg.warning_outbox
    clash = overlapping(places)
    if clash:
        raise ConfigError(f"{cfg_path}: {clash}")
    return cfg


def _expected_by(cfg_path: Path, section: Any) -> dict[str, str]:
    """``deliveries: {<file source>: {expected_by: "HH:MM"}}``, checked; empty when absent."""
    out: dict[str, str] = {}
    if not section:
        return out
    if not isinstance(section, dict):
        raise ConfigError(f"{cfg_path}: 'deliveries' must be a mapping of file sources")
    for source, setting in section.items():
        if source not in FILE_SOURCES:
            raise ConfigError(f"{cfg_path}: deliveries.{source}: not a file source "
                              f"(expected one of {list(FILE_SOURCES)})")
        value = (setting or {}).get("expected_by") if isinstance(setting, dict) else None
        if value is None:
            continue
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
            value = f"{value // 60:02d}:{value % 60:02d}"  # YAML 1.1 reads unquoted 05:00 as 300
        text = str(value).strip()
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", text):
            raise ConfigError(f"{cfg_path}: deliveries.{source}.expected_by must be a local time "
                              f"HH:MM, got {value!r}")
        out[source] = text
    return out


def _resolve_path(base: Path, value: str) -> Path:
    p = Path(str(value)).expanduser()
    return p if p.is_absolute() else (base / p).resolve()


def resolve_location(base: Path, value: str) -> str:
    """A local folder made absolute; ``sftp://`` locations are kept as given."""
    value = str(value)
    if "://" in value:
        return value
    return str(_resolve_path(base, value))


def resolve_url(base: Path, url: str) -> str:
    """A SQLAlchemy URL whose relative SQLite path is made relative to ``base``."""
    url = str(url)
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and url != prefix:
        rest = url[len(prefix):]
        if rest != ":memory:":
            return prefix + str(_resolve_path(base, rest))
    return url
