"""Issue 17 on a generated deployment: every published case carries what an inspector needs to act.

The address of every case with a household, each rule's descriptive evidence,
readable Chinese evidence for every case, and the same case keys as the
generator's independent reference.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

from sqlalchemy import text

from safetynet.config import load_config
from safetynet.pipeline import run
from safetynet.reports.csvsafe import TRIGGERS
from safetynet.reports.evidence_text import evidence_lines
from safetynet.warehouse.engine import get_engine

D = date(2026, 11, 20)
CODES = ("DIBAO", "TEKUN", "ELDERLY", "DISABILITY", "ORGAN", "INSTITUTION", "id_number", "electricity",
         "water", "declared_relative", "payroll", "supply_addresses", "monthly_amount", "benefit_from",
         "None", "null")


def test_published_cases_carry_address_and_descriptive_evidence(
        deployment: Callable[..., Path], tmp_path: Path) -> None:
    config = deployment(tmp_path, households=400)
    run(D, config)
    with (config.parent / "outbox" / D.isoformat() / f"mismatches_{D:%Y%m%d}.csv").open(
            encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames is not None
        assert reader.fieldnames[reader.fieldnames.index("name") + 1] == "address"
        rows = list(reader)
    with get_engine(load_config(config).warehouse_url).connect() as conn:
        delivered = {h: ("'" + a if a.startswith(TRIGGERS) else a) for h, a in conn.execute(text(
            "SELECT household_id, address FROM core_household WHERE address IS NOT NULL"))}

    expected = json.loads((config.parent / "expected_cases.json").read_text("utf-8"))["cases"]
    got: dict[str, set[str]] = {rule: set() for rule in expected}
    for row in rows:
        got[row["rule_code"]].add(row["case_key"])
    assert got == {rule: set(keys) for rule, keys in expected.items()}  # the case keys did not move

    seen: dict[str, int] = {}
    for row in rows:
        rule, ev = row["rule_code"], json.loads(row["evidence"])
        seen[rule] = seen.get(rule, 0) + 1
        if row["household_id"]:
            assert row["address"] and row["address"] == delivered[row["household_id"]], row["case_key"]
        else:
            assert row["address"] == "", row["case_key"]  # allowance-only: no household to visit
        assert "monthly_amount" in ev and "benefit_from" in ev, row["case_key"]
        if rule in ("R06", "R07"):
            accounts = {f"{a['source']}:{a['account_no']}" for a in ev["accounts"]}
            assert set(ev["supply_addresses"]) == accounts and all(ev["supply_addresses"].values())
        if rule == "R04":
            assert set(ev["owners"]) == {u["unit_no"] for u in ev["units"]} and all(ev["owners"].values())
        if rule == "R03":
            assert ev["declarers"] and all(d["employer"] for d in ev["declarers"]), row["case_key"]
        if rule == "R10":
            assert set(ev["allowance_kinds"]) == set(ev["allowances"])
        if rule == "R01" and "allowance" in ev["covered_by"]:
            assert ev["allowances"]
            assert ("allowance_payments_in_source" in ev) == (ev["covered_by"] == ["allowance"])
        lines = "\n".join(evidence_lines(rule, ev))
        assert lines and "_" not in lines and not any(c in lines for c in CODES), (row["case_key"], lines)
    assert {"R03", "R04", "R06", "R07"} <= set(seen)
