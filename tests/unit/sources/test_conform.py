"""Conforming a delivered table: normalisation, duplicates, quarantine, accounting."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import pytest

from safetynet.config import Config, load_config
from safetynet.sources.conform import conform
from safetynet.sources.declarations import FILE_SPECS
from safetynet.sources.drops import DeliveryError
from safetynet.sources.itemstage import check_unparsed_share
from safetynet.sources.rowhash import Seen
from safetynet.transforms import check_char

ELECTRICITY = FILE_SPECS["electricity"]
PROPERTY = FILE_SPECS["property"]

PREFIXES = ["江西省", "上饶市", "广丰区"]
VALID = "361103196001010017"[:17]
VALID += check_char(VALID)


def _power(rows: Sequence[tuple[str, ...]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(ELECTRICITY.columns))


def test_every_row_is_loaded_quarantined_or_a_duplicate() -> None:
    raw = _power([
        ("E1", "张 三", f" {VALID.lower()} ", "江西省上饶市广丰区永丰街道三组十二号", "202610", "1,234.5"),
        ("E2", "李四", "", "a", "202610", " 12 "),
        ("E2", "李四", "", "a", "202610", " 12 "),  # whole-row duplicate
        ("E2", "李四", "", "a", "202610", "12"),  # the same once normalised
        ("E3", "王五", "", "b", "202610", "abc"),  # unparseable number
        ("", "赵六", "", "c", "202610", "1"),  # missing key
        ("E4", "钱七", "", "d", "202610", "5"),
        ("E4", "钱七", "", "d", "202610", "6"),  # same key, different reading
    ])
    c = conform(raw, ELECTRICITY, PREFIXES)
    assert (c.read, c.loaded, len(c.quarantine), c.duplicates) == (8, 2, 4, 2)
    assert c.read == c.loaded + len(c.quarantine) + c.duplicates
    reasons = dict(zip(c.quarantine["row_number"], c.quarantine["reason"], strict=True))
    assert reasons == {6: "unparseable number", 7: "missing key",
                       8: "conflicting rows for the same key", 9: "conflicting rows for the same key"}


def test_values_are_normalised_and_the_delivered_id_kept_trimmed() -> None:
    raw = _power([("E1", "张 三", f" {VALID.lower()} ", "江西省上饶市广丰区永丰街道三组十二号",
                   "2026-10", "1,234.5")])
    row = conform(raw, ELECTRICITY, PREFIXES).rows.iloc[0]
    assert row["holder_name"] == "张三"
    assert row["holder_id_raw"] == VALID.lower()
    assert row["holder_id_norm"] == VALID and pd.isna(row["holder_id_problem"])
    assert row["address_norm"] == "永丰街道3组12号"
    assert (row["month"], row["usage"]) == ("2026-10", 1234.5)


def test_quarantined_rows_keep_the_raw_row_and_the_failing_column() -> None:
    raw = pd.DataFrame([["U1", "张三", "身份证", VALID, "单独所有", "x", "住宅", "80", "2020年13月1日", ""]],
                       columns=list(PROPERTY.columns))
    q = conform(raw, PROPERTY, PREFIXES).quarantine.iloc[0]
    assert (q["row_number"], q["column_name"], q["reason"]) == (2, "登记时间", "unparseable date")
    assert "2020年13月1日" in q["raw"]


def _config(tmp_path: Path, extra: str = "") -> Config:
    path = tmp_path / "config.yaml"
    path.write_text(
        "region: {province: 江西省, city: 上饶市, county: 广丰区}\nregions_file: regions.csv\n"
        "warehouse: sqlite:///w.db\nsources:\n  civil_affairs: {url: 'sqlite:///c.db'}\n"
        "  personnel: {url: 'sqlite:///p.db'}\n  property: {location: p}\n  electricity: {location: e}\n"
        "  water: {location: w}\noutbox: {location: o}\ninbox: {location: i}\n" + extra, "utf-8")
    return load_config(path)


def test_a_retyped_column_is_refused_not_quarantined_away(tmp_path: Path) -> None:
    """Every usage now text: conform would quarantine every row and load an empty month."""
    raw = _power([(f"E{i}", "李四", "", "a", "202610", f"约{i}度") for i in range(40)])
    c = conform(raw, ELECTRICITY, PREFIXES)
    assert c.loaded == 0 and len(c.quarantine) == 40
    with pytest.raises(DeliveryError, match=r"DL_202610\.csv: column '本月电量' failed in 40 of 40 rows "
                                            r"\(unparseable number\)"):
        check_unparsed_share(_config(tmp_path), c, "DL_202610.csv")


def test_dirt_below_the_ceiling_and_small_items_are_quarantined_as_usual(tmp_path: Path) -> None:
    """Row-level dirt stays row-level: 2 of 40 bad rows, or a 10-row delta with every row bad."""
    some = _power([(f"E{i}", "李四", "", "a", "202610", "x" if i < 2 else str(i)) for i in range(40)])
    check_unparsed_share(_config(tmp_path), conform(some, ELECTRICITY, PREFIXES), "DL_202610.csv")
    few = _power([(f"E{i}", "李四", "", "a", "202610", "x") for i in range(10)])
    check_unparsed_share(_config(tmp_path), conform(few, ELECTRICITY, PREFIXES), "DL_202610.csv")
    strict = _config(tmp_path, "validation: {row_failure_ceiling: 0.01}\n")
    with pytest.raises(DeliveryError, match="2 of 40 rows"):
        check_unparsed_share(strict, conform(some, ELECTRICITY, PREFIXES), "DL_202610.csv")


def _property(n: int) -> pd.DataFrame:
    """Rows i and i+6 are equal as delivered; rows i and i+3 once normalised (area " 10 " vs "10")."""
    rows = [(f"U{i % 3:027d}", "张三", "身份证", VALID, "单独所有", f"江西省上饶市广丰区{i % 3}号",
             "住宅", f" {10 + i % 3} " if i % 6 >= 3 else str(10 + i % 3), "2020-01-01", "")
            for i in range(n)]
    return pd.DataFrame(rows, columns=list(PROPERTY.columns))


@pytest.mark.parametrize("block", [1, 3, 10, 100])
def test_an_item_conformed_in_blocks_equals_it_conformed_whole(block: int) -> None:
    """Duplicates of rows in earlier blocks count as duplicates, as delivered and once normalised."""
    raw = _property(60)
    whole = conform(raw, PROPERTY, PREFIXES)
    seen, parts = Seen(), []
    for start in range(0, len(raw), block):
        part = raw.iloc[start:start + block]
        parts.append(conform(part, PROPERTY, PREFIXES, first_row=2 + start, seen=seen))
    assert whole.duplicates > 0 and whole.loaded > 0
    assert sum(p.duplicates for p in parts) == whole.duplicates
    pd.testing.assert_frame_equal(pd.concat([p.rows for p in parts], ignore_index=True), whole.rows)
    pd.testing.assert_frame_equal(pd.concat([p.quarantine for p in parts], ignore_index=True),
                                  whole.quarantine)


def test_rows_sharing_a_key_across_blocks_are_quarantined_together(tmp_path: Path) -> None:
    """A text file read in blocks quarantines every row of a key given more than once, as read whole.

    E1 comes once in the first block and twice in the second, where conform
    already quarantines those two; the first block's E1 must follow them.
    """
    from safetynet.progress import stage
    from safetynet.sources.itemstage import conform_stream

    rows = [(f"E{i}", "张三", "", "a", "202610", str(i)) for i in range(8)]
    rows[4] = ("E1", "张三", "", "a", "202610", "99")  # E1 again, in another block, other reading
    rows[7] = ("E1", "张三", "", "a", "202610", "98")  # and a third time
    rows[6] = ("E2", "张三", "", "a", "202609", "97")  # E2 for another month: no clash
    raw = _power(rows)
    path = tmp_path / "DL.rows.parquet"
    with stage("test") as st:
        c, written = conform_stream(_config(tmp_path), [raw.iloc[:3], raw.iloc[3:]],
                                    ELECTRICITY, path, st)
    assert sorted(c.quarantine["row_number"]) == [3, 6, 9]  # file rows of the three E1 readings
    assert set(c.quarantine["reason"]) == {"conflicting rows for the same key"}
    assert all('"E1"' in raw for raw in c.quarantine["raw"])
    staged = pd.read_parquet(path)
    assert written == len(staged) == 5 and "E1" not in set(staged["account_no"])
    assert (staged["account_no"] == "E2").sum() == 2
    assert c.read == written + len(c.quarantine) + c.duplicates


@pytest.mark.parametrize("value", ["a\x00b", "\x07", "名\x1f字", "x\x7f", "\x0b"])
def test_a_control_character_anywhere_quarantines_its_row_and_no_other(value: str) -> None:
    rows = [("A1", "张三", VALID, "江西省上饶市广丰区永丰街道1号", "202608", "10"),
            ("A2", "李四", VALID, f"江西省广丰区{value}", "202608", "11"),
            ("A3", "王五\t", VALID, "江西省 广丰区\r\n3号", "202608", "12")]  # tab, CR, LF are allowed
    c = conform(_power(rows), ELECTRICITY, PREFIXES)
    assert c.quarantine["row_number"].tolist() == [3]
    assert c.quarantine["reason"].str.startswith("control character").all()
    assert c.rows["account_no"].tolist() == ["A1", "A3"]


def test_minus_zero_is_not_taken_for_zero_but_equal_numbers_are_duplicates() -> None:
    rows = [("A1", "张三", VALID, "永丰街道1号", "202608", "0"),
            ("A1", "张三", VALID, "永丰街道1号", "202608", "-0"),
            ("A1", "张三", VALID, "永丰街道1号", "202608", "0.0")]  # equal to the first once parsed
    c = conform(_power(rows), ELECTRICITY, PREFIXES)
    assert c.duplicates == 1  # "0.0" repeats "0" once parsed; "-0" is another value
    # ... so "-0" and "0" are two rows for one account and month: both quarantined, none dropped
    assert sorted(c.quarantine["row_number"]) == [2, 3]
    assert set(c.quarantine["reason"]) == {"conflicting rows for the same key"}
    assert c.loaded == 0 and c.read == 3
