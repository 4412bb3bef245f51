"""No full ID number and no name from the deployment reaches the page or the JSON.

Every person reference and name the warehouse holds is collected by inspection
(any ``*_raw``/``*_norm``/``id_number`` and any ``*name`` column of a core or
mart table), then searched for in the rendered HTML and in the API's JSON.
"""

from __future__ import annotations

import json
import re

from sqlalchemy import inspect, text

from safetynet.dashboard.page import render
from safetynet.dashboard.summary import build_summary
from tests.unit.dashboard.conftest import Monitored

PERSON_TABLES = ("core_", "mart_")


def _personal_values(monitored: Monitored) -> tuple[set[str], set[str], set[str]]:
    ids, names, households = set(), set(), set()
    inspector = inspect(monitored.engine)
    with monitored.engine.connect() as conn:
        for table in inspector.get_table_names():
            if not table.startswith(PERSON_TABLES) or table == "core_disposition":
                continue
            for col in (c["name"] for c in inspector.get_columns(table)):
                values = {str(v) for (v,) in conn.execute(text(f"SELECT DISTINCT {col} FROM {table}"))
                          if v is not None}
                if col.endswith(("_raw", "_norm")) or col == "id_number":
                    ids |= {v for v in values if len(re.sub(r"\D", "", v)) >= 15}
                elif col.endswith("name") and col != "file_name" and table != "ref_region":
                    names |= {v for v in values if len(v) >= 2}
                elif col == "household_id":
                    households |= values
    return ids, names, households


def test_no_full_id_name_or_household_number_in_html_or_json(monitored: Monitored) -> None:
    ids, names, households = _personal_values(monitored)
    assert len(ids) > 500 and len(names) > 500  # the search is not vacuous
    with monitored.engine.connect() as conn:
        summary = build_summary(conn, "test")
    html = render(summary)
    dumped = json.dumps(summary, ensure_ascii=False)
    assert summary["recent_cases"] and "********" in html
    for shown in (html, dumped):
        leaked_ids = {v for v in ids if v in shown}
        leaked_names = {v for v in names if v in shown}
        leaked_households = {v for v in households if v in shown}
        assert not leaked_ids and not leaked_names and not leaked_households


def test_every_recent_case_carries_a_masked_id_of_first_six_and_last_four(monitored: Monitored) -> None:
    with monitored.engine.connect() as conn:
        recent = build_summary(conn)["recent_cases"]
        full = {r[0] for r in conn.execute(text("SELECT id_number FROM mart_case_day")) if r[0]}
    for case in recent:
        masked = case["id_masked"]
        assert masked is None or (masked[6:-4] == "*" * (len(masked) - 10)
                                  and any(f[:6] == masked[:6] and f[-4:] == masked[-4:] for f in full))
