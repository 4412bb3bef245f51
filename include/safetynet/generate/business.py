"""Random market-regulation registry truth: market entities and the roles people hold.

Most entities are 个体工商户 (one ``OPERATOR``, no registered capital); companies
have a legal representative (often their first shareholder), shareholders and
sometimes a board and a supervisor; cooperatives a legal representative among
their member-shareholders. A small share of assistance members hold roles, so
the reference finds incidental R12 cases besides the planted ones. Capital and
shares are integer hundredths (NaN = null).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from safetynet.generate.civil import active_member_mask
from safetynet.generate.regions import make_names
from safetynet.generate.world import Ctx

KINDS = ["INDIVIDUAL", "ENTERPRISE", "COOPERATIVE"]
KIND_DIGIT = {"ENTERPRISE": "1", "INDIVIDUAL": "2", "COOPERATIVE": "3"}
SHOPS = ["便利店", "五金店", "小吃店", "理发店", "农资店", "服装店", "副食店", "汽车修理部"]
TRADES = ["贸易有限公司", "建材有限公司", "农业开发有限公司", "电子科技有限公司", "物流有限公司",
          "餐饮管理有限公司"]
CROPS = ["脐橙", "马家柚", "白银茶", "生猪", "蔬菜", "油茶"]
ENTITY_COLS = ["credit_code", "entity_name", "entity_kind", "status", "established_on",
               "closed_on", "capital100"]
ROLE_COLS = ["role_id", "credit_code", "pid", "birth", "name", "role", "share100", "from_on",
             "to_on", "id_dirt"]
CC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CC_WEIGHTS = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28])
_CC_VALUE = np.zeros(256, dtype=np.int64)
_CC_VALUE[np.frombuffer(CC_ALPHABET.encode(), dtype=np.uint8)] = np.arange(len(CC_ALPHABET))


def credit_codes(ctx: Ctx, kinds: np.ndarray) -> np.ndarray:
    """Unique 18-character 统一社会信用代码 (GB 32100 check character) for entity kinds."""
    n = len(kinds)
    digit = pd.Series(kinds).map(KIND_DIGIT).fillna("9").to_numpy(dtype=object)
    serial = pd.Series(ctx.serials("credit", n)).astype(str).str.zfill(7).to_numpy(dtype=object)
    body = ("9" + digit + "361103MA" + serial).astype("S17")
    chars = body.view(np.uint8).reshape(n, 17)
    total = (_CC_VALUE[chars] * CC_WEIGHTS).sum(axis=1) if n else np.zeros(0, dtype=np.int64)
    check = np.array(list(CC_ALPHABET), dtype=object)[(31 - total % 31) % 31]
    return body.astype(str).astype(object) + check


def entity_names(ctx: Ctx, kinds: np.ndarray) -> np.ndarray:
    """Plausible names: a person's shop, a company, a village cooperative."""
    rng, n = ctx.rng, len(kinds)
    person = make_names(rng, n)
    vill = ctx.world.vill["name"].str[:-1].to_numpy(dtype=object)[rng.integers(0, len(ctx.world.vill),
                                                                                 n)]
    shop = "广丰区" + person + np.array(SHOPS, dtype=object)[rng.integers(0, len(SHOPS), n)]
    firm = "上饶市" + pd.Series(person).str[1:].to_numpy(dtype=object) + np.array(
        TRADES, dtype=object)[rng.integers(0, len(TRADES), n)]
    coop = "广丰区" + vill + np.array(CROPS, dtype=object)[rng.integers(0, len(CROPS), n)] + "专业合作社"
    return np.where(kinds == "INDIVIDUAL", shop, np.where(kinds == "ENTERPRISE", firm, coop))


