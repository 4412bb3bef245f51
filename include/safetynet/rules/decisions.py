"""The inspectors' decisions as the rules see them: read from the warehouse, matched by evidence.

Decision files are loaded into ``core_disposition`` before the rules run
(:mod:`safetynet.dispositions`, called by the pipeline); the engine reads the
decision in force per case (:func:`current_decisions`) and compares an EXPLAINED
decision's evidence fingerprint (:func:`evidence_sha`) with the case's evidence today.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date

import pandas as pd
from sqlalchemy import Connection, Table, text

from safetynet.rules.registry import descriptive_keys
from safetynet.warehouse.schema import core_disposition


def current_decisions(conn: Connection, d: date, table: Table = core_disposition) -> pd.DataFrame:
    """The latest decision per known case among those loaded for D or before (from ``table``:
    the inspectors' ``core_disposition``, or the bureau's ``core_warning_disposition``).

    Latest: loaded for the latest date, then from the latest file name, then the latest row.
    """
    rows = pd.read_sql(text(
        "SELECT case_key, outcome, note, suppress_until, evidence_sha256, file_name, row_number, "
        f"loaded_for FROM {table.name} WHERE known = :t AND loaded_for <= :d"), conn,
        params={"t": True, "d": d.isoformat()})
    rows["loaded_for"] = rows["loaded_for"].astype(str).str[:10]
    rows = rows.sort_values(["case_key", "loaded_for", "file_name", "row_number"])
    return rows.drop_duplicates("case_key", keep="last").set_index("case_key")


def evidence_sha(evidence: str) -> str:
    """The fingerprint EXPLAINED decisions are compared against.

    The SHA-256 of the evidence JSON without its descriptive keys
    (``rules.registry.descriptive_keys``: addresses, owners, amounts added for
    reading), dumped as the engine dumps evidence (sorted keys, UTF-8 text).
    Evidence without descriptive keys keeps the fingerprint of its text as
    stored, so decisions taken before those keys existed still hold; text that
    is not a JSON object is fingerprinted as it is.
    """
    try:
        parsed = json.loads(evidence)
    except ValueError:
        parsed = None
    if isinstance(parsed, dict):
        dropped = descriptive_keys(parsed)
        evidence = json.dumps({k: v for k, v in parsed.items() if k not in dropped},
                              sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(evidence.encode("utf-8")).hexdigest()
