"""Pure, vectorised normalisation transforms (rules.md, "Normalisation").

No I/O and no Airflow: every function maps pandas Series (or one value) to
normalised values with nullable dtypes, NA for missing.
"""

from safetynet.transforms.addresses import normalize_address, normalize_addresses, numeral_value
from safetynet.transforms.dates import parse_dates, parse_months, unparsed_mask
from safetynet.transforms.ids import (
    CHECK_MAP,
    CHECK_WEIGHTS,
    PROBLEM_TEXT,
    check_char,
    id_problem,
    normalize_id,
    normalize_ids,
)
from safetynet.transforms.names import normalize_names
from safetynet.transforms.numbers import parse_numbers

__all__ = [
    "CHECK_MAP",
    "CHECK_WEIGHTS",
    "PROBLEM_TEXT",
    "check_char",
    "id_problem",
    "normalize_address",
    "normalize_addresses",
    "normalize_id",
    "normalize_ids",
    "normalize_names",
    "numeral_value",
    "parse_dates",
    "parse_months",
    "parse_numbers",
    "unparsed_mask",
]
