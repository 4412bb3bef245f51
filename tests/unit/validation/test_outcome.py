"""Judging results: levels, the failing-row ceiling, small samples, masking."""

from __future__ import annotations

from types import SimpleNamespace

from safetynet.validation.outcome import judge, mask


def _result(type_: str, level: str, success: bool, kwargs: dict, **result: object) -> SimpleNamespace:
    cfg = SimpleNamespace(type=type_, kwargs=kwargs, meta={"level": level})
    return SimpleNamespace(expectation_config=cfg, success=success, result=result, exception_info={})


def test_row_level_failure_names_the_rows_to_quarantine() -> None:
    r = _result("expect_column_values_to_be_between", "row", False, {"column": "usage", "min_value": 0},
                element_count=100, unexpected_count=2,
                partial_unexpected_counts=[{"value": -5.0, "count": 2}],
                unexpected_index_list=[{"_row": 7, "usage": -5.0}, {"_row": 9, "usage": -5.0}])
    f = judge("DL_202611.csv", r, 100, 20, 0.1)
    assert (f.outcome, f.rows, f.reason) == ("quarantined", [7, 9],
                                             "expectation expect_column_values_to_be_between [usage]")
    assert f.observed == "2 of 100 unexpected (2.00%), e.g. -5"


def test_too_many_failing_rows_reject_the_batch() -> None:
    r = _result("expect_column_values_to_be_in_set", "row", False, {"column": "use", "value_set": ["住宅"]},
                element_count=100, unexpected_count=40,
                unexpected_index_list=[{"_row": i} for i in range(40)])
    f = judge("BDC.xlsx", r, 100, 20, 0.1)
    assert f.outcome == "rejected" and not f.rows and "at most 10%" in f.expected


def test_few_failing_rows_in_a_small_delta_are_still_quarantined() -> None:
    r = _result("expect_column_values_to_be_in_set", "row", False, {"column": "kind", "value_set": ["A"]},
                element_count=3, unexpected_count=2, unexpected_index_list=[{"_row": 1}, {"_row": 2}])
    assert judge("sa_allowance", r, 3, 20, 0.1).outcome == "quarantined"


def test_a_share_over_too_few_rows_is_not_judged() -> None:
    kwargs = {"column": "id_problem", "mostly": 0.8}
    small = _result("expect_column_values_to_be_null", "batch", False, kwargs, element_count=3,
                    unexpected_count=2)
    large = _result("expect_column_values_to_be_null", "batch", False, kwargs, element_count=300,
                    unexpected_count=200)
    assert judge("t", small, 3, 20, 0.1).outcome == "not_judged"
    assert judge("t", large, 300, 20, 0.1).outcome == "rejected"


def test_hashed_columns_show_no_samples_and_ids_are_masked() -> None:
    r = _result("expect_compound_columns_to_be_unique", "row", False,
                {"column_list": ["unit_no", "owner_id_hash"]}, element_count=10, unexpected_count=2,
                partial_unexpected_counts=[{"value": ("U", 123), "count": 2}],
                unexpected_index_list=[{"_row": 1}, {"_row": 2}])
    assert judge("p", r, 10, 20, 0.1).observed == "2 of 10 unexpected (20.00%)"
    assert mask("x 36110319560101001X y 361103560101001 z 2026-11-20") == "x [masked] y [masked] z 2026-11-20"


def test_passing_aggregate_keeps_its_observed_value() -> None:
    r = _result("expect_table_row_count_to_be_between", "batch", True, {"min_value": 690, "max_value": 1282},
                observed_value=986)
    f = judge("DL_202610.csv", r, 986, 20, 0.1)
    assert (f.outcome, f.observed, f.expected) == ("passed", "986", "min_value 690; max_value 1282")


def test_an_id_presence_share_of_a_tiny_delta_is_not_judged() -> None:
    r = _result("expect_column_mean_to_be_between", "batch", False,
                {"column": "id_present", "min_value": 0.9}, observed_value=0.0)
    r.expectation_config.meta["check"] = "id_presence"
    assert judge("sa_member", r, 1, 20, 0.1).outcome == "not_judged"
    assert judge("sa_member", r, 500, 20, 0.1).outcome == "rejected"


def test_an_expectation_that_raised_is_a_failure() -> None:
    r = _result("expect_column_values_to_be_between", "row", False, {"column": "usage"})
    r.exception_info = {"raised_exception": True, "exception_message": "column usage missing"}
    f = judge("x", r, 100, 20, 0.1)
    assert (f.success, f.outcome, f.observed) == (False, "rejected", "error: column usage missing")
