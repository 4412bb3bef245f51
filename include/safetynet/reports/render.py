"""Render one sheet of a workbook as an inspector's office suite would print it (LibreOffice).

Used by the workbook's print test and by ``make screenshots`` (the README's
pictures): the sheet is copied into a workbook of its own (print setup kept),
converted to PDF by LibreOffice headless, and optionally the first page turned
into a PNG with poppler's ``pdftoppm``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

INSTALL_HINT = ("needs LibreOffice (Debian: apt-get install libreoffice-calc-nogui) and, for PNGs, "
                "poppler (apt-get install poppler-utils)")


def sheet_pdf(workbook: Path, sheet: str, out: Path) -> Path:
    """``out`` (a PDF) holding only ``sheet`` of ``workbook``, printed as set up in the file."""
    from openpyxl import load_workbook

    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise RuntimeError(f"cannot render {workbook.name}: {INSTALL_HINT}")
    with tempfile.TemporaryDirectory() as tmp:
        book = load_workbook(workbook)
        for name in [n for n in book.sheetnames if n != sheet]:
            del book[name]
        single = Path(tmp) / "sheet.xlsx"
        book.save(single)
        subprocess.run([soffice, "--headless", "--norestore", f"-env:UserInstallation=file://{tmp}/lo",
                        "--convert-to", "pdf", "--outdir", tmp, str(single)],
                       check=True, capture_output=True, timeout=300)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(Path(tmp) / "sheet.pdf"), out)
    return out


def pdf_pages(pdf: Path) -> int:
    """Pages of a PDF LibreOffice wrote (its page objects are not compressed)."""
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf.read_bytes()))


def first_page_png(pdf: Path, out: Path, dpi: int = 110) -> Path:
    """The PDF's first page as a PNG (``pdftoppm``)."""
    if shutil.which("pdftoppm") is None:
        raise RuntimeError(f"cannot make {out.name}: {INSTALL_HINT}")
    stem = out.with_suffix("")
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-f", "1", "-l", "1", "-singlefile", str(pdf),
                    str(stem)], check=True, capture_output=True, timeout=120)
    return out
