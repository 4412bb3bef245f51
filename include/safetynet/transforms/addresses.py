"""Address keys for linking utility accounts to households (rules.md, "Addresses").

Two addresses are the same when their normalised forms are equal, so the key is
computed once at load time and stored; joins compare keys only.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

import numpy as np
import pandas as pd

from safetynet.transforms._common import WS_RE, clean_text, scalar_text

_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"两": 2}
_NUMERAL_CHARS = "零一二两三四五六七八九十百"
_UNITS = "单元|组|号|栋|室|楼|层"
# A maximal numeral run directly before a unit word. The look-behind keeps a run
# that continues a larger numeral (三千二百号, 〇, 壹贰…) from being cut in half.
_RUN_RE = re.compile(
    rf"(?<![{_NUMERAL_CHARS}千万亿〇壹贰叁肆伍陆柒捌玖拾佰仟])"
    rf"([{_NUMERAL_CHARS}]+)(?={_UNITS})"
)
# Cheap pre-filter (no look-around, so RE2 can run it) for rows that may need step 3.
_CANDIDATE = rf"[{_NUMERAL_CHARS}](?:{_UNITS})"


def _tens_units(run: str, tens_digit_required: bool) -> int | None:
    """Value of `[d]十[d]` (10–99); None for anything else."""
    tens, sep, units = run.partition("十")
    if not sep or "百" in run:
        return None
    if (tens == "" and tens_digit_required) or tens not in ("", *_DIGITS) or tens == "零":
        return None
    if units not in ("", *_DIGITS) or units == "零":
        return None
    return (_DIGITS[tens] if tens else 1) * 10 + (_DIGITS[units] if units else 0)


def numeral_value(run: str) -> int | None:
    """The value (0–999) of a Chinese numeral run, or None when it is not a well-formed one.

    Accepted: 零; 一…九 and 两; 十, 十d, d十, d十d (also 一十二); d百, d百零d,
    d百d十[d]; and digit-by-digit readings of 2–3 digits not starting with 零
    (三零二 → 302, as room numbers are read aloud).
    Anything else (一百五, 一百十, 零五, 十十, 两两十…) gives None.
    """
    if run and all(c in _DIGITS for c in run):
        if len(run) == 1:
            return _DIGITS[run]
        if len(run) <= 3 and run[0] != "零" and "两" not in run:
            return int("".join(str(_DIGITS[c]) for c in run))
        return None
    head, sep, rest = run.partition("百")
    if not sep:
        return _tens_units(run, tens_digit_required=False)
    if head not in _DIGITS or head == "零":
        return None
    if rest == "":
        return _DIGITS[head] * 100
    if rest[0] == "零":
        unit = rest[1:]
        return _DIGITS[head] * 100 + _DIGITS[unit] if unit in _DIGITS and unit != "零" else None
    tail = _tens_units(rest, tens_digit_required=True)
    return None if tail is None else _DIGITS[head] * 100 + tail


def _replace_numeral(match: re.Match[str]) -> str:
    value = numeral_value(match.group(1))
    return match.group(1) if value is None else str(value)


def _convert_numerals(text: str) -> str:
    return _RUN_RE.sub(_replace_numeral, text)


def _steps_1_to_3(text: str) -> str:
    text = WS_RE.sub("", unicodedata.normalize("NFKC", text))
    return _convert_numerals(text.replace("#", "号").replace("幢", "栋"))


def _prefix_keys(prefixes: Sequence[str | None]) -> list[str]:
    """Prefixes normalised like addresses, so `江西 省` still strips `江西省…`."""
    keys = [_steps_1_to_3(p) for p in prefixes if p]
    return [k for k in keys if k]


def normalize_address(value: object, prefixes: Sequence[str | None]) -> str | None:
    """The comparable key of one address; None when nothing is left.

    Steps (rules.md): NFKC and no whitespace; `#`→`号`, `幢`→`栋`; a Chinese
    numeral directly before 组/号/栋/单元/室/楼/层 becomes Arabic digits — a run
    that is not a well-formed 0–999 numeral (see `numeral_value`) is left
    unchanged; then the leading province, city and county names (`prefixes`, in
    that order, each optional) are removed once each.
    """
    text = scalar_text(value)
    if text is None:
        return None
    text = _steps_1_to_3(text)
    for key in _prefix_keys(prefixes):
        text = text.removeprefix(key)
    return text or None


def normalize_addresses(s: pd.Series, prefixes: Sequence[str | None]) -> pd.Series:
    """Vectorised `normalize_address`; numeral conversion runs once per distinct candidate."""
    t = clean_text(s).str.replace("#", "号", regex=False).str.replace("幢", "栋", regex=False)
    cand = t.str.contains(_CANDIDATE, regex=True).fillna(False).to_numpy(bool)
    if cand.any():
        codes, uniques = pd.factorize(t[cand])
        converted = np.array([_convert_numerals(u) for u in uniques], dtype=object)
        t = t.copy()
        t[cand] = converted[codes]
    for key in _prefix_keys(prefixes):
        t = t.str.removeprefix(key)
    return t.mask(t == "", pd.NA).astype("string")
