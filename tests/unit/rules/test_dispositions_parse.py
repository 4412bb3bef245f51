"""Reading one dispositions file (issue 15): encodings, header, csv quoting, row numbers, reasons."""

from __future__ import annotations

from datetime import date

import pytest

from safetynet import dispositions_parse as dp
from safetynet.dispositions_parse import Decision, FileRejected, parse
from safetynet.dispositions_report import reason_zh

HEADER = "case_key,outcome,note,suppress_until\n"
PERSON = "361103196001010017"


def _rows(data: bytes) -> tuple[list[tuple], list[tuple[int, str]]]:
    decisions, rejected = parse(data)
    return ([(d.row, d.case_key, d.outcome, d.note, d.suppress_until) for d in decisions],
            [(r.row, r.reason) for r in rejected])


def test_gb18030_with_chinese_labels_and_every_date_form() -> None:
    text = (HEADER + "R08:A,属实,已移交纪委（张三）,\nR08:B,合理解释,户籍迁移滞后,2026年11月22日\n"
            "R08:C, 核查中 ,,2026/11/22\nR08:D,explained,,20261122\n")
    data = text.encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # the file really is not UTF-8
    assert _rows(data) == ([(2, "R08:A", "CONFIRMED", "已移交纪委（张三）", None),
                            (3, "R08:B", "EXPLAINED", "户籍迁移滞后", date(2026, 11, 22)),
                            (4, "R08:C", "UNDER_REVIEW", None, date(2026, 11, 22)),
                            (5, "R08:D", "EXPLAINED", None, date(2026, 11, 22))], [])


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig"])
def test_utf8_with_or_without_bom_and_crlf_lines(encoding: str) -> None:
    data = (HEADER + "R08:A,Confirmed,说明,2026-11-22\n").replace("\n", "\r\n").encode(encoding)
    assert data.startswith(b"\xef\xbb\xbf") == (encoding == "utf-8-sig")
    assert _rows(data) == ([(2, "R08:A", "CONFIRMED", "说明", date(2026, 11, 22))], [])


def test_unquoted_comma_rejects_that_row_with_its_line_number_only() -> None:
    data = (HEADER + "R08:A,CONFIRMED,甲,\nR08:B,EXPLAINED,李四,王五说明,\nR08:C,EXPLAINED,,\n").encode()
    assert _rows(data) == ([(2, "R08:A", "CONFIRMED", "甲", None), (4, "R08:C", "EXPLAINED", None, None)],
                           [(3, "5 fields, expected 4 (quote a note that contains a comma)")])


def test_quoted_comma_quote_and_line_break_load_exactly_and_rows_keep_physical_numbers() -> None:
    data = (HEADER + 'R08:A,CONFIRMED,"甲,乙\n第二行 ""引号""",\n\n,,,\nR08:B,BOGUS,,\n').encode()
    decisions, rejected = parse(data)
    assert decisions == [Decision(2, "R08:A", "CONFIRMED", '甲,乙\n第二行 "引号"', None)]
    assert [(r.row, r.reason) for r in rejected] == [(6, dp.UNKNOWN_OUTCOME)]  # blank lines skipped
    assert rejected[0].raw == "R08:B,BOGUS,,"


@pytest.mark.parametrize(("line", "reason"), [
    ("R08:A,BOGUS,,", dp.UNKNOWN_OUTCOME),
    ("R08:A,EXPLAINED,,2026-13-45", dp.BAD_DATE),
    ("R08:A,EXPLAINED,,下周", dp.BAD_DATE),
    ("  ,CONFIRMED,,", dp.EMPTY_KEY),
    ("R08:" + "9" * 300 + ",CONFIRMED,,", dp.LONG_KEY),
    ("R08:A,CONFIRMED,a\x00b,", dp.NUL),
    ("R08:A,CONFIRMED", "2 fields, expected 4"),
])
def test_a_bad_row_is_rejected_and_the_others_kept(line: str, reason: str) -> None:
    decisions, rejected = parse((HEADER + "R08:Z,CONFIRMED,,\n" + line + "\nR08:Y,核查中,,\n").encode())
    assert [d.row for d in decisions] == [2, 4]
    assert [(r.row, r.reason) for r in rejected] == [(3, reason)]
    assert "\x00" not in rejected[0].raw


def test_an_open_quote_is_reported_with_the_lines_it_swallowed() -> None:
    _, rejected = parse((HEADER + 'R08:A,CONFIRMED,"open\nR08:B,CONFIRMED,,\n').encode())
    assert [(r.row, r.reason) for r in rejected] == [
        (2, "3 fields, expected 4 (the record runs over lines 2-3: is a quote left open?)")]


@pytest.mark.parametrize(("data", "start"), [
    (b"", "empty file"),
    (b"\xff\xfe" + HEADER.encode("utf-16-le"), dp.NOT_TEXT),
    (HEADER.encode() + b"\x81", dp.NOT_TEXT),  # a lone GB18030 lead byte at the end: neither
    (b"case_key,outcome,notes,suppress_until\nR08:A,CONFIRMED,,\n", "header must be"),
    ("疑点编号,核查结论,核查说明,屏蔽至\n".encode("gb18030"), "header must be"),
    (f"R08:{PERSON},CONFIRMED,张三,\n".encode(), "header must be"),  # no header at all
])
def test_a_file_that_cannot_be_used_is_rejected_without_quoting_it(data: bytes, start: str) -> None:
    with pytest.raises(FileRejected) as caught:
        parse(data)
    reason = caught.value.reason
    assert reason.startswith(start)
    assert PERSON not in reason and "张三" not in reason and "R08" not in reason
    if start == "header must be":
        assert "case_key,outcome,note,suppress_until" in reason


def test_header_reason_names_found_and_missing_columns() -> None:
    with pytest.raises(FileRejected) as caught:
        parse(b" case_key ,outcome,notes,suppress_until\n")
    assert caught.value.reason == ("header must be case_key,outcome,note,suppress_until; "
                                   "found 4 columns: case_key, outcome, ?, suppress_until; missing note")


def test_every_reason_has_chinese_for_the_workbook() -> None:
    reasons = [dp.NOT_TEXT, dp.NO_HEADER, dp.UNKNOWN_OUTCOME, dp.BAD_DATE, dp.EMPTY_KEY, dp.LONG_KEY,
               dp.NUL, dp.UNKNOWN_CASE, "5 fields, expected 4 (quote a note that contains a comma)",
               "header must be case_key,outcome,note,suppress_until; found 1 columns: ?",
               "unreadable header; expected case_key", "unreadable CSV row (x)",
               "cannot be read (PermissionError)", "unreadable (ValueError)"]
    for reason in reasons:
        zh = reason_zh(reason)
        assert zh.endswith(f"（{reason}）") and zh != f"（{reason}）", reason
