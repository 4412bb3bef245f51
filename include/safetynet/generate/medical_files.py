"""Write the medical-insurance bureau's monthly deliveries ``YB_YYYYMM.csv`` (sources.md §8).

UTF-8 (no BOM), comma-separated, LF line ends, the contract's header on line 1,
one row per settlement in settlement-number order. The 12 delivered months before
D's month get their ``.ok`` marker; D's own month is written unfinished, without
one, and must never be read. Amounts carry number dirt (thousands separators,
surrounding spaces) and a few rows are whole-row duplicates; each month file has
its own seeded RNG, so files do not depend on write order. Bad files for
``extras/bad/medical`` live here too.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd

from safetynet.generate.render import count_into
from safetynet.generate.utility_files import cut_mid_row, mark_all, marker, to_bytes
from safetynet.generate.world import World, month_add

HEADERS = ["结算流水号", "证件号码", "姓名", "就诊类型", "结算日期", "医疗总费用", "基金支付", "个人自付"]
PATTERN = "YB_{}.csv"
FOLDER = Path("drop") / "medical"
STREAM = 10
DUP_SHARE = 0.003


def render_cents(cents: np.ndarray, rng: np.random.Generator, forced: np.ndarray,
                 comma: float = 0.3, spaces: float = 0.01) -> tuple[np.ndarray, np.ndarray]:
    """Amounts in cents → text with two decimals; thousands separators (on amounts of 1,000 and
    more) and surrounding spaces as dirt, ``forced`` naming a kind per row ('' = random)."""
    c = np.asarray(cents, dtype=np.int64)
    whole, frac = np.divmod(c, 100)
    frac_s = pd.Series(frac).astype(str).str.zfill(2).to_numpy(dtype=object)
    text = pd.Series(whole).astype(str).to_numpy(dtype=object) + "." + frac_s
    n = len(c)
    kinds = np.full(n, "", dtype=object)
    big = (whole >= 1000) & (((rng.random(n) < comma) & (forced == "")) | (forced == "num_thousands"))
    for i in np.flatnonzero(big):
        text[i] = f"{whole[i]:,}.{frac_s[i]}"
        kinds[i] = "num_thousands"
    sp = ((rng.random(n) < spaces) & (forced == "") & (kinds == "")) | (forced == "num_spaces")
    for i in np.flatnonzero(sp):
        text[i] = " " + text[i] + " "
        kinds[i] = "num_spaces"
    return text, kinds


def month_frame(world: World, month: int, rng: np.random.Generator,
                dirt: Counter | None) -> pd.DataFrame:
    """Delivered rows (contract headers) of the file of ``month``, before duplicates."""
    med = world.tables["medical"]
    rows = med[(med["file_month"] == month).to_numpy()].sort_values("settlement_no", kind="stable")
    forced = rows["num_dirt"].fillna("").to_numpy(dtype=object)
    out = {"结算流水号": rows["settlement_no"].to_numpy(), "证件号码": rows["d_id"].to_numpy(),
           "姓名": rows["d_name"].to_numpy(), "就诊类型": rows["kind"].to_numpy(),
           "结算日期": rows["d_settled_on"].to_numpy()}
    for header, col in (("医疗总费用", "total"), ("基金支付", "fund"), ("个人自付", "self")):
        out[header], kinds = render_cents(rows[col].to_numpy(), rng, forced)
        if dirt is not None:
            count_into(dirt, kinds)
    frame = pd.DataFrame(out)
    frame["_dup"] = rows["dup"].to_numpy(dtype=bool)
    frame["_on"] = rows["settled_on"].to_numpy()
    return frame


def month_rows(world: World, month: int, dirt: Counter | None) -> pd.DataFrame:
    """Delivered rows of one month file: :func:`month_frame` with whole-row duplicates (a
    few at random, and every planted one) right after their originals."""
    rng = np.random.default_rng([world.seed, STREAM, month])
    df = month_frame(world, month, rng, dirt)
    rep = np.where(df.pop("_dup").to_numpy() | (rng.random(len(df)) < DUP_SHARE), 2, 1)
    if dirt is not None:
        dirt["dup_rows_medical"] += int((rep == 2).sum())
    return df.drop(columns="_on").loc[df.index.repeat(rep)].reset_index(drop=True)


def write_csv(rows: pd.DataFrame, path: Path, encoding: str = "utf-8") -> None:
    """Write delivered rows as the bureau does: UTF-8 (or ``encoding``), comma, LF."""
    raw = to_bytes(rows, ",")
    path.write_bytes(raw if encoding == "utf-8" else raw.decode("utf-8").encode(encoding))


def write_medical(world: World, out: Path, dirt: Counter) -> dict[str, int]:
    """Write the 12 marked months and D's unfinished month to ``drop/medical``; rows per file."""
    folder = out / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    counts = {}
    for month in [*world.months, world.d_month]:
        rows = month_rows(world, month, dirt if month != world.d_month else None)
        path = folder / PATTERN.format(month)
        write_csv(rows, path)
        if month != world.d_month:
            marker(path)
        counts[path.name] = len(rows)
    return counts


def _moved(world: World, month: int, sample: int) -> pd.DataFrame:
    """The first ``sample`` rows of the first delivered month, re-dated into ``month`` (same
    day, at most the 28th) so only what makes the file bad is wrong with it."""
    rng = np.random.default_rng([world.seed, STREAM, 0])
    df = month_frame(world, world.months[0], rng, None).head(sample)
    day = pd.to_datetime(df.pop("_on")).dt.day.clip(upper=28)
    df["结算日期"] = [f"{month // 100:04d}-{month % 100:02d}-{d:02d}" for d in day]
    return df.drop(columns="_dup")


def write_bad_medical(world: World, base: Path, sample: int = 200) -> list[str]:
    """Bad month files (wrong header, empty, truncated, GB18030) in ``base/medical``, months a
    year and more before the delivered ones, each with its marker; README lines."""
    d = base / "medical"
    d.mkdir(parents=True, exist_ok=True)
    hdr, empty, trunc, enc = (month_add(world.months[0], -k) for k in (2, 3, 4, 5))
    lines = []
    p = d / PATTERN.format(hdr)
    write_csv(_moved(world, hdr, sample).rename(columns={"个人自付": "自付金额"}), p)
    lines.append(f"- `bad/medical/{p.name}`: wrong header (个人自付 → 自付金额).")
    p = d / PATTERN.format(empty)
    p.write_bytes(b"")
    lines.append(f"- `bad/medical/{p.name}`: empty file (0 bytes).")
    p = d / PATTERN.format(trunc)
    write_csv(_moved(world, trunc, sample), p)
    cut_mid_row(p, "utf-8", ",")
    lines.append(f"- `bad/medical/{p.name}`: truncated mid-row (cut at 55% of its text), "
                 f"marker present anyway.")
    p = d / PATTERN.format(enc)
    write_csv(_moved(world, enc, sample), p, encoding="gb18030")
    lines.append(f"- `bad/medical/{p.name}`: encoded GB18030 instead of UTF-8 (Chinese names "
                 f"and visit kinds).")
    mark_all(d)
    return lines
