"""The deployment's thresholds: the optional ``validation:`` section of its configuration file.

Read by the stages that judge deliveries — extraction (file-size and unpacking
limits, the unparsed-row share) and validation (volume floor, row-failure ceiling,
data age) — so each of them depends on this settings module, not on the other.
:class:`safetynet.config.Config` does not carry the section; it is read here from
the same YAML file (and checked by ``safetynet check-config``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from safetynet.config import Config, ConfigError
from safetynet.sources.declarations import SOURCES

EXPECTATIONS_ENV = "SAFETYNET_EXPECTATIONS"
DEFAULT_MAX_AGE_DAYS = {name: source.stale_after_days for name, source in SOURCES.items()}
"""How old a source's newest data may be on the report date (its declaration's ``stale_after_days``)."""


@dataclass(frozen=True)
class Thresholds:
    """Deployment-specific thresholds (``validation:`` in the configuration file)."""

    expectations_dir: Path
    volume_floor: float = 0.5  # a full delivery below this share of the previous one is refused
    min_rows: int = 20  # below this, shares (ID validity, failing-row share) are not judged
    row_failure_ceiling: float = 0.1  # a row-level check failing more rows than this rejects the batch
    max_age_days: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_MAX_AGE_DAYS))
    max_file_mb: int = 4096  # a delivered file above this is refused before it is read
    max_unpacked_mb: int = 16384  # an XLSX whose entries unpack beyond this is refused unread
    max_unpack_ratio: int = 200  # ... or one of whose sizeable entries unpacks more than this


def load_thresholds(cfg: Config) -> Thresholds:
    """Read ``validation:`` from the configuration file; missing keys take the defaults."""
    raw = yaml.safe_load(cfg.path.read_text(encoding="utf-8")) or {}
    section = raw.get("validation") or {}
    if not isinstance(section, dict):
        raise ConfigError(f"{cfg.path}: 'validation' must be a mapping")
    where = section.get("expectations_dir") or os.environ.get(EXPECTATIONS_ENV)
    folder = (cfg.path.parent / where).resolve() if where else default_expectations_dir()
    try:
        return Thresholds(
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
    """``expectations/`` at the repository root (``include/safetynet`` is two levels down)."""
    return Path(__file__).resolve().parents[2] / "expectations"


