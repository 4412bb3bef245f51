"""The rules' hand-built warehouse (``wh``), for reports built from its cases and warnings."""

from tests.unit.rules.conftest import wh

__all__ = ["wh"]
