"""Citizen ID numbers (GB 11643-1999): normalisation and structural validity.

Validity here is structural only. Whether the birth date is after the report
date D is the caller's check (`id_birth <= D`, reason `future_birth`).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata

import numpy as np
import pandas as pd

from safetynet.transforms._common import WS_RE, clean_text, scalar_text, valid_ymd

CHECK_WEIGHTS: tuple[int, ...] = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_MAP = "10X98765432"

PROBLEM_TEXT: dict[str, str] = {
    "empty": "身份证号码为空",
    "length": "身份证号码不是18位",
    "format": "身份证号码含非法字符（前17位须为数字，末位为数字或X）",
    "birth_date": "出生日期不是有效日期（或早于1900-01-01）",
    "check_char": "校验码错误",
    "future_birth": "出生日期晚于报告日",
}

_MIN_BIRTH_YEAR = 1900
_WEIGHTS = np.array(CHECK_WEIGHTS, dtype=np.int32)
_ZERO_OFFSET = 48 * sum(CHECK_WEIGHTS)  # byte b is digit b - 48
_MAP_BYTES = np.frombuffer(CHECK_MAP.encode("ascii"), dtype=np.uint8)
_FORMAT = "[0-9]{17}[0-9X]"
_LEGACY = "[0-9]{15}"


def check_char(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first 17 digits."""
    if not re.fullmatch("[0-9]{17}", first17):
        raise ValueError("check_char needs exactly 17 ASCII digits")
    return CHECK_MAP[sum(int(c) * w for c, w in zip(first17, CHECK_WEIGHTS, strict=True)) % 11]


def normalize_id(value: object) -> str | None:
    """NFKC, no whitespace, upper-case, legacy 15 → 18 digits, so that one person has one key."""
    text = scalar_text(value)
    if text is None:
        return None
    norm = WS_RE.sub("", unicodedata.normalize("NFKC", text)).upper()
    if re.fullmatch(_LEGACY, norm):
        first17 = norm[:6] + "19" + norm[6:]
        norm = first17 + check_char(first17)
    return norm or None


def id_problem(norm: str | None) -> str | None:
    """Why a normalised ID cannot join records (None when structurally valid)."""
    if not norm:
        return "empty"
    if len(norm) != 18:
        return "length"
    if not re.fullmatch(_FORMAT, norm):
        return "format"
    try:
        birth = dt.date(int(norm[6:10]), int(norm[10:12]), int(norm[12:14]))
    except ValueError:
        return "birth_date"
    if birth.year < _MIN_BIRTH_YEAR:
        return "birth_date"
    if check_char(norm[:17]) != norm[17]:
        return "check_char"
    return None


def _digit_matrix(t: pd.Series, width: int) -> np.ndarray:
    """ASCII strings of one fixed width as an (n, width) uint8 matrix of byte values."""
    raw = "".join(t.tolist()).encode("ascii")
    return np.frombuffer(raw, dtype=np.uint8).reshape(-1, width)


def _check_bytes(first17: np.ndarray) -> np.ndarray:
    """Check characters (as bytes) for an (n, 17) matrix of digit byte values."""
    return _MAP_BYTES[(first17.astype(np.int32) @ _WEIGHTS - _ZERO_OFFSET) % 11]


def normalize_ids(s: pd.Series) -> pd.DataFrame:
    """Vectorised `normalize_id` + `id_problem` + birth date, for whole columns at load time."""
    norm = clean_text(s).str.upper()
    legacy = norm.str.fullmatch(_LEGACY).fillna(False).to_numpy(bool)
    if legacy.any():
        old = norm[legacy]
        first17 = old.str.slice(0, 6) + "19" + old.str.slice(6)
        checks = _check_bytes(_digit_matrix(first17, 17)).tobytes().decode("ascii")
        norm = norm.copy()
        norm[legacy] = first17 + pd.Series(list(checks), index=first17.index, dtype="string")

    n = len(norm)
    problem = np.full(n, None, dtype=object)
    present = norm.notna().to_numpy(bool)
    length_ok = (norm.str.len() == 18).fillna(False).to_numpy(bool)
    format_ok = norm.str.fullmatch(_FORMAT).fillna(False).to_numpy(bool)
    problem[~present] = "empty"
    problem[present & ~length_ok] = "length"
    problem[length_ok & ~format_ok] = "format"

    birth = pd.Series(pd.NA, index=s.index, dtype="string")
    if format_ok.any():
        mat = _digit_matrix(norm[format_ok], 18)
        digits = mat[:, 6:14].astype(np.int64) - 48
        y = digits[:, :4] @ np.array([1000, 100, 10, 1])
        m = digits[:, 4:6] @ np.array([10, 1])
        d = digits[:, 6:8] @ np.array([10, 1])
        date_ok = valid_ymd(y, m, d) & (y >= _MIN_BIRTH_YEAR)
        check_ok = _check_bytes(mat[:, :17]) == mat[:, 17]
        sub = np.full(len(mat), None, dtype=object)
        sub[~date_ok] = "birth_date"
        sub[date_ok & ~check_ok] = "check_char"
        problem[format_ok] = sub
        valid = np.zeros(n, dtype=bool)
        valid[np.flatnonzero(format_ok)[date_ok & check_ok]] = True
        if valid.any():
            v = norm[valid]
            ymd = (v.str.slice(6, 10), v.str.slice(10, 12), v.str.slice(12, 14))
            birth[valid] = ymd[0] + "-" + ymd[1] + "-" + ymd[2]

    return pd.DataFrame(
        {
            "id_norm": norm.to_numpy(),
            "id_birth": birth.to_numpy(),
            "id_problem": pd.array(problem, dtype="string"),
        },
        index=s.index,
    ).astype("string")
