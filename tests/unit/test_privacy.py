"""Masking ID numbers outside the inspectors' extract."""

from __future__ import annotations

import logging

import pytest

from safetynet.privacy import RedactingFilter, mask_id, mask_text

ID18 = "36110319600101001X"
ID15 = "361103600101001"


def test_mask_id_keeps_first_six_and_last_four() -> None:
    assert mask_id(ID18) == "361103********001X"
    assert mask_id(ID15) == "361103*****1001"
    assert mask_id(None) is None
    assert mask_id("3611031960") == "**********"


@pytest.mark.parametrize("text", [f"id={ID18}.", f"({ID15})", f"x {ID18.lower()} y",
                                  "３６１１０３１９６００１０１００１７"])
def test_mask_text_leaves_no_full_id(text: str) -> None:
    masked = mask_text(text)
    assert "*" in masked
    assert ID18 not in masked and ID15 not in masked and ID18.lower() not in masked


def test_longer_digit_runs_and_short_numbers_are_left_alone() -> None:
    assert mask_text("account 20261120 amount 1234") == "account 20261120 amount 1234"
    assert mask_text("1" * 20) == "1" * 20


def test_logging_filter_masks_formatted_messages(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("safetynet.test_privacy")
    caplog.handler.addFilter(RedactingFilter())
    with caplog.at_level(logging.INFO, logger=logger.name):
        logger.info("person %s failed", ID18)
    assert ID18 not in caplog.text and "361103********001X" in caplog.text


@pytest.mark.parametrize(("text", "masked"), [
    ("id 3611 0319 6001 0100 17 x", "id 3611 03** **** **00 17 x"),
    ("a 361103 19600101 001X b", "a 361103 ******** 001X b"),
    ("全角 ３６１１０３１９６００１０１００１７", "全角 ３６１１０３********００１７"),
    ("3611\u30000319600101001 7", "3611\u300003********001 7"),
    ("legacy 361103 600101 001", "legacy 361103 *****1 001"),
])
def test_ids_typed_with_inner_spaces_or_full_width_digits_are_masked(text: str, masked: str) -> None:
    """Issue 16: an ID with inner spaces escaped mask_text and reached the manifest and logs."""
    assert mask_text(text) == masked


def test_spaced_numbers_that_are_not_id_shaped_stay() -> None:
    assert mask_text("tel 138 0013 8000, 2026 年 11 月") == "tel 138 0013 8000, 2026 年 11 月"
