"""Reading delivered files: a bad file fails clearly, naming the file and the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from safetynet.sources.declarations import FILE_SPECS
from safetynet.sources.drops import DeliveryError, complete_deliveries
from safetynet.sources.readers import read_text_file
from safetynet.sources.xlsx_reader import read_xlsx

ELECTRICITY = FILE_SPECS["electricity"]
PROPERTY = FILE_SPECS["property"]
WATER = FILE_SPECS["water"]

POWER_HEADER = "户号,户名,证件号码,用电地址,抄表年月,本月电量\n"
ROW = "E1,张三,,永丰街道1号,202610,12\n"


def _write(path: Path, text: str, encoding: str = "gb18030") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_gb18030_csv_reads_with_rare_characters(tmp_path: Path) -> None:
    f = _write(tmp_path / "DL_202610.csv", POWER_HEADER + "E1,𠮷野,,永丰街道1号,202610,12\n")
    frame = read_text_file(f, ELECTRICITY)
    assert frame.loc[0, "户名"] == "𠮷野"


@pytest.mark.parametrize(("content", "encoding", "problem"), [
    (POWER_HEADER + ROW, "utf-8", "UTF-8 but the contract says GB18030"),
    ("", "gb18030", "empty"),
    (POWER_HEADER + ROW[:-6], "gb18030", "truncated"),
    (POWER_HEADER.replace("本月电量", "用电量") + ROW, "gb18030", "missing columns ['本月电量']"),
])
def test_bad_power_files_fail_naming_file_and_problem(
        tmp_path: Path, content: str, encoding: str, problem: str) -> None:
    f = _write(tmp_path / "DL_202610.csv", content, encoding)
    with pytest.raises(DeliveryError, match=r"DL_202610\.csv") as err:
        read_text_file(f, ELECTRICITY)
    assert problem in str(err.value)


def test_water_in_gb18030_is_refused(tmp_path: Path) -> None:
    f = _write(tmp_path / "SS_202610.txt",
               "ACCOUNT_NO|HOLDER_NAME|HOLDER_ID|ADDRESS|PERIOD|USAGE_M3\nW1|张三||永丰街道|2026-10|3\n")
    with pytest.raises(DeliveryError, match="not valid UTF-8"):
        read_text_file(f, WATER)


def test_truncated_xlsx_fails_clearly(tmp_path: Path) -> None:
    f = tmp_path / "BDC_QLR_20261113.xlsx"
    f.write_bytes(b"PK\x03\x04" + b"\x00" * 50)
    with pytest.raises(DeliveryError, match="not a readable XLSX"):
        read_xlsx(f, PROPERTY)


def test_only_files_with_their_marker_are_deliveries(tmp_path: Path) -> None:
    for month in ("202609", "202610", "202611"):
        _write(tmp_path / f"DL_{month}.csv", POWER_HEADER + ROW)
    for month in ("202609", "202610"):
        (tmp_path / f"DL_{month}.csv.ok").touch()
    found = complete_deliveries(tmp_path, ELECTRICITY.extra["pattern"])
    assert [d.tag for d in found] == ["202609", "202610"]


def test_registry_snapshot_continues_on_numbered_sheets(tmp_path: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    first = wb.active
    first.title = "权利人信息"
    second = wb.create_sheet("权利人信息2")
    wb.create_sheet("说明").append(["not part of the data"])
    for ws, unit in ((first, "U1"), (second, "U2")):
        ws.append(list(PROPERTY.columns))
        ws.append([unit, "张三", "身份证", "", "单独所有", "永丰街道1号", "住宅", 80, "2020-01-01", None])
    path = tmp_path / "BDC_QLR_20261120.xlsx"
    wb.save(path)
    assert list(read_xlsx(path, PROPERTY)["不动产单元号"]) == ["U1", "U2"]


# --------------------------------------------------------------------------- encodings (issue #9)

WATER_HEADER = "ACCOUNT_NO|HOLDER_NAME|HOLDER_ID|ADDRESS|PERIOD|USAGE_M3\n"
BIG5 = str.maketrans("户电张证码丰号", "戶電張證碼豐號")  # the same text as a Big5 exporter writes it


def test_every_rare_character_round_trips_through_gb18030(tmp_path: Path) -> None:
    """Extension A and B characters outside GBK (two- and four-byte GB18030 codes) read exactly."""
    names = ["𠮷", "𡈼野", "王䶮", "㐂"]
    rows = "".join(f"E{i},{n},,永丰街道{i}号,202610,1\n" for i, n in enumerate(names))
    frame = read_text_file(_write(tmp_path / "DL_202610.csv", POWER_HEADER + rows), ELECTRICITY)
    assert list(frame["户名"]) == names


@pytest.mark.parametrize(("spec", "name", "data", "problem"), [
    (ELECTRICITY, "DL_202610.csv", (POWER_HEADER + ROW).encode("utf-16"), "not valid GB18030 at byte 0"),
    (ELECTRICITY, "DL_202610.csv", (POWER_HEADER + ROW).encode("utf-8-sig"),
     "the file is UTF-8 but the contract says GB18030"),
    # mostly UTF-8, one row pasted from a GB18030 export: neither encoding reads it all
    (ELECTRICITY, "DL_202610.csv", (POWER_HEADER + ROW).encode("utf-8") + ROW.encode("gb18030"),
     "not valid GB18030 at byte"),
    # Big5 bytes that are valid GB18030: decoding "works" and gives mojibake; the header says so
    (ELECTRICITY, "DL_202610.csv", (POWER_HEADER + ROW).translate(BIG5).encode("big5"),
     "is the file in another encoding than GB18030?"),
    (WATER, "SS_202610.txt", (WATER_HEADER + "W1|𠮷野||永丰街道|2026-10|3\n").encode("gb18030"),
     "not valid UTF-8 at byte"),
    (WATER, "SS_202610.txt", (WATER_HEADER + "W1|张三||永丰街道|2026-10|3\n").encode("utf-16"),
     "not valid UTF-8 at byte 0"),
])
def test_wrong_encoding_is_refused_with_nothing_read(tmp_path: Path, spec: object, name: str,
                                                      data: bytes, problem: str) -> None:
    """No mojibake rows: a file in another encoding fails as a whole, naming file and encoding."""
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(DeliveryError) as err:
        read_text_file(path, spec)  # type: ignore[arg-type]
    message = str(err.value)
    assert message.startswith(name) and problem in message, message
    assert "re-export it in" in message


def test_big5_hint_is_not_given_when_some_columns_match(tmp_path: Path) -> None:
    """A renamed column is a header problem, not an encoding one: no misleading hint."""
    f = _write(tmp_path / "DL_202610.csv", POWER_HEADER.replace("本月电量", "用电量") + ROW)
    with pytest.raises(DeliveryError) as err:
        read_text_file(f, ELECTRICITY)
    assert "another encoding" not in str(err.value)


def test_water_file_with_a_utf8_bom_reads(tmp_path: Path) -> None:
    """A BOM is still UTF-8 (Windows tools write one): the header and the rows read as delivered."""
    f = tmp_path / "SS_202610.txt"
    f.write_bytes((WATER_HEADER + "W1|𠮷野||永丰街道|2026-10|3\n").encode("utf-8-sig"))
    frame = read_text_file(f, WATER)
    assert list(frame.columns) == list(WATER.columns)
    assert frame.loc[0, "HOLDER_NAME"] == "𠮷野"


# --------------------------------------------------------------------------- schema drift (issue #9)


def test_database_table_columns_must_match_exactly() -> None:
    """Added columns are refused like missing ones; order and case do not matter."""
    from safetynet.sources.db_readers import check_table_columns
    from safetynet.sources.declarations import PERSONNEL

    staff = PERSONNEL.tables[0]
    check_table_columns(list(reversed([c.upper() for c in staff.columns])), staff)
    with pytest.raises(DeliveryError, match=r"table hr_staff: .*unexpected columns \['remark'\]"):
        check_table_columns([*staff.columns, "remark"], staff)
    renamed = [c if c != "post" else "position" for c in staff.columns]
    with pytest.raises(DeliveryError,
                       match=r"missing columns \['post'\]; unexpected columns \['position'\]"):
        check_table_columns(renamed, staff)


def test_a_file_without_its_header_line_is_refused_without_quoting_its_first_row(tmp_path: Path) -> None:
    """Issue 16: the first data row (name, address, full ID) stood in the message where the header
    should be, and reached the manifest, status, logs and alerts."""
    row = "E1,王秀英,361103196001010017,永丰街道幸福路12号,202610,12\n"
    f = _write(tmp_path / "DL_202610.csv", row + ROW)
    with pytest.raises(DeliveryError) as err:
        read_text_file(f, ELECTRICITY)
    message = str(err.value)
    assert "DL_202610.csv" in message and "is the header line missing?" in message
    assert "6 unexpected columns" in message
    for value in ("王秀英", "361103196001010017", "幸福路", "E1"):
        assert value not in message


def test_a_quote_left_open_cannot_merge_rows_silently(tmp_path: Path) -> None:
    rows = ["E1,张三,,永丰街道1号,202610,12", 'E2,"李四,,永丰街道2号,202610,13',  # opened here ...
            'E3,王五",,永丰街道3号,202610,14', "E4,赵六,,永丰街道4号,202610,15"]  # ... closed here
    f = _write(tmp_path / "DL_202610.csv", POWER_HEADER + "\n".join(rows) + "\n")
    with pytest.raises(DeliveryError) as err:  # six fields either way: the rows would merge silently
        read_text_file(f, ELECTRICITY)
    message = str(err.value)
    assert message.startswith("DL_202610.csv: 4 data lines but 3 records") and "line 3 spans" in message
    assert "李四" not in message
    never_closed = _write(tmp_path / "DL_202609.csv", POWER_HEADER + "\n".join(rows[:2]) + "\n")
    with pytest.raises(DeliveryError, match=r"^DL_202609\.csv: cannot be parsed: .*row 2"):
        read_text_file(never_closed, ELECTRICITY)


def test_quoted_commas_and_blank_lines_still_read(tmp_path: Path) -> None:
    f = _write(tmp_path / "DL_202610.csv", POWER_HEADER + 'E1,张三,,"永丰街道1号,2栋",202610,"1,234.5"\n'
               "\n" + ROW + "\r\n")
    frame = read_text_file(f, ELECTRICITY)
    assert frame["本月电量"].tolist() == ["1,234.5", "12"] and frame["用电地址"].iat[0] == "永丰街道1号,2栋"


def test_a_ragged_row_names_the_file_and_line(tmp_path: Path) -> None:
    f = _write(tmp_path / "DL_202610.csv", POWER_HEADER + ROW + "E2,李四,,永丰街道2号,202610,13,多余\n")
    with pytest.raises(DeliveryError) as err:
        read_text_file(f, ELECTRICITY)
    assert str(err.value).startswith("DL_202610.csv: ") and "line 3" in str(err.value)