def random_entities(ctx: Ctx, n: int) -> pd.DataFrame:
    """``n`` market entities (truth): kinds, status, dates and capital."""
    rng, D = ctx.rng, ctx.D
    kinds = rng.choice(KINDS, n, p=[0.7, 0.27, 0.03]).astype(object)
    est = ctx.rand_dates(n, pd.Timestamp("1995-01-01"), D - pd.Timedelta(days=1)).to_numpy()
    status = rng.choice(["OPERATING", "REVOKED", "CANCELLED"], n, p=[0.82, 0.06, 0.12])
    span = np.maximum((D.to_datetime64() - est) // np.timedelta64(1, "D"), 2)
    closed = (est + (1 + rng.random(n) * (span - 1)).astype("timedelta64[D]")).astype("datetime64[s]")
    closed[status == "OPERATING"] = np.datetime64("NaT")
    cap = np.round(np.exp(rng.uniform(np.log(3), np.log(20000), n)), 1) * 100
    cap[kinds == "COOPERATIVE"] = rng.integers(10, 500, int((kinds == "COOPERATIVE").sum())) * 100
    cap[kinds == "INDIVIDUAL"] = np.nan
    return pd.DataFrame({"credit_code": credit_codes(ctx, kinds), "entity_name": entity_names(ctx, kinds),
                         "entity_kind": kinds, "status": status,
                         "established_on": pd.to_datetime(est).as_unit("s"), "closed_on": closed,
                         "capital100": cap})


def _slots(ctx: Ctx, ent: pd.DataFrame) -> pd.DataFrame:
    """Role rows per entity with a person slot each (a legal rep may share a shareholder's)."""
    rng = ctx.rng
    kind = ent["entity_kind"].to_numpy()
    n = len(ent)
    n_sh = np.where(kind == "ENTERPRISE", rng.choice([1, 2, 3, 4], n, p=[0.35, 0.35, 0.2, 0.1]),
                    np.where(kind == "COOPERATIVE", 5, 0))
    n_dir = np.where((kind == "ENTERPRISE") & (rng.random(n) < 0.3), 3, 0)
    n_sup = ((kind == "ENTERPRISE") & (rng.random(n) < 0.6)).astype(int)
    n_lr = (kind != "INDIVIDUAL").astype(int)
    parts = []
    for role, cnt in (("OPERATOR", (kind == "INDIVIDUAL").astype(int)), ("SHAREHOLDER", n_sh),
                      ("LEGAL_REP", n_lr), ("DIRECTOR", n_dir), ("SUPERVISOR", n_sup)):
        idx = np.repeat(np.arange(n), cnt)
        parts.append(pd.DataFrame({"ent": idx, "role": role}))
    r = pd.concat(parts, ignore_index=True)
    r["slot"] = np.arange(len(r))
    first_sh = r[r["role"] == "SHAREHOLDER"].drop_duplicates("ent").set_index("ent")["slot"]
    lr = (r["role"] == "LEGAL_REP").to_numpy()
    share_lr = lr & ((kind[r["ent"]] == "COOPERATIVE") | (rng.random(len(r)) < 0.7))
    r.loc[share_lr, "slot"] = r.loc[share_lr, "ent"].map(first_sh).to_numpy()
    sh = (r["role"] == "SHAREHOLDER").to_numpy()
    w = np.where(sh, rng.uniform(0.2, 1.0, len(r)), 0.0)
    tot = np.bincount(r["ent"], weights=w, minlength=n)[r["ent"]]
    r["share100"] = np.where(sh, np.round(w / np.where(tot > 0, tot, 1) * 10000), np.nan)
    return r


def random_business(ctx: Ctx, hh: pd.DataFrame, mem: pd.DataFrame) -> tuple[pd.DataFrame,
                                                                            pd.DataFrame]:
    """Entities and roles (truth) for a county of ``len(hh)`` assistance households."""
    rng, D = ctx.rng, ctx.D
    ent = random_entities(ctx, max(1, int(len(hh) * 0.6)))
    r = _slots(ctx, ent)
    n_slots = int(r["slot"].max()) + 1
    pool = ctx.people(ctx.rand_dates(int(n_slots * 0.85) + 1, pd.Timestamp("1945-01-01"),
                                     pd.Timestamp("2003-01-01")).to_numpy())
    who = pool.iloc[rng.integers(0, len(pool), n_slots)].reset_index(drop=True)
    adult = mem[(mem["birth"] < D - pd.DateOffset(years=20)).to_numpy()
                & (active_member_mask(hh, mem, D) | (rng.random(len(mem)) < 0.3))]
    op_slots = r.loc[r["role"] == "OPERATOR", "slot"].to_numpy()
    other = np.setdiff1d(r["slot"].to_numpy(), op_slots)
    for slots, share in ((op_slots, 0.012), (other, 0.004)):
        k = min(len(slots), len(adult), int(len(adult) * share) + 1)
        pick = rng.choice(slots, k, replace=False)
        who.iloc[pick] = adult[["pid", "birth", "name"]].iloc[rng.choice(len(adult), k,
                                                                         replace=False)].to_numpy()
    e = ent.iloc[r["ent"].to_numpy()]
    est, closed = e["established_on"].to_numpy(), e["closed_on"].to_numpy()
    end = np.where(pd.isna(closed), D.to_datetime64(), closed)
    span = np.maximum((end - est) // np.timedelta64(1, "D"), 2)
    ended = (rng.random(len(r)) < 0.08) & (r["role"] != "OPERATOR").to_numpy()
    to_on = np.where(ended, est + (rng.random(len(r)) * (span - 1)).astype("timedelta64[D]"),
                     np.datetime64("NaT")).astype("datetime64[s]")
    roles = pd.DataFrame({"credit_code": e["credit_code"].to_numpy(), "role": r["role"].to_numpy(),
                          "share100": r["share100"].to_numpy(), "from_on": est, "to_on": to_on,
                          "slot": r["slot"].to_numpy()})
    succ = roles[ended].copy()  # the successor of every role that ended
    succ["from_on"] = succ["to_on"] + np.timedelta64(1, "D")
    succ["to_on"] = np.datetime64("NaT")
    succ["slot"] = rng.integers(0, n_slots, len(succ))
    roles = pd.concat([roles, succ], ignore_index=True)
    p = who.iloc[roles.pop("slot").to_numpy()]
    roles["pid"], roles["birth"], roles["name"] = (p[c].to_numpy() for c in ("pid", "birth", "name"))
    roles["role_id"] = role_ids(ctx, len(roles))
    roles["id_dirt"] = ""
    return ent, roles[ROLE_COLS]


def role_ids(ctx: Ctx, n: int) -> np.ndarray:
    """Unique role numbers (``JS`` + county code + 8 digits)."""
    s = pd.Series(ctx.serials("role", n, width=8)).astype(str).str.zfill(8)
    return ("JS361103" + s).to_numpy(dtype=object)
