"""Citizen ID numbers for synthetic people: building them and dirtying them.

IDs are built columnar (numpy) so a million people cost about a second. The
dirt renderer returns, for every cell, the delivered text and whether it still
normalises to the person's true number, so the reference knows which delivered
values join nothing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
CHECK_MAP = "10X98765432"
_CHECK_BYTES = np.frombuffer(CHECK_MAP.encode(), dtype=np.uint8)

#: Birthplace codes; 361122 is 广丰县 before it became 广丰区 (361103) in 2015.
BIRTHPLACES = ["361103", "361122", "361102", "361104", "361123", "361181", "330822", "350722"]
_BP_WEIGHTS = np.array([0.55, 0.2, 0.08, 0.06, 0.04, 0.03, 0.02, 0.02])

FULLWIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")

#: ID dirt kinds: identity-preserving ones first, then those that make the ID invalid.
PRESERVING = ("id_spaces", "id_fullwidth", "id_lower_x", "id_legacy15")
INVALIDATING = ("id_wrong_check", "id_bad_date", "id_empty")
#: 'id_absent': the utility simply did not record the holder's ID (not counted as dirt).
INVALID_KINDS = (*INVALIDATING, "id_absent")
DEFAULT_RATES = {
    "id_spaces": 0.015,
    "id_fullwidth": 0.01,
    "id_lower_x": 0.3,  # share of the IDs that end in X
    "id_legacy15": 0.01,
    "id_wrong_check": 0.004,
    "id_bad_date": 0.002,
    "id_empty": 0.003,
}


def check_char(body17: str) -> str:
    """Return the GB 11643 check character of a 17-digit body (used for single IDs)."""
    total = sum(int(c) * int(w) for c, w in zip(body17, WEIGHTS, strict=True))
    return CHECK_MAP[total % 11]


def build_ids(places: np.ndarray, births: np.ndarray, seqs: np.ndarray) -> np.ndarray:
    """Build valid 18-character IDs columnar: place (6 digits), birth, sequence, check."""
    n = len(births)
    if n == 0:
        return np.array([], dtype=object)
    b = pd.DatetimeIndex(births)
    ymd = (b.year.to_numpy() * 10000 + b.month.to_numpy() * 100 + b.day.to_numpy()).astype(np.int64)
    digits = np.empty((n, 18), dtype=np.uint8)
    place = np.array([[int(c) for c in p] for p in BIRTHPLACES], dtype=np.uint8)[places]
    digits[:, :6] = place
    for k in range(8):
        digits[:, 6 + k] = (ymd // 10 ** (7 - k)) % 10
    for k in range(3):
        digits[:, 14 + k] = (seqs // 10 ** (2 - k)) % 10
    total = (digits[:, :17].astype(np.int64) * WEIGHTS).sum(axis=1) % 11
    chars = digits + 48
    chars[:, 17] = _CHECK_BYTES[total]
    return np.ascontiguousarray(chars).view("S18").ravel().astype(str).astype(object)


class KeySet:
    """Set of int64 keys: a sorted array for bulk plus a small Python set for recent adds."""

    def __init__(self) -> None:
        self.bulk = np.array([], dtype=np.int64)
        self.recent: set[int] = set()

    def contains(self, keys: np.ndarray) -> np.ndarray:
        """Membership of each key (vectorised binary search plus the small set)."""
        pos = np.searchsorted(self.bulk, keys)
        pos = np.minimum(pos, max(len(self.bulk) - 1, 0))
        hit = (self.bulk[pos] == keys) if len(self.bulk) else np.zeros(len(keys), dtype=bool)
        if self.recent:
            hit |= np.fromiter((int(k) in self.recent for k in keys), dtype=bool, count=len(keys))
        return hit

    def add(self, keys: np.ndarray) -> None:
        """Add keys; small batches go to the Python set, big ones merge into the array."""
        if len(keys) < 64 and len(self.recent) < 100_000:
            self.recent.update(int(k) for k in keys)
            return
        extra = np.fromiter(self.recent, dtype=np.int64, count=len(self.recent))
        self.bulk = np.sort(np.concatenate([self.bulk, extra, keys.astype(np.int64)]))
        self.recent = set()


def first_occurrence(keys: np.ndarray) -> np.ndarray:
    """Mask of the first occurrence of every distinct key (sort-based, fast for int64)."""
    order = np.argsort(keys, kind="stable")
    ks = keys[order]
    first = np.ones(len(keys), dtype=bool)
    first[1:] = ks[1:] != ks[:-1]
    mask = np.zeros(len(keys), dtype=bool)
    mask[order[first]] = True
    return mask


class IdRegistry:
    """Hands out unique IDs for new people across every generation step."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.used = KeySet()

    def allocate(self, births: np.ndarray, place_weights: np.ndarray | None = None) -> np.ndarray:
        """Return unique valid IDs for people born on ``births`` (datetime64[D])."""
        n = len(births)
        births = births.astype("datetime64[D]")
        days = births.astype(np.int64) + 30000
        w = _BP_WEIGHTS if place_weights is None else place_weights
        places = self.rng.choice(len(BIRTHPLACES), size=n, p=w / w.sum())
        seqs = self.rng.integers(0, 1000, size=n)
        for _ in range(60):
            keys = (places.astype(np.int64) * 10**8 + days) * 1000 + seqs
            clash = ~first_occurrence(keys) | self.used.contains(keys)
            if not clash.any():
                break
            seqs[clash] = self.rng.integers(0, 1000, size=int(clash.sum()))
            places[clash] = self.rng.choice(len(BIRTHPLACES), size=int(clash.sum()), p=w / w.sum())
        else:
            raise RuntimeError("could not allocate unique ID numbers (too many same-day births)")
        self.used.add(keys)
        return build_ids(places, births, seqs)


