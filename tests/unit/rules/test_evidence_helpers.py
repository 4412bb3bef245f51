"""The pure-Python evidence helpers and the engine's one-time conversion to plain rows."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from safetynet.rules.cases import plain_rows
from safetynet.rules.catalog import R01, R08, R09
from safetynet.rules.registry import (
    Row,
    age_on,
    problem_code,
    records,
    total,
    units,
    utility_evidence,
    values,
)


def _dump(evidence: dict) -> str:
    return json.dumps(evidence, ensure_ascii=False, sort_keys=True, default=str)


def _reading(account: str, month: str, usage: float | None, *, source: str = "electricity",
             by_id: int = 0, by_address: int = 0) -> Row:
    return {"source": source, "account_no": account, "month": month, "usage": usage,
            "by_id": by_id, "by_address": by_address}


def test_values_are_distinct_sorted_and_skip_nulls() -> None:
    rows = [{"v": "b"}, {"v": None}, {"v": "a"}, {"v": "b"}]
    assert values(rows, "v") == ["a", "b"]
    assert values([{"v": None}], "v") == []


def test_records_deduplicate_and_sort_by_text_with_none_as_text() -> None:
    rows: list[Row] = [
        {"post": "主任", "to": None, "extra": 1},
        {"post": "会计", "to": "2025-01-01", "extra": 2},
        {"post": "主任", "to": None, "extra": 3},  # same record, other unused column
        {"post": "主任", "to": "2024-06-30", "extra": 4},
    ]
    assert records(rows, ["post", "to"]) == [
        {"post": "主任", "to": "2024-06-30"},
        {"post": "主任", "to": None},  # str(None) == 'None' sorts after digits
        {"post": "会计", "to": "2025-01-01"},
    ]


def test_units_keep_the_first_row_of_each_unit() -> None:
    rows: list[Row] = [
        {"unit_no": "U2", "use": "住宅", "area": 80.5, "location": "人民路1号"},
        {"unit_no": "U1", "use": "住宅", "area": 60.0, "location": "新城路2号"},
        {"unit_no": "U2", "use": "住宅", "area": 80.5, "location": "江西省上饶市人民路1号"},
    ]
    assert units(rows) == [
        {"unit_no": "U1", "use": "住宅", "area": 60.0, "location": "新城路2号"},
        {"unit_no": "U2", "use": "住宅", "area": 80.5, "location": "人民路1号"},
    ]


def test_utility_evidence_aggregates_accounts_and_months() -> None:
    rows = [
        _reading("A2", "2026-09", 300.0, by_address=1),
        _reading("A1", "2026-10", 250.5, by_id=1),
        _reading("A1", "2026-09", 200.0, by_id=1),
        _reading("A2", "2026-10", 0.1, by_address=1),
        _reading("A1", "2026-08", 100.0, by_address=1),  # A1 found by address too, in another month
        _reading("W9", "2026-10", 3.3, source="water", by_address=1),
        _reading("W9", "2026-09", 4.4, source="water", by_address=1),
    ]
    ev = utility_evidence(rows)
    assert ev["accounts"] == [
        {"source": "electricity", "account_no": "A1", "linked_by": ["id_number", "address"]},
        {"source": "electricity", "account_no": "A2", "linked_by": ["address"]},
        {"source": "water", "account_no": "W9", "linked_by": ["address"]},
    ]
    assert ev["monthly"] == {"electricity": {"2026-08": 100.0, "2026-09": 500.0, "2026-10": 250.6},
                             "water": {"2026-09": 4.4, "2026-10": 3.3}}
    assert list(ev["monthly"]["electricity"]) == ["2026-08", "2026-09", "2026-10"]
    assert ev["mean"] == {"electricity": 283.53, "water": 3.85}
    assert all(type(v) is float for m in ev["monthly"].values() for v in m.values())


def test_utility_evidence_skips_unplaceable_rows() -> None:
    rows = [_reading("A1", "2026-10", 5.0, by_id=1), _reading("A1", "2026-11", None),
            {**_reading("A1", "2026-10", 7.0), "month": None},
            {**_reading("A3", "2026-10", 9.0), "account_no": None}]
    ev = utility_evidence(rows)
    assert ev["accounts"] == [{"source": "electricity", "account_no": "A1", "linked_by": ["id_number"]}]
    assert ev["monthly"] == {"electricity": {"2026-10": 14.0, "2026-11": 0.0}}  # null usage sums to 0


def test_total_is_exact_and_ignores_nulls() -> None:
    rows = [{"x": 0.1} for _ in range(10)] + [{"x": None}]
    assert total(rows, "x") == 1.0  # a running sum would give 0.9999999999999999
    assert total([], "x") == 0.0


def test_problem_code_and_age() -> None:
    assert problem_code({"id_problem": "check_char"}) == "check_char"
    assert problem_code({"id_problem": None}) == "future_birth"
    assert age_on("1946-11-21", "2026-11-20") == 79
    assert age_on("1946-11-20", "2026-11-20") == 80
    assert age_on("2000-02-29", "2026-02-28") == 25


def test_plain_rows_converts_column_by_column() -> None:
    frame = pd.DataFrame({
        "text": pd.Series(["a", None], dtype="str"),
        "num": [1.5, np.nan],
        "count": np.array([3, 4], dtype="int64"),
        "day": pd.Series([date(2026, 1, 2), None], dtype=object),
        "stamp": pd.to_datetime(["2026-03-04 05:06:07", None]),
    })
    rows = plain_rows(frame)
    assert rows == [
        {"text": "a", "num": 1.5, "count": 3, "day": "2026-01-02", "stamp": "2026-03-04"},
        {"text": None, "num": None, "count": 4, "day": None, "stamp": None},
    ]
    assert [type(v) for v in rows[0].values()] == [str, float, int, str, str]


def _person(**cols: Any) -> Row:
    base = {"case_key": "R01:X", "id_number": "X", "name": "某", "region_code": "361103100201"}
    return {**base, **cols}


def test_r01_counts_each_household_once_and_takes_the_earliest_cremation() -> None:
    rows = [
        _person(household_id="H1", via="member", death_date="2026-03-01", funeral_home="乙",
                payments_after=2, paid_after=1000.1),
        _person(household_id="H1", via="member", death_date="2026-02-01", funeral_home="甲",
                payments_after=2, paid_after=1000.1),
        _person(household_id="H2", via="member", death_date="2026-02-01", funeral_home="甲",
                payments_after=1, paid_after=500.2),
        _person(household_id=None, via="allowance", death_date="2026-02-01", funeral_home="甲",
                payments_after=0, paid_after=0.0),
    ]
    ev = R01.evidence(rows)
    assert ev == {"death_date": "2026-02-01", "funeral_home": "甲",
                  "payments_after_death": {"count": 3, "sum": 1500.3},
                  "covered_by": ["allowance", "member"], "households": ["H1", "H2"],
                  "linked_by": "id_number"}


def test_r08_households_sorted_and_r09_keeps_the_delivered_value() -> None:
    rows = [{"household_id": "H2", "program": "DIBAO"}, {"household_id": "H1", "program": "TEKUN"},
            {"household_id": "H2", "program": "DIBAO"}]
    assert R08.evidence(rows)["households"] == [{"household_id": "H1", "program": "TEKUN"},
                                                {"household_id": "H2", "program": "DIBAO"}]
    ev = R09.evidence([{"id_number": None, "record_kind": "member", "id_problem": "empty"}])
    assert ev["record"] == "member" and ev["problem"] == "empty"
    assert '"value_as_delivered": null' in _dump(ev)  # valid JSON for every consumer, never NaN


def test_a_unit_spelt_two_ways_shows_the_same_record_whatever_the_row_order() -> None:
    a = {"unit_no": "U1", "use": "住宅", "area": 80.0, "location": "永丰街道1号"}
    b = {"unit_no": "U1", "use": "住宅", "area": 80.0, "location": "永丰街道一号"}
    assert units([a, b]) == units([b, a]) == [a]
