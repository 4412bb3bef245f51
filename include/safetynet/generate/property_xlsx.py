"""Write the registry's weekly snapshots (BDC_QLR_YYYYMMDD.xlsx) with xlsxwriter.

constant_memory mode, row by row (DataFrame.to_excel would write an almost empty
file in that mode). Dates are a mix of real date cells, bare Excel serial
numbers and text in four styles; areas are numbers, some typed as text with
thousands separators or spaces. Big snapshots are written in child processes.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing as mp
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xlsxwriter

from safetynet.generate.textdirt import fmt_date

HEADERS = ["不动产单元号", "权利人名称", "证件种类", "证件号码", "共有方式", "坐落", "规划用途",
           "建筑面积", "登记时间", "注销时间"]
SHEET = "权利人信息"
MAX_ROWS = 1_048_575  # data rows per sheet (Excel's limit minus the header)
DATE_STYLES = ["cell", "serial", "iso", "date_slash", "date_compact", "date_chinese"]
DATE_P = [0.7, 0.08, 0.13, 0.03, 0.03, 0.03]
EPOCH = pd.Timestamp("1899-12-30")


def snapshot_frame(prop: pd.DataFrame, snap: date, newest: bool, seed: int,
                   dirt: Counter, late: int | None = None) -> pd.DataFrame:
    """Rows of one snapshot in delivery order (by unit), with cell kinds and duplicates; the
    rows from position ``late`` on (``World.late``) follow the others, drawn apart."""
    if late is not None and late < len(prop):
        return pd.concat([_frame(prop.iloc[:late], snap, newest, [seed, 3, int(newest)], dirt),
                          _frame(prop.iloc[late:], snap, newest, [seed, 3, int(newest), 1], dirt)],
                         ignore_index=True)
    return _frame(prop, snap, newest, [seed, 3, int(newest)], dirt)


def _frame(prop: pd.DataFrame, snap: date, newest: bool, key: list[int],
           dirt: Counter) -> pd.DataFrame:
    rng = np.random.default_rng(key)
    keep = ["unit", "d_name", "owner_kind", "d_id", "share", "d_addr", "use", "area100",
            "reg_on", "cancel_on", "pid"]
    sel = prop.loc[prop["in_new"] if newest else prop["in_old"], keep]
    if not newest:
        late = sel["cancel_on"] > pd.Timestamp(snap)
        sel.loc[late, "cancel_on"] = pd.NaT
    sel = sel.sort_values(["unit", "pid"], kind="stable").reset_index(drop=True)
    n = len(sel)
    for col in ("reg_on", "cancel_on"):
        style = rng.choice(len(DATE_STYLES), n, p=DATE_P)
        style[sel[col].isna().to_numpy()] = -1
        sel[col + "_style"] = style
        for i, s in enumerate(DATE_STYLES):
            label = {"cell": "xlsx_date_cell", "serial": "xlsx_date_serial", "iso": ""}[s] \
                if s in ("cell", "serial", "iso") else s
            if label:
                dirt[label] += int((style == i).sum())
    area = sel["area100"].to_numpy()
    atext = np.full(n, None, dtype=object)
    big = np.flatnonzero((area >= 100000) & (rng.random(n) < 0.3))
    for j in big:
        atext[j] = f"{area[j] / 100:,.2f}"
    sp = np.flatnonzero((rng.random(n) < 0.01) & pd.isna(atext))
    for j in sp:
        atext[j] = f" {area[j] / 100:.2f} "
    dirt["num_thousands"] += len(big)
    dirt["num_spaces"] += len(sp)
    sel["area_text"] = atext
    rep = np.where(rng.random(n) < 0.004, 2, 1)
    dirt["dup_rows_xlsx"] += int((rep == 2).sum())
    return sel.loc[sel.index.repeat(rep)].reset_index(drop=True)


def _date_cell(ws: object, r: int, c: int, ts: object, style: int, fmt: object) -> None:
    if style < 0:
        return
    d = pd.Timestamp(ts)
    serial = float((d - EPOCH).days)
    if style == 0:
        ws.write_number(r, c, serial, fmt)  # type: ignore[attr-defined]
    elif style == 1:
        ws.write_number(r, c, serial)  # type: ignore[attr-defined]
    else:
        ws.write_string(r, c, fmt_date(d, DATE_STYLES[style]))  # type: ignore[attr-defined]


def write_xlsx(rows: pd.DataFrame, path: Path, snap: date, headers: list[str] | None = None) -> int:
    """Write one snapshot file; returns the number of data rows written."""
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False,
                                         "use_zip64": True})
    wb.set_properties({"title": "权利人信息", "author": "不动产登记中心",
                       "created": datetime(snap.year, snap.month, snap.day)})
    dfmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    ws: Any = None
    r = 0
    for i, (unit, name, kind, idn, share, addr, use, a100, atext, reg, rs, canc, cs) in enumerate(
            _chunked_rows(rows)):
        if i % MAX_ROWS == 0:
            k = i // MAX_ROWS
            ws = wb.add_worksheet(SHEET if k == 0 else f"{SHEET}{k + 1}")
            ws.write_row(0, 0, headers or HEADERS)
            r = 0
        r += 1
        ws.write_string(r, 0, unit)
        ws.write_string(r, 1, name)
        ws.write_string(r, 2, kind)
        if isinstance(idn, str):
            ws.write_string(r, 3, idn)
        ws.write_string(r, 4, share)
        ws.write_string(r, 5, addr)
        ws.write_string(r, 6, use)
        if isinstance(atext, str):
            ws.write_string(r, 7, atext)
        else:
            ws.write_number(r, 7, a100 / 100)
        _date_cell(ws, r, 8, reg, rs, dfmt)
        _date_cell(ws, r, 9, canc, cs, dfmt)
    if ws is None:
        ws = wb.add_worksheet(SHEET)
        ws.write_row(0, 0, headers or HEADERS)
    wb.close()
    return len(rows)


def _chunked_rows(rows: pd.DataFrame, size: int = 50_000):
    """Row tuples, materialising Python objects one chunk at a time (bounded memory)."""
    names = ("unit", "d_name", "owner_kind", "d_id", "share", "d_addr", "use", "area100",
             "area_text", "reg_on", "reg_on_style", "cancel_on", "cancel_on_style")
    for start in range(0, len(rows), size):
        part = rows.iloc[start : start + size]
        yield from zip(*[part[c].tolist() for c in names], strict=True)


def write_snapshot(prop: pd.DataFrame, path: Path, snap: date, newest: bool, seed: int,
                   late: int | None = None) -> Counter:
    """Build one snapshot's rows and write its file; returns the dirt it wrote."""
    dirt: Counter = Counter()
    rows = snapshot_frame(prop, snap, newest, seed, dirt, late)
    write_xlsx(rows, path, snap)
    dirt["_rows"] = len(rows)
    return dirt


