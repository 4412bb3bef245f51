"""Great Expectations, kept behind one small class and imported only when used.

Importing GX takes 6–9 s and logs ~200 INFO lines, so it happens inside
:class:`GxRunner`, never when a DAG file or :mod:`safetynet.pipeline` is imported,
and the ``great_expectations`` logger is set to WARNING first.

One ephemeral context per validated batch: suites come from their JSON files,
each item is a dataframe asset of one pandas data source named after the source,
and results stay in the context's in-memory store. GX's own Data Docs are not
built: they load their scripts from public CDNs and copy raw values into HTML;
``validation.docs`` renders the same results offline and escaped.
"""

from __future__ import annotations

import copy
import logging
from datetime import UTC, datetime
from typing import Any

import pandas as pd

RESULT_FORMAT = {
    "result_format": "COMPLETE",  # the row-level checks need every failing row's _row
    "unexpected_index_column_names": ["_row"],
    "partial_unexpected_count": 10,
    "return_unexpected_index_query": False,  # else GX writes every failing index into a string
}


def import_gx() -> Any:
    """Import GX with its INFO noise silenced (some of its modules set their own level to INFO)."""
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    import great_expectations as gx
    from great_expectations.execution_engine import pandas_execution_engine

    # GX fingerprints every frame under 1 GB (shallow size) with ``hash_pandas_object``,
    # which turns Arrow-backed text into Python strings: 3x the frame's memory and
    # seconds of CPU for a batch marker nothing here reads. Frames over the threshold
    # already skip it; with 0 every frame does (measured: 4.7M payment rows, validate
    # peak 2.3 GB -> see bench/optimisations.md).
    pandas_execution_engine.HASH_THRESHOLD = 0

    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        if name.startswith("great_expectations.") and isinstance(logger, logging.Logger) \
                and logger.level != logging.NOTSET and logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)
    return gx


class GxRunner:
    """Validate items of one batch and build that batch's Data Docs site."""

    def __init__(self, source: str, report_date: str) -> None:
        gx = import_gx()
        from great_expectations.core.run_identifier import RunIdentifier
        from great_expectations.data_context.types.base import ProgressBarsConfig

        self._gx = gx
        self.context = gx.get_context(mode="ephemeral")
        self.context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        self.data_source = self.context.data_sources.add_pandas(source)
        self.run_id = RunIdentifier(run_name=f"{source}-{report_date}",
                                    run_time=datetime.now(UTC))
        self._suites: dict[str, Any] = {}

    def validate(self, item: str, suite_json: dict, frame: pd.DataFrame, parameters: dict) -> Any:
        """Run a suite on one item's projected frame; returns GX's suite validation result."""
        from great_expectations.core.expectation_suite import ExpectationSuite

        name = suite_json["name"]
        if name not in self._suites:
            self._suites[name] = self.context.suites.add(ExpectationSuite(**copy.deepcopy(suite_json)))
        asset = self.data_source.add_dataframe_asset(name=item)
        batch = asset.add_batch_definition_whole_dataframe("whole")
        definition = self.context.validation_definitions.add(
            self._gx.ValidationDefinition(name=item, data=batch, suite=self._suites[name]))
        try:
            return definition.run(batch_parameters={"dataframe": frame}, expectation_parameters=parameters,
                                  result_format=RESULT_FORMAT, run_id=self.run_id)
        finally:
            # The data source's engine keeps every batch's frame for the context's life:
            # twelve monthly files held ~1.3 GB by the last one. Results do not need them.
            manager = self.data_source.get_execution_engine().batch_manager
            manager.batch_data_cache.clear()
            manager.reset_batch_cache()
