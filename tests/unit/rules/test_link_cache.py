"""The utility link kept from one evaluation to the next (rules/link_cache.py): on PostgreSQL the
next day links only new months and the households in scope, and always finds the same items as a
full evaluation; a write to the readings that names no month, or another day, links everything."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import insert, text, update

from safetynet.rules import link_cache
from safetynet.rules.engine import rule_params, utility_windows
from safetynet.warehouse.changes import log_months
from safetynet.warehouse.engine import get_engine
from safetynet.warehouse.schema import core_household, core_utility_reading, meta_evaluation
from tests.unit.rules.conftest import D, Warehouse, pid
from tests.unit.rules.test_scope import _evaluate, _live

DAY = timedelta(days=1)
X, Y = pid("19700101", 1), pid("19710101", 2)


Reading = tuple[str, str | None, str, float]


def _readings(wh: Warehouse, month: str, *rows: Reading, named: bool = True) -> None:
    """Electricity readings (account, holder ID, address, kWh) of ``month``, written as a load
    writes them: with the month named in the change log, in the same transaction."""
    with get_engine(wh.cfg.warehouse_url).begin() as conn:
        for account, holder, address, kwh in rows:
            birth = date(int(holder[6:10]), int(holder[10:12]), int(holder[12:14])) if holder else None
            conn.execute(insert(core_utility_reading).values(
                source="electricity", month=month, account_no=account, holder_id_raw=holder,
                holder_id_norm=holder, holder_id_birth=birth, address=address, address_norm=address,
                usage=kwh))
        if named:
            log_months(conn, "electricity", [month])


def _reuse(wh: Warehouse, on: date, previous: date) -> link_cache.Reuse | None:
    with get_engine(wh.cfg.warehouse_url).begin() as conn:
        mark = conn.execute(meta_evaluation.select().where(meta_evaluation.c.report_date == previous)).first()
        params = {**rule_params(wh.cfg, on), **utility_windows(conn, on, 3)}
        return link_cache.reusable(conn, previous, mark.mark if mark else None, params)


def test_the_next_day_links_only_new_months_and_changed_households(wh: Warehouse) -> None:
    postgres = get_engine(wh.cfg.warehouse_url).dialect.name == "postgresql"
    wh.household("H1", X, address="a1")
    wh.household("H2", Y, address="a2")
    for month in ("2026-08", "2026-09", "2026-10"):
        _readings(wh, month, ("E1", X, "x", 600.0), ("E2", None, "a2", 10.0), ("E3", None, "a3", 900.0))
    _, items = _evaluate(wh, D)
    assert _live(items, "R06") == {"R06:H1": "NEW"}

    # D+1: a new month for everyone, and H2 moves to a3 (whose meter reads high)
    _readings(wh, "2026-11", ("E1", X, "x", 600.0), ("E2", None, "a2", 10.0), ("E3", None, "a3", 10.0))
    with get_engine(wh.cfg.warehouse_url).begin() as conn:
        conn.execute(update(core_household).where(core_household.c.household_id == "H2")
                     .values(address_norm="a3", address="a3"))
    reuse = _reuse(wh, D + DAY, D)
    if postgres:  # the months still in the window come from D's link, the new one is linked afresh
        assert reuse == link_cache.Reuse(kept={"electricity": ["2026-09", "2026-10"], "water": []},
                                         fresh={"electricity": ["2026-11"], "water": []})
    else:
        assert reuse is None  # SQLite links everything
    second, items = _evaluate(wh, D + DAY)  # and a full evaluation finds the same items
    assert "R06" in second["evaluated_in_full"] and second["evaluated_for_changes"]
    # H2 is linked again for the kept months too: E3 read 900, 900, 10 at its new address
    assert _live(items, "R06") == {"R06:H1": "OPEN", "R06:H2": "NEW"}

    # D+2: a write to the readings that names no month (a repair by hand): everything afresh
    assert (_reuse(wh, D + 2 * DAY, D + DAY) is not None) == postgres
    with get_engine(wh.cfg.warehouse_url).begin() as conn:
        conn.execute(text("UPDATE core_utility_reading SET usage = 10 WHERE account_no = 'E1' "
                          "AND month = '2026-10'"))
    assert _reuse(wh, D + 2 * DAY, D + DAY) is None
    _, items = _evaluate(wh, D + 2 * DAY)
    assert _live(items, "R06") == {"R06:H1": "RESOLVED", "R06:H2": "OPEN"}  # (600 + 10 + 600) / 3


def test_a_kept_link_serves_only_the_day_after_the_evaluation_that_kept_it(wh: Warehouse) -> None:
    wh.household("H1", X, address="a1")
    for month in ("2026-09", "2026-10"):
        _readings(wh, month, ("E1", X, "x", 600.0))
    _evaluate(wh, D)
    _evaluate(wh, D + 2 * DAY)  # a gap day: the link kept is now D+2's
    assert _reuse(wh, D + 3 * DAY, D) is None
    _evaluate(wh, D)  # a back-fill of D keeps D's link ...
    assert _reuse(wh, D + 3 * DAY, D + 2 * DAY) is None  # ... and the day after D+2 links everything
