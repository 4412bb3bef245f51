"""The county's divisions, its dwellings (addresses) and people's names.

Dwellings are generated as unique canonical addresses (already in the contract's
normalised form, without the province/city/county prefix), so the reference can
compare addresses by plain equality while deliveries carry dirty variants.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from safetynet.generate.ids import KeySet, first_occurrence

COUNTY_CODE = "361103000000"
TOWNSHIPS = [
    ("001", "永丰街道"), ("002", "芦林街道"), ("003", "丰溪街道"), ("004", "下溪街道"),
    ("100", "五都镇"), ("101", "洋口镇"), ("102", "横山镇"), ("103", "桐畈镇"),
    ("104", "湖丰镇"), ("105", "大南镇"), ("106", "排山镇"), ("107", "毛村镇"),
    ("108", "枧底镇"), ("109", "泉波镇"), ("110", "霞峰镇"), ("200", "大石乡"),
]
_V1 = list("东西南北上下大小新黄石杨李高陈周青白枫竹桥塘山岭源田湾龙凤金")
_V2 = list("家坪头田源坑塘岭山桥湾坞口洲畈墩溪庄林")
ROADS = ["丰溪路", "永丰大道", "人民路", "解放路", "芦林路", "中山路", "建设路", "府前路",
         "新城路", "商贸路", "东街", "西街"]
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
                "于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金廖贾夏韦付方邹熊邱江祝毛")
GIVEN = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志红春梅金玉"
             "海燕文辉德荣福贵生发根水莲珍凤琴云峰斌浩宇晨欣怡婷雪琳佳豪俊")


def build_regions(rng: np.random.Generator) -> pd.DataFrame:
    """Regions table (county, townships, villages/communities) with 12-digit codes."""
    rows = [(COUNTY_CODE, "广丰区", "county", "")]
    for tcode, tname in TOWNSHIPS:
        tc = "361103" + tcode + "000"
        rows.append((tc, tname, "township", COUNTY_CODE))
        street = tname.endswith("街道")
        n_comm = int(rng.integers(6, 10)) if street else int(rng.integers(1, 3))
        n_vill = int(rng.integers(0, 3)) if street else int(rng.integers(9, 16))
        seen: set[str] = set()
        names: list[str] = []
        while len(names) < n_comm + n_vill:
            nm = _V1[int(rng.integers(len(_V1)))] + _V2[int(rng.integers(len(_V2)))]
            if nm not in seen and nm[0] != nm[1]:
                seen.add(nm)
                names.append(nm)
        for k in range(n_comm):
            rows.append((tc[:9] + f"{k + 1:03d}", names[k] + "社区", "village", tc))
        for k in range(n_vill):
            rows.append((tc[:9] + f"{k + 200:03d}", names[n_comm + k] + "村", "village", tc))
    return pd.DataFrame(rows, columns=["code", "name", "level", "parent_code"])


def villages(regions: pd.DataFrame) -> pd.DataFrame:
    """Village rows with their township name and whether they are urban (社区)."""
    v = regions[regions["level"] == "village"].copy()
    tn = regions.set_index("code")["name"]
    v["township_name"] = v["parent_code"].map(tn)
    v["urban"] = v["name"].str.endswith("社区")
    return v.reset_index(drop=True)


class Dwellings:
    """Allocates unique canonical addresses in given villages."""

    def __init__(self, vill: pd.DataFrame, rng: np.random.Generator) -> None:
        self.v = vill
        self.rng = rng
        self.used = KeySet()
        self.prefix = (vill["township_name"] + vill["name"]).to_numpy(dtype=object)
        self.urban = vill["urban"].to_numpy()

    def allocate(self, vidx: np.ndarray) -> np.ndarray:
        """One new unique address per entry of ``vidx`` (village row indices)."""
        n = len(vidx)
        rng = self.rng
        keys = np.zeros(n, dtype=np.int64)
        todo = np.arange(n)
        a = np.zeros(n, dtype=np.int64)
        b = np.zeros(n, dtype=np.int64)
        c = np.zeros(n, dtype=np.int64)
        d = np.zeros(n, dtype=np.int64)
        e = np.zeros(n, dtype=np.int64)
        while len(todo):
            m = len(todo)
            a[todo] = rng.integers(0, len(ROADS), m)
            b[todo] = rng.integers(1, 400, m)  # 组 (rural) or 号 (urban)
            c[todo] = rng.integers(1, 300, m)  # 号 (rural) or 栋 (urban)
            d[todo] = rng.integers(1, 7, m)  # 单元
            e[todo] = rng.integers(1, 33, m) * 100 + rng.integers(1, 5, m)  # 室
            urb = self.urban[vidx[todo]]
            rur = todo[~urb]
            b[rur] = rng.integers(1, 41, len(rur))
            c[rur] = rng.integers(1, 1000, len(rur))
            a[rur] = 0  # rural addresses have no road, building, unit or room
            d[rur] = 0
            e[rur] = 0
            k = (((vidx[todo] * 16 + a[todo]) * 400 + b[todo]) * 1000 + c[todo]) * 7 + d[todo]
            k = k * 4000 + e[todo]
            keys[todo] = k
            ok = first_occurrence(k) & ~self.used.contains(k)
            self.used.add(k[ok])
            todo = todo[~ok]
        urb = self.urban[vidx]
        roads = np.array(ROADS, dtype=object)[a]
        s = lambda x: pd.Series(x).astype(str).to_numpy(dtype=object)  # noqa: E731
        rural = self.prefix[vidx] + s(b) + "组" + s(c) + "号"
        urban = (self.prefix[vidx] + roads + s(b) + "号" + s(c) + "栋" + s(d) + "单元"
                 + s(e) + "室")
        return np.where(urb, urban, rural).astype(object)


def make_names(rng: np.random.Generator, n: int) -> np.ndarray:
    """Plausible Chinese personal names (surname + one or two given characters)."""
    sur = np.array(SURNAMES, dtype=object)[rng.integers(0, len(SURNAMES), n)]
    g1 = np.array(GIVEN, dtype=object)[rng.integers(0, len(GIVEN), n)]
    g2 = np.array(GIVEN, dtype=object)[rng.integers(0, len(GIVEN), n)]
    two = rng.random(n) < 0.7
    return np.where(two, sur + g1 + g2, sur + g1).astype(object)


def random_births(rng: np.random.Generator, n: int, lo: str, hi: str) -> np.ndarray:
    """Uniform birth dates in [lo, hi] as datetime64[D]."""
    a = np.datetime64(lo, "D").astype(np.int64)
    b = np.datetime64(hi, "D").astype(np.int64)
    return rng.integers(a, b + 1, n).astype("datetime64[D]")