def _bad_date(id18: str, rng: np.random.Generator) -> str:
    """Same person number with an impossible birth date and a correct check char."""
    body = id18[:17]
    y = body[6:10]
    mmdd = ["1332", "0230", "0431", "0000", "0015"][int(rng.integers(0, 5))]
    body = body[:6] + y + mmdd + body[14:17]
    return body + check_char(body)


def _wrong_check(id18: str, rng: np.random.Generator) -> str:
    right = id18[17]
    choices = [c for c in "0123456789X" if c != right]
    return id18[:17] + choices[int(rng.integers(0, len(choices)))]


def _spaces(id18: str, rng: np.random.Generator) -> str:
    v = int(rng.integers(0, 4))
    if v == 0:
        return " " + id18 + " "
    if v == 1:
        return id18 + "  "
    if v == 2:
        return id18[:6] + " " + id18[6:14] + " " + id18[14:]
    return "\u3000" + id18


def render_one(id18: str, kind: str, rng: np.random.Generator) -> str | None:
    """Render one ID with a named dirt kind (kinds may be combined with '+')."""
    if kind in ("", "clean"):
        return id18
    out: str | None = id18
    for part in kind.split("+"):
        assert out is not None
        if part in ("id_empty", "id_absent"):
            return None
        if part == "id_spaces":
            out = _spaces(out, rng)
        elif part == "id_fullwidth":
            out = out.translate(FULLWIDTH)
        elif part == "id_lower_x":
            out = out.replace("X", "x")
        elif part == "id_legacy15":
            out = out[:6] + out[8:17]
        elif part == "id_wrong_check":
            out = _wrong_check(out, rng)
        elif part == "id_bad_date":
            out = _bad_date(out, rng)
        else:
            raise ValueError(part)
    return out


def choose_kinds(
    ids: np.ndarray,
    births: np.ndarray,
    rng: np.random.Generator,
    rates: dict[str, float] | None = None,
    empty_share: float = 0.0,
) -> np.ndarray:
    """Pick a dirt kind ('' = clean) per ID cell, respecting which kinds are possible."""
    r = dict(DEFAULT_RATES)
    r.update(rates or {})
    r["id_empty"] = r["id_empty"] + empty_share
    n = len(ids)
    kinds = np.full(n, "", dtype=object)
    u = rng.random(n)
    edge = 0.0
    ends_x = pd.Series(ids, dtype=str).str.endswith("X").to_numpy(dtype=bool)
    years = pd.DatetimeIndex(births).year.to_numpy() if n else np.array([], dtype=int)
    for kind in ("id_spaces", "id_fullwidth", "id_legacy15", *INVALIDATING):
        sel = (u >= edge) & (u < edge + r[kind])
        if kind == "id_legacy15":
            sel &= (years >= 1900) & (years <= 1999)
        kinds[sel & (kinds == "")] = kind
        edge += r[kind]
    lower = ends_x & (rng.random(n) < r["id_lower_x"]) & (kinds == "")
    kinds[lower] = "id_lower_x"
    return kinds


def render_column(ids: np.ndarray, kinds: np.ndarray, rng: np.random.Generator) -> tuple:
    """Render delivered values for ``ids`` with ``kinds``; returns (delivered, valid)."""
    out = ids.astype(object).copy()
    valid = np.ones(len(ids), dtype=bool)
    for i in np.flatnonzero(kinds != ""):
        k = kinds[i]
        out[i] = render_one(ids[i], k, rng)
        if any(p in INVALID_KINDS for p in k.split("+")):
            valid[i] = False
    return out, valid
