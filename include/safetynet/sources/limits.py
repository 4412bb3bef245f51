"""Size limits every delivered file meets before it is parsed (issue 16).

A file larger than ``validation.max_file_mb`` is refused before it is read. An
XLSX (a zip archive) is refused from its directory alone, before any entry is
unpacked, when its entries would unpack to more than ``max_unpacked_mb`` or one
sizeable entry unpacks more than ``max_unpack_ratio`` times its packed size: a
2 MB registry file holding 2 GB of shared strings (a zip bomb) would otherwise
take a worker's memory. Real registry exports pack 5–20 times.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from safetynet.sources.drops import DeliveryError

MB = 1 << 20
RATIO_FROM = 16 * MB  # entries smaller than this unpacked are never a threat, whatever their ratio


def check_size(path: Path, max_file_mb: int) -> None:
    """Refuse a file above the size limit (named, with the setting to change)."""
    size = path.stat().st_size
    if size > max_file_mb * MB:
        raise DeliveryError(f"{path.name}: {size / MB:,.0f} MB, larger than validation.max_file_mb "
                            f"({max_file_mb:,} MB); nothing of the source was loaded")


def check_zip(path: Path, max_unpacked_mb: int, max_ratio: int) -> None:
    """Refuse an XLSX whose entries would unpack beyond the limits, before unpacking any."""
    if path.stat().st_size == 0:
        raise DeliveryError(f"{path.name}: the file is empty")
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise DeliveryError(f"{path.name}: not a readable XLSX file ({type(exc).__name__})") from None
    total = sum(e.file_size for e in entries)
    if total > max_unpacked_mb * MB:
        raise DeliveryError(f"{path.name}: would unpack to {total / MB:,.0f} MB, more than "
                            f"validation.max_unpacked_mb ({max_unpacked_mb:,} MB); nothing was loaded")
    for e in entries:
        if e.file_size >= RATIO_FROM and e.file_size > max_ratio * max(e.compress_size, 1):
            raise DeliveryError(
                f"{path.name}: entry {e.filename} unpacks {e.file_size / max(e.compress_size, 1):,.0f} "
                f"times its size ({e.file_size / MB:,.0f} MB), more than validation.max_unpack_ratio "
                f"({max_ratio}); a zip bomb? Nothing was loaded")
