"""Random personnel truth: staff, village cadres, declared relatives, filings.

Most people here have nothing to do with the assistance roll; a small share of
active members appear (on a payroll, as a cadre, as a declared relative) so the
reference finds incidental R02/R03 cases besides the planted ones.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from safetynet.generate.civil import active_member_mask
from safetynet.generate.world import Ctx

EMPLOYERS = [
    ("广丰区教育体育局", "ORGAN", "科员"), ("广丰区财政局", "ORGAN", "副主任科员"),
    ("广丰区人民医院", "INSTITUTION", "护士"), ("广丰区第一中学", "INSTITUTION", "教师"),
    ("广丰区自来水有限公司", "SOE", "抄表员"), ("广丰区城市建设投资集团", "SOE", "会计"),
    ("广丰区民政局", "ORGAN", "科员"), ("广丰区农业农村局", "ORGAN", "技术员"),
]
CADRE_POSTS = ["书记", "主任", "副主任", "委员", "委员", "妇联主席"]
REL_RELATIONS = ["配偶", "父母", "子女", "兄弟姐妹", "其他"]


def random_staff(ctx: Ctx, hh: pd.DataFrame, mem: pd.DataFrame) -> pd.DataFrame:
    """People on a public payroll; a few are assistance members (incidental R02)."""
    rng, D = ctx.rng, ctx.D
    n = int(len(hh) * 0.12) + 1
    st = ctx.people(ctx.rand_dates(n, pd.Timestamp("1962-01-01"), pd.Timestamp("2002-01-01"))
                    .to_numpy())
    act = active_member_mask(hh, mem, D)
    adult = mem["birth"] < D - pd.DateOffset(years=20)
    extra = mem[act & adult & (rng.random(len(mem)) < 0.003)][["pid", "birth", "name"]]
    st = pd.concat([st, extra], ignore_index=True)
    k = len(st)
    emp = rng.integers(0, len(EMPLOYERS), k)
    pf = ctx.rand_dates(k, pd.Timestamp("1990-01-01"), D - pd.Timedelta(days=30))
    pf = np.maximum(pf.to_numpy(), (st["birth"] + pd.DateOffset(years=18)).to_numpy())
    pt = np.full(k, np.datetime64("NaT"), dtype="datetime64[s]")
    ended = rng.random(k) < 0.15
    span = np.maximum((D.to_datetime64() - pf) // np.timedelta64(1, "D"), 2)
    pt[ended] = (pf + (rng.random(k) * span).astype("timedelta64[D]"))[ended]
    return pd.DataFrame({
        "pid": st["pid"], "birth": st["birth"], "name": st["name"],
        "employer": [EMPLOYERS[i][0] for i in emp], "employer_kind": [EMPLOYERS[i][1] for i in emp],
        "post": [EMPLOYERS[i][2] for i in emp], "payroll_from": pd.to_datetime(pf).as_unit("s"),
        "payroll_to": pt, "id_dirt": "",
    })


def random_cadres(ctx: Ctx, hh: pd.DataFrame, mem: pd.DataFrame) -> pd.DataFrame:
    """Current and former village cadres; a handful are members (incidental R03)."""
    rng, D = ctx.rng, ctx.D
    codes = ctx.world.vill["code"].to_numpy()
    cur = np.repeat(codes, len(CADRE_POSTS))
    posts = np.tile(CADRE_POSTS, len(codes))
    old = np.repeat(codes, 2)
    old_posts = np.tile(["主任", "委员"], len(codes))
    n = len(cur) + len(old)
    ppl = ctx.people(ctx.rand_dates(n, pd.Timestamp("1958-01-01"), pd.Timestamp("1995-01-01"))
                     .to_numpy())
    act = active_member_mask(hh, mem, D)
    extra = mem[act & (mem["birth"] < D - pd.DateOffset(years=25))
                & (rng.random(len(mem)) < 0.0015)]
    ex_codes = hh.set_index("household_id")["region_code"].reindex(extra["household_id"])
    tf = np.concatenate([np.full(len(cur), np.datetime64("2021-03-15", "s")),
                         np.full(len(old), np.datetime64("2018-03-15", "s")),
                         np.full(len(extra), np.datetime64("2021-03-15", "s"))])
    tt = np.concatenate([np.full(len(cur), np.datetime64("NaT", "s")),
                         np.full(len(old), np.datetime64("2021-03-14", "s")),
                         np.full(len(extra), np.datetime64("NaT", "s"))])
    return pd.DataFrame({
        "pid": np.concatenate([ppl["pid"], extra["pid"]]),
        "birth": np.concatenate([ppl["birth"], extra["birth"]]),
        "name": np.concatenate([ppl["name"], extra["name"]]),
        "region_code": np.concatenate([cur, old, ex_codes.to_numpy()]),
        "post": np.concatenate([posts, old_posts, np.full(len(extra), "委员")]),
        "term_from": tf, "term_to": tt, "id_dirt": "",
    })


def random_relatives(ctx: Ctx, hh: pd.DataFrame, mem: pd.DataFrame, staff: pd.DataFrame,
                     cadres: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Declared relatives (hr_relative) and the civil-affairs filings for some of them."""
    rng, D = ctx.rng, ctx.D
    decl = pd.concat([staff[["pid", "birth"]], cadres[["pid", "birth"]]], ignore_index=True)
    decl = decl.drop_duplicates("pid")
    cnt = rng.choice([0, 1, 2, 3], len(decl), p=[0.3, 0.35, 0.25, 0.1])
    rep = decl.loc[decl.index.repeat(cnt)].reset_index(drop=True)
    k = len(rep)
    rel_people = ctx.people(ctx.rand_dates(k, pd.Timestamp("1940-01-01"),
                                           pd.Timestamp("2010-01-01")).to_numpy())
    act = active_member_mask(hh, mem, D)
    mems = mem[act & (rng.random(len(mem)) < 0.004)][["pid", "birth", "name"]]
    mems = mems.iloc[: k].reset_index(drop=True)
    rel_people.iloc[: len(mems)] = mems.to_numpy()
    relative = pd.DataFrame({
        "staff_pid": rep["pid"], "staff_birth": rep["birth"],
        "relative_pid": rel_people["pid"], "relative_birth": rel_people["birth"],
        "relative_name": rel_people["name"],
        "relation": rng.choice(REL_RELATIONS, k, p=[0.3, 0.25, 0.25, 0.15, 0.05]),
        "declared_on": ctx.rand_dates(k, pd.Timestamp("2019-01-01"), D - pd.Timedelta(days=10)),
        "id_dirt": "", "staff_id_dirt": "",
    })
    # Filings: about half of the declared relatives who are members were filed, before D.
    fm = relative.iloc[: len(mems)]
    fm = fm[rng.random(len(fm)) < 0.5]
    filings = pd.DataFrame({
        "pid": fm["relative_pid"].to_numpy(), "birth": fm["relative_birth"].to_numpy(),
        "staff_pid": fm["staff_pid"].to_numpy(), "staff_birth": fm["staff_birth"].to_numpy(),
        "relation": fm["relation"].to_numpy(),
        "filed_on": ctx.rand_dates(len(fm), pd.Timestamp("2020-01-01"), D - pd.Timedelta(days=5)),
        "id_dirt": "", "staff_id_dirt": "",
    })
    return relative, filings
