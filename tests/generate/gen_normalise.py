"""A tiny, test-only implementation of the contract's normalisation (rules.md).

Written separately from the generator so the tests check the files against the
contract, not against the generator's own idea of it.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

#: The small deployment every test in this folder looks at.
N = 500
SEED = 11
D = date(2026, 11, 20)

W = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHK = "10X98765432"
CN = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
      "九": 9}
NUM_RE = re.compile(r"([零一二两三四五六七八九十百]+)(?=组|号|栋|单元|室|楼|层)")


def norm_id(raw: object, d: date) -> str | None:
    """Normalised valid ID or None."""
    if not isinstance(raw, str):
        return None
    s = re.sub(r"\s+", "", unicodedata.normalize("NFKC", raw)).upper()
    if len(s) == 15 and s.isdigit():
        body = s[:6] + "19" + s[6:]
        s = body + CHK[sum(int(c) * w for c, w in zip(body, W, strict=True)) % 11]
    if len(s) != 18 or not s[:17].isdigit():
        return None
    try:
        b = date(int(s[6:10]), int(s[10:12]), int(s[12:14]))
    except ValueError:
        return None
    if b < date(1900, 1, 1) or b > d:
        return None
    if CHK[sum(int(c) * w for c, w in zip(s[:17], W, strict=True)) % 11] != s[17]:
        return None
    return s


def cn_to_int(s: str) -> int:
    """Chinese numeral 0–999 to int."""
    total, cur = 0, 0
    for ch in s:
        if ch == "百":
            total += (cur or 1) * 100
            cur = 0
        elif ch == "十":
            total += (cur or 1) * 10
            cur = 0
        else:
            cur = CN[ch]
    return total + cur


def norm_addr(raw: str) -> str:
    """Normalised address per rules.md (province 江西省, city 上饶市, county 广丰区)."""
    s = re.sub(r"\s+", "", unicodedata.normalize("NFKC", raw))
    s = s.replace("#", "号").replace("幢", "栋")
    s = NUM_RE.sub(lambda m: str(cn_to_int(m.group(1))), s)
    for p in ("江西省", "上饶市", "广丰区"):
        if s.startswith(p):
            s = s[len(p):]
    return s


DATE_RES = {
    "iso": re.compile(r"^\d{4}-\d{2}-\d{2}$"),
    "slash": re.compile(r"^\d{4}/\d{1,2}/\d{1,2}$"),
    "compact": re.compile(r"^\d{8}$"),
    "chinese": re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日$"),
}


def parse_date(raw: object) -> date | None:
    """Parse any of the four text date styles."""
    if raw is None or raw == "":
        return None
    s = str(raw)
    nums = re.findall(r"\d+", s)
    if len(nums) == 1 and len(nums[0]) == 8:
        n = nums[0]
        return date(int(n[:4]), int(n[4:6]), int(n[6:]))
    y, m, d = (int(x) for x in nums[:3])
    return date(y, m, d)