def _child(conn: object, prop: pd.DataFrame, path: Path, snap: date, newest: bool,
           seed: int, late: int | None) -> None:
    conn.send(dict(write_snapshot(prop, path, snap, newest, seed, late)))  # type: ignore[attr-defined]
    conn.close()  # type: ignore[attr-defined]


def write_snapshots(prop: pd.DataFrame, jobs: list[tuple[Path, date, bool]], seed: int,
                    parallel: bool, late: int | None = None) -> tuple[list, Counter]:
    """Write snapshots, in forked children when ``parallel`` (the children read ``prop``
    shared copy-on-write); returns (handles to wait for, dirt of sequential writes)."""
    if not parallel:
        total: Counter = Counter()
        for path, snap, newest in jobs:
            total.update(write_snapshot(prop, path, snap, newest, seed, late))
        return [], total
    gc.collect()
    gc.freeze()  # children must not touch (and so copy) the parent's objects
    ctx = mp.get_context("fork")
    handles = []
    for path, snap, newest in jobs:
        recv, send = ctx.Pipe(duplex=False)
        p = ctx.Process(target=_child, args=(send, prop, path, snap, newest, seed, late))
        p.start()
        send.close()
        handles.append((p, recv))
    gc.unfreeze()
    return handles, Counter()


def wait(handles: list) -> Counter:
    """Join snapshot writers, fail if any failed, and return the dirt they wrote."""
    total: Counter = Counter()
    for p, recv in handles:
        with contextlib.suppress(EOFError):  # a crashed child sends nothing; exitcode says why
            total.update(recv.recv())
        p.join()
        if p.exitcode != 0:
            raise RuntimeError(f"snapshot writer exited with {p.exitcode}")
    return total
