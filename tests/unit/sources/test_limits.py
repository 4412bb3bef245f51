"""Size limits before parsing: an oversized file, and an XLSX zip bomb refused unread (issue 16)."""

from __future__ import annotations

import tracemalloc
import zipfile
from pathlib import Path

import pytest

from safetynet.sources.drops import DeliveryError
from safetynet.sources.limits import MB, check_size, check_zip


def _bomb(path: Path, unpacked_mb: int) -> None:
    """A workbook-shaped zip whose shared strings unpack ~1000 times their packed size."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        with z.open("xl/sharedStrings.xml", "w") as fh:
            block = b"<si><t>" + b"A" * 1_000_000 + b"</t></si>"
            for _ in range(unpacked_mb):
                fh.write(block)


def test_a_zip_bomb_is_refused_from_its_directory_without_unpacking(tmp_path: Path) -> None:
    path = tmp_path / "BDC_QLR_20261127.xlsx"
    _bomb(path, 64)
    assert path.stat().st_size < 2 * MB
    tracemalloc.start()
    with pytest.raises(DeliveryError, match=r"^BDC_QLR_20261127\.xlsx: entry xl/sharedStrings\.xml unpacks"):
        check_zip(path, max_unpacked_mb=16384, max_ratio=200)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 8 * MB  # the 64 MB entry was never unpacked
    with pytest.raises(DeliveryError, match=r"unpack to 6[0-9] MB, more than validation.max_unpacked_mb"):
        check_zip(path, max_unpacked_mb=32, max_ratio=10_000)


def test_a_real_workbook_passes_and_a_non_zip_is_refused(tmp_path: Path) -> None:
    import xlsxwriter

    good = tmp_path / "BDC_QLR_20261120.xlsx"
    wb = xlsxwriter.Workbook(str(good))
    ws = wb.add_worksheet("权利人信息")
    for r in range(2000):
        ws.write_row(r, 0, [f"3611031001010010010000{r:06d}", "张三", "身份证", "361103196001010017"])
    wb.close()
    check_zip(good, max_unpacked_mb=16384, max_ratio=200)
    fake = tmp_path / "BDC_QLR_20261121.xlsx"
    fake.write_bytes(b"not a zip at all")
    with pytest.raises(DeliveryError, match="not a readable XLSX file"):
        check_zip(fake, 16384, 200)


def test_a_file_above_the_size_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "DL_202610.csv"
    path.write_bytes(b"x" * (2 * MB))
    check_size(path, max_file_mb=2)
    path.write_bytes(b"x" * (2 * MB + 1))
    with pytest.raises(DeliveryError, match=r"^DL_202610\.csv: 2 MB, larger than validation.max_file_mb"):
        check_size(path, max_file_mb=2)
