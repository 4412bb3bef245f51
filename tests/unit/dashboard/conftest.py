"""A warehouse filled by the real pipeline on three consecutive report dates (SQLite).

Three dates so that the trend has points and case statuses move (NEW → OPEN →
RESOLVED). Tests that change the warehouse work on a copy (:func:`scratch`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from safetynet.config import load_config
from safetynet.pipeline import run
from safetynet.warehouse.engine import get_engine

LAST = date(2026, 11, 20)
DATES = [LAST - timedelta(days=2), LAST - timedelta(days=1), LAST]


@dataclass(frozen=True)
class Monitored:
    """A deployment after the pipeline ran on :data:`DATES`."""

    config: Path

    @property
    def engine(self) -> Engine:
        return get_engine(load_config(self.config).warehouse_url)

    def extract_csv(self, d: date) -> Path:
        """The inspectors' extract the pipeline published for D (an independent count source)."""
        return self.config.parent / "outbox" / d.isoformat() / f"mismatches_{d:%Y%m%d}.csv"


@pytest.fixture(scope="package")
def monitored(deployment: Callable[..., Path], tmp_path_factory: pytest.TempPathFactory) -> Monitored:
    config = deployment(tmp_path_factory.mktemp("dashboard"), households=400)
    for d in DATES:
        run(d, config)
    return Monitored(config)


@pytest.fixture
def scratch(monitored: Monitored, tmp_path: Path) -> Engine:
    """An engine on a private copy of the warehouse, for tests that add rows or tables."""
    source = Path(load_config(monitored.config).warehouse_url.removeprefix("sqlite:///"))
    copy = tmp_path / "warehouse.db"
    with sqlite3.connect(source) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)  # includes what is still in the WAL file
    return get_engine(f"sqlite:///{copy}")
