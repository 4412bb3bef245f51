"""Dirt for names, dates, numbers and addresses, rendered from clean truth.

Every renderer keeps the truth recoverable by the contract's normalisation
(rules.md) and returns a per-row kind array so the deployment can report how
much dirt of each kind it wrote.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pandas as pd

FW_DIGITS = str.maketrans("0123456789", "０１２３４５６７８９")
_CN = "零一二三四五六七八九"
ADDR_SUFFIX = re.compile(r"(\d+)(?=组|号|栋|单元|室|楼|层)")
PROVINCE, CITY, COUNTY = "江西省", "上饶市", "广丰区"


def cn_numeral(n: int) -> str:
    """Write 0–999 in Chinese numerals (十二, 一百零五, 一百一十) as a clerk would."""
    if n < 10:
        return _CN[n]
    if n < 20:
        return "十" + (_CN[n % 10] if n % 10 else "")
    if n < 100:
        return _CN[n // 10] + "十" + (_CN[n % 10] if n % 10 else "")
    h, rest = divmod(n, 100)
    if rest == 0:
        return _CN[h] + "百"
    if rest < 10:
        return _CN[h] + "百零" + _CN[rest]
    return _CN[h] + "百" + _CN[rest // 10] + "十" + (_CN[rest % 10] if rest % 10 else "")


def _pick(rng: np.random.Generator, n: int, rates: dict[str, float]) -> np.ndarray:
    """One exclusive kind per row ('' = clean) drawn with the given shares."""
    kinds = np.full(n, "", dtype=object)
    u = rng.random(n)
    edge = 0.0
    for k, r in rates.items():
        kinds[(u >= edge) & (u < edge + r)] = k
        edge += r
    return kinds


# ---------------------------------------------------------------- names
def render_names(names: np.ndarray, rng: np.random.Generator, rate: float = 0.02) -> tuple:
    """Names with inner spaces (张 三) or a full-width space (张\u3000三)."""
    kinds = _pick(rng, len(names), {"name_spaces": rate / 2, "name_fullwidth": rate / 2})
    out = names.astype(object).copy()
    for i in np.flatnonzero(kinds != ""):
        s = out[i]
        sep = " " if kinds[i] == "name_spaces" else "\u3000"
        out[i] = s[0] + sep + s[1:] if len(s) > 1 else s + sep
    return out, kinds


# ---------------------------------------------------------------- dates
DATE_RATES = {"date_slash": 0.01, "date_compact": 0.01, "date_chinese": 0.01}


def fmt_date(d: pd.Timestamp, kind: str) -> str:
    """Format one date in one of the delivered styles."""
    if kind == "date_slash":
        return f"{d.year}/{d.month}/{d.day}"
    if kind == "date_compact":
        return f"{d.year:04d}{d.month:02d}{d.day:02d}"
    if kind == "date_chinese":
        return f"{d.year}年{d.month}月{d.day}日"
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"


def render_dates(values: pd.Series, rng: np.random.Generator, rates: dict | None = None) -> tuple:
    """Text dates: mostly ISO, a few per cent slash, compact or Chinese; NaT → None."""
    v = pd.to_datetime(values)
    n = len(v)
    kinds = _pick(rng, n, rates or DATE_RATES)
    arr = v.to_numpy(dtype="datetime64[D]")
    nat = np.isnat(arr)
    out = np.datetime_as_string(arr, unit="D").astype(object)
    out[nat] = None
    kinds[nat] = ""
    for i in np.flatnonzero(kinds != ""):
        out[i] = fmt_date(pd.Timestamp(arr[i]), kinds[i])
    return out, kinds


# ---------------------------------------------------------------- numbers
def render_tenths(tenths: np.ndarray, rng: np.random.Generator, comma: float = 0.3,
                  spaces: float = 0.01) -> tuple:
    """Quantities held as integer tenths → text; thousands separators and spaces as dirt."""
    t = np.asarray(tenths, dtype=np.int64)
    whole, frac = np.divmod(t, 10)
    s = pd.Series(whole).astype(str).to_numpy(dtype=object)
    has = frac != 0
    s[has] = s[has] + "." + pd.Series(frac[has]).astype(str).to_numpy(dtype=object)
    n = len(t)
    kinds = np.full(n, "", dtype=object)
    big = np.flatnonzero((whole >= 1000) & (rng.random(n) < comma))
    for i in big:
        s[i] = f"{whole[i]:,}" + (f".{frac[i]}" if frac[i] else "")
        kinds[i] = "num_thousands"
    sp = np.flatnonzero((rng.random(n) < spaces) & (kinds == ""))
    for i in sp:
        s[i] = " " + s[i] + " "
        kinds[i] = "num_spaces"
    return s, kinds


def money_text(amount: float) -> str:
    """An amount with a thousands separator, as some clerks type it."""
    return f"{amount:,.2f}"


# ---------------------------------------------------------------- addresses
ADDR_RATES = {"addr_fullwidth": 0.02, "addr_spaces": 0.02, "addr_cn_numeral": 0.03,
              "addr_hash": 0.02, "addr_zhuang": 0.02}
PREFIXES = [PROVINCE + CITY + COUNTY, CITY + COUNTY, COUNTY, ""]


def _to_cn(m: re.Match) -> str:
    n = int(m.group(1))
    return cn_numeral(n) if n <= 999 else m.group(1)


def dirty_address(canon: str, kind: str, rng: np.random.Generator) -> str:
    """Apply one address dirt kind to a canonical (normalised, prefix-free) address."""
    if kind == "addr_fullwidth":
        return canon.translate(FW_DIGITS)
    if kind == "addr_spaces":
        m = re.search(r"\d", canon)
        cut = m.start() if m else len(canon) // 2
        sep = " " if rng.random() < 0.7 else "\u3000"
        return canon[:4] + " " + canon[4:cut] + sep + canon[cut:]
    if kind == "addr_cn_numeral":
        return ADDR_SUFFIX.sub(_to_cn, canon)
    if kind == "addr_hash":
        return canon.replace("号", "#", 1)
    if kind == "addr_zhuang":
        return canon.replace("栋", "幢") if "栋" in canon else canon.replace("号", "#", 1)
    return canon


def render_addresses(canon: np.ndarray, rng: np.random.Generator,
                     prefix_p: tuple = (0.3, 0.1, 0.3, 0.3), rates: dict | None = None) -> tuple:
    """Delivered addresses: a random prefix, plus one dirt kind on a few per cent."""
    n = len(canon)
    kinds = _pick(rng, n, rates or ADDR_RATES)
    pidx = rng.choice(len(PREFIXES), size=n, p=np.array(prefix_p) / sum(prefix_p))
    pref = np.array(PREFIXES, dtype=object)[pidx]
    body = canon.astype(object).copy()
    for i in np.flatnonzero(kinds != ""):
        body[i] = dirty_address(body[i], kinds[i], rng)
        if kinds[i] == "addr_zhuang" and "幢" not in body[i]:
            kinds[i] = "addr_hash"
    out = pref + body
    return out, kinds, pidx


def count_kinds(*arrays: np.ndarray) -> Counter:
    """Count non-empty kinds across kind arrays (for the dirt inventory)."""
    c: Counter = Counter()
    for a in arrays:
        vals, cnt = np.unique(np.asarray(a, dtype=object).astype(str), return_counts=True)
        for v, k in zip(vals, cnt, strict=True):
            if v:
                c[v] += int(k)
    return c
