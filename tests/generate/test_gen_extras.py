"""The bad deliveries under extras/ exist, have markers and are bad as stated."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import openpyxl
import pytest


def _files(deployment: Path, sub: str) -> list[Path]:
    return sorted(p for p in (deployment / "extras" / "bad" / sub).iterdir()
                  if not p.name.endswith(".ok"))


def test_every_bad_file_has_a_marker_and_no_collision(deployment: Path) -> None:
    good = {p.name for p in (deployment / "drop").rglob("*")}
    for sub in ("property", "power", "water", "vehicles", "medical"):
        files = _files(deployment, sub)
        assert len(files) == 4
        for f in files:
            ok = f.with_name(f.name + ".ok")
            assert ok.is_file() and ok.stat().st_size == 0
            assert f.name not in good
    readme = (deployment / "extras" / "README.md").read_text("utf-8")
    for sub in ("property", "power", "water", "vehicles", "medical"):
        for f in _files(deployment, sub):
            assert f.name in readme


@pytest.mark.parametrize(("sub", "enc", "sep", "header"), [
    ("power", "gb18030", ",", ["户号", "户名", "证件号码", "用电地址", "抄表年月", "本月电量"]),
    ("medical", "utf-8", ",", ["结算流水号", "证件号码", "姓名", "就诊类型", "结算日期", "医疗总费用",
                               "基金支付", "个人自付"]),
    ("water", "utf-8", "|", ["ACCOUNT_NO", "HOLDER_NAME", "HOLDER_ID", "ADDRESS", "PERIOD",
                             "USAGE_M3"]),
])
def test_text_bad_files(deployment: Path, sub: str, enc: str, sep: str, header: list) -> None:
    files = _files(deployment, sub)
    kinds = {"empty": 0, "header": 0, "truncated": 0, "encoding": 0}
    for f in files:
        raw = f.read_bytes()
        if not raw:
            kinds["empty"] += 1
            continue
        try:
            text = raw.decode(enc)
        except UnicodeDecodeError:
            kinds["encoding"] += 1
            continue
        if sub == "power" and _is_utf8_with_cjk(raw):
            kinds["encoding"] += 1
            continue
        rows = list(csv.reader(io.StringIO(text), delimiter=sep))
        if rows[0] != header:
            kinds["header"] += 1
            assert len(set(rows[0]) ^ set(header)) >= 1
        elif not text.endswith("\n") or len(rows[-1]) != len(header):
            kinds["truncated"] += 1
    assert kinds == {"empty": 1, "header": 1, "truncated": 1, "encoding": 1}


def _is_utf8_with_cjk(raw: bytes) -> bool:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return any(ord(c) > 0x2E80 for c in text)


def test_property_bad_files(deployment: Path) -> None:
    files = _files(deployment, "property")
    empty = [f for f in files if f.stat().st_size == 0]
    not_zip = [f for f in files if f.stat().st_size and not zipfile.is_zipfile(f)]
    assert len(empty) == 1
    assert len(not_zip) == 2  # the truncated zip and the CSV under an .xlsx name
    texts = []
    for f in not_zip:
        try:
            texts.append(f.read_bytes().decode("gb18030"))
        except UnicodeDecodeError:
            continue
    assert any(t.startswith("unit,") or "住宅" in t for t in texts)
    readable = [f for f in files if zipfile.is_zipfile(f)]
    assert len(readable) == 1
    ws = openpyxl.load_workbook(readable[0], read_only=True)["权利人信息"]
    header = next(ws.iter_rows(values_only=True))
    assert "证件号码" not in header and "身份证号码" in header


def test_vehicle_bad_files(deployment: Path) -> None:
    header = ["号牌号码", "号牌种类", "车辆类型", "所有人", "身份证明名称", "身份证明号码", "初次登记日期",
              "机动车状态"]
    kinds = {"empty": 0, "header": 0, "truncated": 0, "encoding": 0}
    for f in _files(deployment, "vehicles"):
        assert f.name.startswith("JDC_") and f.name.endswith(".csv")
        raw = f.read_bytes()
        if not raw:
            kinds["empty"] += 1
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            kinds["encoding"] += 1
            assert raw.decode("gb18030").startswith(",".join(header))
            continue
        assert text.startswith("\ufeff")
        rows = list(csv.reader(io.StringIO(text[1:])))
        if rows[0] != header:
            kinds["header"] += 1
            assert "身份证明号码" not in rows[0] and "证件号码" in rows[0]
        elif not text.endswith("\n") or len(rows[-1]) != len(header):
            kinds["truncated"] += 1
    assert kinds == {"empty": 1, "header": 1, "truncated": 1, "encoding": 1}
