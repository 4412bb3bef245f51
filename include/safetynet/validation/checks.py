"""Batch-level checks on a staged batch before anything reaches the warehouse.

A failed check raises :class:`BatchRejected` naming the item, the check and the
observed value; the batch then loads nothing and the source's last good data
stays in place. (Great Expectations suites deepen this stage; see issue 4.)
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

MIN_VALID_ID_SHARE = 0.5  # below this a delivery's ID column has collapsed (shifted/placeholder)
MIN_ROWS_FOR_SHARE = 20


class BatchRejected(RuntimeError):
    """A whole batch failed validation."""


def check_batch(batch: dict) -> dict:
    """Run the batch-level checks; return per-item observations (no personal data)."""
    folder = Path(batch["path"])
    observed = {}
    for item in batch["items"]:
        stem = item["item"].replace("/", "_")
        rows = pd.read_parquet(folder / f"{stem}.rows.parquet")
        shares = {}
        for col in [c for c in rows.columns if c.endswith("_problem")]:
            present = rows[col[: -len("_problem")] + "_raw"].notna()
            if present.sum() >= MIN_ROWS_FOR_SHARE:
                share = float((rows.loc[present, col].isna()).mean())
                shares[col[: -len("_problem")]] = round(share, 4)
                if share < MIN_VALID_ID_SHARE:
                    raise BatchRejected(
                        f"{batch['source']} {item['item']}: expect_valid_id_share failed for "
                        f"{col[: -len('_problem')]}: observed {share:.1%} valid, "
                        f"need at least {MIN_VALID_ID_SHARE:.0%} (placeholder or shifted column?)")
        observed[item["item"]] = {"valid_id_share": shares}
    return observed
