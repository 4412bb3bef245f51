"""Person names: normalised for display only (names never join records)."""

from __future__ import annotations

import pandas as pd

from safetynet.transforms._common import clean_text


def normalize_names(s: pd.Series) -> pd.Series:
    """NFKC, all whitespace removed (`张 三` → `张三`): one person reads one way; empty → NA."""
    return clean_text(s)
