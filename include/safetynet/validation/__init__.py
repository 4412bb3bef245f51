"""Validation of staged batches with Great Expectations suites (``expectations/*.json``).

Importing this package does not import Great Expectations (6–9 s and noisy
logging); :class:`~safetynet.validation.gxrun.GxRunner` does, when a batch is
validated. See :mod:`safetynet.validation.runner` for the flow.
"""

from safetynet.validation.outcome import BatchRejected
from safetynet.validation.runner import docs_dir, validate_batch

__all__ = ["BatchRejected", "docs_dir", "validate_batch"]
