"""GB18030 decoded by the 2022 mapping: the 24 two-byte codes the 2022 edition moved (issue 16)."""

from __future__ import annotations

from pathlib import Path

import pytest

from safetynet.sources.declarations import FILE_SPECS
from safetynet.sources.readers import read_text_file
from safetynet.transforms.gb18030 import MOVED_2022, decode_gb18030

ELECTRICITY = FILE_SPECS["electricity"]


@pytest.mark.parametrize("code", sorted(MOVED_2022))
def test_each_moved_code_decodes_to_its_2022_character_in_either_edition(code: str) -> None:
    pua, real = MOVED_2022[code]
    assert bytes.fromhex(code).decode("gb18030") == chr(pua)  # the codec alone: private use
    assert decode_gb18030(bytes.fromhex(code)) == chr(real)  # as a 2022 exporter meant it
    assert decode_gb18030(chr(real).encode("gb18030")) == chr(real)  # a 2005 exporter's 4 bytes


def test_a_holder_name_of_moved_codes_reads_as_the_2022_characters(tmp_path: Path) -> None:
    name = b"".join(bytes.fromhex(c) for c in sorted(MOVED_2022))
    header = "户号,户名,证件号码,用电地址,抄表年月,本月电量\n".encode("gb18030")
    path = tmp_path / "DL_202610.csv"
    path.write_bytes(header + b"E1," + name + b",," + "永丰街道1号,202610,12\n".encode("gb18030"))
    frame = read_text_file(path, ELECTRICITY)
    assert frame["户名"].iat[0] == "".join(chr(MOVED_2022[c][1]) for c in sorted(MOVED_2022))
    assert not any(0xE000 <= ord(ch) <= 0xF8FF for ch in frame["户名"].iat[0])


def test_only_the_24_code_points_change_in_a_long_text() -> None:
    """Neighbouring private-use code points, rare characters and ASCII pass unchanged; every
    moved code in the middle of a long text is replaced, wherever it falls."""
    untouched = "\ue815\ue865\ue78c𠮷龘 a,1\n" * 1000
    moved = "".join(bytes.fromhex(c).decode("gb18030") for c in sorted(MOVED_2022))
    text = untouched + moved + untouched
    expected = untouched + "".join(chr(MOVED_2022[c][1]) for c in sorted(MOVED_2022)) + untouched
    assert decode_gb18030(text.encode("gb18030")) == expected
