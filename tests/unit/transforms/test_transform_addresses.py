"""Address keys (rules.md "Addresses", steps 1–4)."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safetynet.transforms import normalize_address, normalize_addresses, numeral_value

FAST = settings(max_examples=200, deadline=None, database=None)
PREFIXES = ["江西省", "上饶市", "广丰区"]
UNITS = ["组", "号", "栋", "单元", "室", "楼", "层"]
DIGITS = "零一二三四五六七八九"


def render(n: int, liang: bool = False, formal_ten: bool = False) -> str:
    """Standard Chinese reading of 0–999, written independently of the code under test."""

    def lead(k: int) -> str:
        return "两" if liang and k == 2 else DIGITS[k]

    if n < 10:
        return lead(n)
    if n < 100:
        tens, units = divmod(n, 10)
        head = ("一" if formal_ten else "") if tens == 1 else DIGITS[tens]
        return head + "十" + (DIGITS[units] if units else "")
    hundreds, rest = divmod(n, 100)
    text = lead(hundreds) + "百"
    if rest == 0:
        return text
    if rest < 10:
        return text + "零" + DIGITS[rest]
    tens, units = divmod(rest, 10)
    return text + DIGITS[tens] + "十" + (DIGITS[units] if units else "")


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("三组", "3组"),
        ("十二号", "12号"),
        ("一百零五室", "105室"),
        ("十号", "10号"),
        ("二十号", "20号"),
        ("一百号", "100号"),
        ("两栋", "2栋"),
        ("零号", "0号"),
        ("一百一十号", "110号"),
        ("九百九十九单元", "999单元"),
        ("一十二楼", "12楼"),
        ("三零二室", "302室"),  # digit-by-digit room number
        ("十层", "10层"),
        ("第三组", "第3组"),
        ("三号楼五单元", "3号楼5单元"),
        ("5#楼", "5号楼"),
        ("＃５", "号5"),
        ("3幢", "3栋"),
        ("三幢", "3栋"),  # 幢→栋 happens before numerals
        ("A 区 ５ 幢", "A区5栋"),
        ("五一路", "五一路"),  # no unit word: unchanged
        ("一百五号", "一百五号"),  # colloquial 150: not a well-formed numeral, unchanged
        ("一百十号", "一百十号"),
        ("零五室", "零五室"),
        ("十十号", "十十号"),
        ("三千二百号", "三千二百号"),  # part of a larger numeral: untouched
        ("二〇三室", "二〇三室"),
        ("一千号", "一千号"),
        ("", None),
        (" \u3000", None),
        (None, None),
    ],
)
def test_examples(raw: str | None, expected: str | None) -> None:
    assert normalize_address(raw, []) == expected
    got = normalize_addresses(pd.Series([raw], dtype=object), []).iloc[0]
    assert (None if got is pd.NA else got) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("江西省上饶市广丰区永丰街道三组", "永丰街道3组"),
        ("上饶市广丰区X", "X"),
        ("江西省广丰区X", "X"),
        ("江西省上饶市X", "X"),
        ("广丰区X", "X"),
        ("X", "X"),
        ("江西 省 上饶市　广丰区 X", "X"),
        ("广丰区江西省X", "江西省X"),  # order matters: province is only stripped first
        ("江西省江西省X", "江西省X"),  # each prefix is stripped once
        ("永丰街道广丰区X", "永丰街道广丰区X"),  # only leading names are stripped
        ("江西省上饶市广丰区", None),
    ],
)
def test_prefixes(raw: str, expected: str | None) -> None:
    assert normalize_address(raw, PREFIXES) == expected
    got = normalize_addresses(pd.Series([raw]), PREFIXES).iloc[0]
    assert (None if got is pd.NA else got) == expected


def test_prefixes_are_optional_and_normalised() -> None:
    assert normalize_address("江西省广丰区X", ["江西省", None, "广丰区"]) == "X"
    assert normalize_address("江西省广丰区X", ["", "", "广丰区"]) == "江西省广丰区X"
    assert normalize_address("江西省X", ["江西 省"]) == "X"


def test_series_keeps_index_and_dtype() -> None:
    s = pd.Series(["江西省三组", None, "十号"], index=[5, 6, 7])
    out = normalize_addresses(s, PREFIXES)
    assert list(out.index) == [5, 6, 7]
    assert isinstance(out.dtype, pd.StringDtype) and out.dtype.na_value is pd.NA
    assert out.tolist() == ["3组", pd.NA, "10号"]


@pytest.mark.parametrize(("n", "text"), [(0, "零"), (2, "二"), (10, "十"), (105, "一百零五")])
def test_numeral_value_known(n: int, text: str) -> None:
    assert numeral_value(text) == n


@FAST
@given(st.integers(0, 999), st.sampled_from(UNITS), st.booleans(), st.booleans())
def test_any_numeral_becomes_arabic(n: int, unit: str, liang: bool, formal: bool) -> None:
    chinese = render(n, liang=liang, formal_ten=formal)
    assert numeral_value(chinese) == n
    assert normalize_address(f"新村{chinese}{unit}", []) == f"新村{n}{unit}"
    assert normalize_addresses(pd.Series([f"{chinese}{unit}"]), []).iloc[0] == f"{n}{unit}"


BODY_CHARS = st.sampled_from(list("永丰街道路村东西南北大新Ab-"))


@st.composite
def address_variants(draw: st.DrawFn) -> tuple[str, str]:
    """(a dirty rendering, the key every rendering of that address must give)."""
    parts, key = [], []
    for _ in range(draw(st.integers(1, 3))):
        name = draw(st.text(BODY_CHARS, min_size=1, max_size=4))
        n, unit = draw(st.integers(0, 999)), draw(st.sampled_from(UNITS))
        numeral = draw(st.sampled_from([render(n), str(n), full_width(str(n))]))
        unit_text = {
            "号": draw(st.sampled_from(["号", "#", "＃"])),
            "栋": draw(st.sampled_from(["栋", "幢"])),
        }
        parts.append(name + numeral + unit_text.get(unit, unit))
        key.append(name + str(n) + unit)
    kept = [p for p in PREFIXES if draw(st.booleans())]
    chars = list("".join(kept + parts))
    spaces = st.sampled_from(["", "", " ", "\u3000", "\t"])
    dirty = "".join(draw(spaces) + c for c in chars) + draw(spaces)
    return dirty, "".join(key)


@FAST
@given(address_variants())
def test_renderings_normalise_to_one_key(variant: tuple[str, str]) -> None:
    dirty, key = variant
    assert normalize_address(dirty, PREFIXES) == key
    assert normalize_addresses(pd.Series([dirty]), PREFIXES).iloc[0] == key


ANY_CHARS = st.sampled_from(
    list("零一二两三四五六七八九十百千〇组号栋单元室楼层幢#＃ 　江西省上饶市广丰区路1２")
)


@FAST
@given(st.lists(st.text(ANY_CHARS, max_size=12) | st.none(), max_size=6))
def test_vectorised_matches_scalar_and_is_idempotent(values: list[str | None]) -> None:
    out = normalize_addresses(pd.Series(values, dtype=object), PREFIXES)
    for value, got in zip(values, out, strict=True):
        expected = normalize_address(value, PREFIXES)
        assert (None if got is pd.NA else got) == expected
        # Idempotent, except that a key still starting with a region name (江西省江西省X)
        # loses it again: prefixes are stripped once each, in order, as rules.md says.
        if expected is not None and not any(expected.startswith(p) for p in PREFIXES):
            assert normalize_address(expected, PREFIXES) == expected
