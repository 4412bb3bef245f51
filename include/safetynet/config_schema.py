"""The configuration file's schema (outputs.md, "Configuration"), checked before anything runs.

pydantic models, strict and closed: an unknown key (a typo), a wrong type (a
string where a list of uses is expected), a value out of range (a window of 0
months, a floor above 1) is refused with one line naming the key. So is an
outbox, warning outbox or work folder that lies inside a partner's drop, the
inbox or one another: the full extract must never be published where a
department (or the wrong office) reads.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from safetynet.sources.declarations import SOURCES

Share = Annotated[float, Field(ge=0, le=1)]
Months = Annotated[int, Field(ge=1, le=120)]
Age = Annotated[int, Field(ge=0, le=150)]
Uses = Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)]


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Region(_Closed):
    province: str = ""
    city: str = ""
    county: str = ""


class Database(_Closed):
    url: Annotated[str, Field(min_length=1)]


class Folder(_Closed):
    location: Annotated[str, Field(min_length=1)]




def _sources_model() -> type[BaseModel]:
    """``sources:``: one key per declared source (optional ones may be left out)."""
    fields: dict[str, Any] = {}
    for name, source in SOURCES.items():
        kind: Any = Database if source.kind == "database" else Folder
        fields[name] = (kind | None, None) if source.optional else (kind, ...)
    return create_model("Sources", __base__=_Closed, **fields)


Sources = _sources_model()


class Rules(_Closed):
    electricity_high_kwh: Annotated[float, Field(gt=0)] = 500
    utility_window_months: Months = 3
    elderly_allowance_min_age: Age = 80
    max_residential_units: Annotated[int, Field(ge=0, le=100)] = 1
    non_residential_uses: Uses = ["商业", "办公", "工业"]
    vehicle_exempt_plate_kinds: list[str] = ["普通摩托车", "轻便摩托车", "低速车"]
    medical_window_months: Months = 12
    medical_burden_enrolled: Annotated[float, Field(ge=0)] = 10000
    medical_burden_general: Annotated[float, Field(ge=0)] = 26000
    silent_home_min_age: Age = 75
    breadwinner_window_days: Annotated[int, Field(ge=1, le=3660)] = 90


class Validation(_Closed):
    volume_floor: Share = 0.5
    row_failure_ceiling: Share = 0.1
    min_rows: Annotated[int, Field(ge=0)] = 20
    max_age_days: dict[str, Annotated[int, Field(ge=1)]] = {}
    expectations_dir: str | None = None
    max_file_mb: Annotated[int, Field(ge=1)] = 4096
    max_unpacked_mb: Annotated[int, Field(ge=1)] = 16384
    max_unpack_ratio: Annotated[int, Field(ge=2)] = 200


class Delivery(_Closed):
    expected_by: str | int | None = None  # checked further by config._expected_by


class ConfigFile(_Closed):
    region: Region
    regions_file: Annotated[str, Field(min_length=1)]
    warehouse: Annotated[str, Field(min_length=1)]
    work_dir: str = "work"
    sources: Sources  # type: ignore[valid-type]
    outbox: Folder
    inbox: Folder
    warning_outbox: Folder | None = None
    rules: Rules | None = None
    validation: Validation | None = None
    deliveries: dict[str, Delivery] | None = None


class SchemaError(ValueError):
    """The file breaks the schema; the message is one line naming the key."""


def check(raw: Any) -> ConfigFile:
    """The parsed file as a :class:`ConfigFile`, or :class:`SchemaError` naming the first fault."""
    try:
        return ConfigFile.model_validate(raw if raw is not None else {})
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"]) or "(top level)"
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        given = "" if first["type"] in ("missing", "extra_forbidden") else f", got {first['input']!r}"
        what = "unknown key" if first["type"] == "extra_forbidden" else first["msg"].lower()
        raise SchemaError(f"{key}: {what}{given}{more}") from None


def overlapping(places: dict[str, str]) -> str | None:
    """The first of the written places (outbox, warning outbox, work folder) that lies inside
    another named place (a drop, the inbox, or another written place), as one line."""
    written = ("outbox", "warning_outbox", "work_dir")
    for name in written:
        if name not in places:
            continue
        for other, where in places.items():
            if other != name and _inside(places[name], where):
                return f"{name}: {places[name]} lies inside {other} ({where}); keep them apart"
    return None


def _inside(inner: str, outer: str) -> bool:
    """Whether location ``inner`` is ``outer`` or below it (local paths or sftp://conn/path)."""
    a, b = _split(inner), _split(outer)
    if a[0] != b[0]:
        return False
    return a[1] == b[1] or b[1] in a[1].parents


def _split(location: str) -> tuple[str, PurePosixPath]:
    if location.startswith("sftp://"):
        conn, _, path = location.removeprefix("sftp://").partition("/")
        return f"sftp:{conn}", PurePosixPath("/" + path.strip("/"))
    return "local", PurePosixPath(Path(location).resolve().as_posix())
