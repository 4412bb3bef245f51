"""ID normalisation and structural validity (rules.md "ID numbers", sources.md "Dirt")."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from safetynet.transforms import (
    CHECK_MAP,
    CHECK_WEIGHTS,
    PROBLEM_TEXT,
    check_char,
    id_problem,
    normalize_id,
    normalize_ids,
)

FAST = settings(max_examples=200, deadline=None, database=None)


def iso7064_check(first17: str) -> str:
    """Check character straight from ISO 7064 MOD 11-2 (weights 2^k mod 11), not the table."""
    total = sum(int(c) * pow(2, 17 - i, 11) for i, c in enumerate(first17))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


def none_if_na(value: object) -> object:
    return None if value is pd.NA else value


def full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@st.composite
def valid_ids(draw: st.DrawFn, max_year: int = 2026) -> str:
    region = draw(st.from_regex(r"[1-9][0-9]{5}", fullmatch=True))
    birth = draw(st.dates(dt.date(1900, 1, 1), dt.date(max_year, 12, 31)))
    seq = draw(st.from_regex(r"[0-9]{3}", fullmatch=True))
    first17 = f"{region}{birth:%Y%m%d}{seq}"
    return first17 + iso7064_check(first17)


def test_constants_match_the_standard() -> None:
    assert tuple(pow(2, 17 - i, 11) for i in range(17)) == CHECK_WEIGHTS
    assert [iso7064_check_for_remainder(r) for r in range(11)] == list(CHECK_MAP)
    assert PROBLEM_TEXT["check_char"] == "校验码错误"
    assert PROBLEM_TEXT["future_birth"] == "出生日期晚于报告日"
    assert {"empty", "length", "format", "birth_date"} <= PROBLEM_TEXT.keys()


def iso7064_check_for_remainder(remainder: int) -> str:
    value = (12 - remainder) % 11
    return "X" if value == 10 else str(value)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("11010519491231002X", "11010519491231002X"),  # the GB 11643 example
        ("11010519491231002x", "11010519491231002X"),  # lower-case x
        (" 110105 19491231\t002X\u3000", "11010519491231002X"),  # outer/inner/ideographic spaces
        ("１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X"),  # full-width
        ("１１０１０５１９４９１２３１００２ｘ", "11010519491231002X"),  # full-width lower x
        ("110105491231002", "11010519491231002X"),  # legacy 15-digit
        ("１１０１０５ ４９１２３１００２", "11010519491231002X"),  # full-width legacy with a space
        (110105491231002, "11010519491231002X"),  # legacy read as a number
        (110105194912310021, "110105194912310021"),  # 18 digits read as a number
        ("", None),
        (" \u3000 ", None),
        (None, None),
        (float("nan"), None),
        (pd.NA, None),
    ],
)
def test_normalize_id_dirt(raw: object, expected: str | None) -> None:
    assert normalize_id(raw) == expected
    frame = normalize_ids(pd.Series([raw], dtype=object))
    assert none_if_na(frame["id_norm"].iloc[0]) == expected


@pytest.mark.parametrize(
    ("norm", "problem"),
    [
        ("11010519491231002X", None),
        ("440524188001010014", "birth_date"),  # GB example, but born 1880 < 1900
        ("110105189912310017", "birth_date"),  # 1899-12-31
        ("11010519000101" + "001" + iso7064_check("11010519000101001"), None),  # 1900-01-01 ok
        ("11010520000229" + "001" + iso7064_check("11010520000229001"), None),  # leap day 2000
        ("11010519000229" + "001" + iso7064_check("11010519000229001"), "birth_date"),  # 1900
        ("11010520230229" + "001" + iso7064_check("11010520230229001"), "birth_date"),
        ("11010519491331002X", "birth_date"),  # month 13
        ("11010519491200002X", "birth_date"),  # day 0
        ("110105194912310021", "check_char"),
        ("11010519491231002", "length"),
        ("11010519491231002XX", "length"),
        ("1101051949123100X2", "format"),
        ("11010519491231002Y", "format"),
        ("11010519491231002x", "format"),  # not normalised: lower x is a format problem
        ("", "empty"),
        (None, "empty"),
    ],
)
def test_id_problem_boundaries(norm: str | None, problem: str | None) -> None:
    assert id_problem(norm) == problem
    if normalize_id(norm) == (norm or None):  # already normalised: the column path agrees
        got = normalize_ids(pd.Series([norm], dtype=object))["id_problem"].iloc[0]
        assert none_if_na(got) == problem


def test_normalize_ids_frame_shape_and_dtypes() -> None:
    s = pd.Series(["11010519491231002x", "110105491231002", "bad", None], index=[10, 11, 12, 13])
    frame = normalize_ids(s)
    assert list(frame.columns) == ["id_norm", "id_birth", "id_problem"]
    assert all(isinstance(t, pd.StringDtype) and t.na_value is pd.NA for t in frame.dtypes)
    assert list(frame.index) == [10, 11, 12, 13]
    assert frame["id_birth"].tolist() == ["1949-12-31", "1949-12-31", pd.NA, pd.NA]
    assert frame["id_problem"].tolist() == [pd.NA, pd.NA, "length", "empty"]


def test_check_char_known_and_rejects_bad_input() -> None:
    assert check_char("11010519491231002") == "X"
    assert check_char("44052418800101001") == "4"
    with pytest.raises(ValueError):
        check_char("1101051949123100")


@FAST
@given(st.from_regex(r"[0-9]{17}", fullmatch=True))
def test_check_char_matches_iso7064(first17: str) -> None:
    assert check_char(first17) == iso7064_check(first17)


@FAST
@given(valid_ids(), st.data())
def test_dirty_renderings_normalise_back(id18: str, data: st.DataObject) -> None:
    text = id18.lower() if data.draw(st.booleans()) else id18
    if data.draw(st.booleans()) and id18[6:8] == "19":
        text = id18[:6] + id18[8:17]  # legacy 15-digit form
    chars = [full_width(c) if data.draw(st.booleans()) else c for c in text]
    spaces = st.sampled_from([" ", "\u3000", "\t", "\xa0", ""])
    dirty = "".join(data.draw(spaces) + c for c in chars) + data.draw(spaces)
    assert normalize_id(dirty) == id18
    assert id_problem(normalize_id(dirty)) is None
    frame = normalize_ids(pd.Series([dirty, id18]))
    assert frame["id_norm"].tolist() == [id18, id18]
    assert frame["id_problem"].isna().all()
    assert frame["id_birth"].iloc[0] == f"{id18[6:10]}-{id18[10:12]}-{id18[12:14]}"


@FAST
@given(valid_ids(), st.integers(0, 16), st.integers(1, 9))
def test_any_single_digit_change_invalidates(id18: str, pos: int, delta: int) -> None:
    changed = id18[:pos] + str((int(id18[pos]) + delta) % 10) + id18[pos + 1 :]
    problem = id_problem(changed)
    assert problem in {"check_char", "birth_date"}
    if pos not in range(6, 14):
        assert problem == "check_char"
    assert normalize_ids(pd.Series([changed]))["id_problem"].iloc[0] == problem


ID_ALPHABET = st.sampled_from(list("0123456789xX０１２９ｘＸ \u3000\t\xa0-张Aa."))


@FAST
@given(st.text(ID_ALPHABET, max_size=22) | valid_ids())
def test_normalisation_is_idempotent(raw: str) -> None:
    once = normalize_id(raw)
    assert normalize_id(once) == once


@FAST
@given(st.lists(st.text(ID_ALPHABET, max_size=20) | valid_ids() | st.none(), max_size=8))
def test_vectorised_matches_scalar(values: list[str | None]) -> None:
    frame = normalize_ids(pd.Series(values, dtype=object))
    for value, (norm, birth, problem) in zip(values, frame.itertuples(index=False), strict=True):
        expected = normalize_id(value)
        assert none_if_na(norm) == expected
        assert none_if_na(problem) == id_problem(expected)
        assert (birth is pd.NA) == (id_problem(expected) is not None)


def test_vectorised_handles_large_mixed_column() -> None:
    ids = ["11010519491231002X", "110105491231002", "110105194912310021", None] * 2500
    frame = normalize_ids(pd.Series(ids, dtype="str"))
    counts = frame["id_problem"].value_counts(dropna=False).to_dict()
    assert counts == {pd.NA: 5000, "check_char": 2500, "empty": 2500}
    assert np.array_equal(frame["id_norm"].iloc[:2].to_numpy(), ["11010519491231002X"] * 2)
