"""File-level dirt kept out of the drops: bad deliveries tests copy in on purpose.

Per file source (property, power, water, vehicles, medical): a wrong header, an empty
file, a truncated file and a file in the wrong encoding, each with its ``.ok``
marker, dated well before the good deliveries so they never collide with them.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from pathlib import Path

import pandas as pd

from safetynet.generate.medical_files import write_bad_medical
from safetynet.generate.property_xlsx import HEADERS, write_xlsx
from safetynet.generate.utility_files import cut_mid_row, mark_all, month_rows, write_frame
from safetynet.generate.vehicles_csv import write_bad_vehicles
from safetynet.generate.world import World, month_add

SAMPLE = 200


def _months(world: World) -> list[int]:
    """Four old months (a year and more before the delivered window) for the bad files."""
    first = world.months[0]
    return [month_add(first, -k) for k in (2, 3, 4, 5)]


def _relabel(df: pd.DataFrame, source: str, m: int) -> pd.DataFrame:
    df = df.head(SAMPLE).copy()
    if source == "elec":
        df["抄表年月"] = str(m)
    else:
        df["PERIOD"] = f"{m // 100:04d}-{m % 100:02d}"
    return df


def write_extras(world: World, out: Path, snapshot_rows: pd.DataFrame, dirt: Counter) -> list[str]:
    """Write every bad file with its marker and the README; returns the README lines."""
    base = out / "extras" / "bad"
    lines: list[str] = []
    m_hdr, m_empty, m_trunc, m_enc = _months(world)
    for source, folder, pat, enc, wrong_enc in (
            ("elec", "power", "DL_{}.csv", "gb18030", "utf-8"),
            ("water", "water", "SS_{}.txt", "utf-8", "gb18030")):
        d = base / folder
        d.mkdir(parents=True, exist_ok=True)
        rows = month_rows(world, source, 0, None)
        p = d / pat.format(m_hdr)
        df = _relabel(rows, source, m_hdr)
        if source == "elec":
            df = df.rename(columns={"本月电量": "用电量"})
            what = "header renamed: 本月电量 → 用电量"
        else:
            df = df.drop(columns=["HOLDER_ID"])
            what = "column HOLDER_ID missing"
        write_frame(df, p, source)
        lines.append(f"- `bad/{folder}/{p.name}`: wrong header ({what}).")
        p = d / pat.format(m_empty)
        p.write_bytes(b"")
        lines.append(f"- `bad/{folder}/{p.name}`: empty file (0 bytes).")
        p = d / pat.format(m_trunc)
        write_frame(_relabel(rows, source, m_trunc), p, source)
        cut_mid_row(p, enc, ",|")
        lines.append(f"- `bad/{folder}/{p.name}`: truncated mid-row (cut at 55% of its text), "
                     f"marker present anyway.")
        p = d / pat.format(m_enc)
        df = _relabel(rows, source, m_enc)
        write_frame(df, p, source, encoding=wrong_enc)
        lines.append(f"- `bad/{folder}/{p.name}`: encoded {wrong_enc.upper()} instead of "
                     f"{enc.upper()} (Chinese names and addresses).")
        mark_all(d)
    d = base / "property"
    d.mkdir(parents=True, exist_ok=True)
    snap = world.snapshot_dates[1]
    days = [snap - timedelta(days=k) for k in (35, 42, 49, 56)]
    name = lambda x: f"BDC_QLR_{x:%Y%m%d}.xlsx"  # noqa: E731
    sample = snapshot_rows.head(SAMPLE)
    p = d / name(days[0])
    write_xlsx(sample, p, days[0], headers=[h if h != "证件号码" else "身份证号码" for h in HEADERS])
    lines.append(f"- `bad/property/{p.name}`: wrong header (证件号码 → 身份证号码).")
    p = d / name(days[1])
    p.write_bytes(b"")
    lines.append(f"- `bad/property/{p.name}`: empty file (0 bytes).")
    p = d / name(days[2])
    write_xlsx(sample, p, days[2])
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])
    lines.append(f"- `bad/property/{p.name}`: truncated XLSX (first half of the zip).")
    p = d / name(days[3])
    txt = sample[["unit", "d_name", "owner_kind", "d_id", "share", "d_addr", "use"]]
    txt.to_csv(p, index=False, encoding="gb18030", lineterminator="\n")
    lines.append(f"- `bad/property/{p.name}`: not an XLSX at all — a GB18030 CSV export "
                 f"saved under the .xlsx name.")
    mark_all(d)
    lines += write_bad_vehicles(world, base)
    lines += write_bad_medical(world, base)
    for k in ("file_wrong_header", "file_empty", "file_truncated", "file_wrong_encoding"):
        dirt[k] += 5
    readme = ["# Bad deliveries (file-level dirt)", "",
              "Each file below has its `.ok` marker and is named like a real delivery of a date",
              "older than every good delivery. None of them is in `drop/`; tests copy them in",
              "to check that the pipeline rejects them with a clear message.", "", *lines, ""]
    (out / "extras" / "README.md").write_text("\n".join(readme), encoding="utf-8")
    return lines

