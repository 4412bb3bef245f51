"""Shared fixtures: one small deployment (and its in-memory truth) per test session."""

from __future__ import annotations

from pathlib import Path

import pytest
from gen_normalise import SEED, D, N

from safetynet.generate import generate_deployment
from safetynet.generate.build import build_world
from safetynet.generate.world import World


@pytest.fixture(scope="session")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated deployment folder (N=500)."""
    out = tmp_path_factory.mktemp("deploy")
    cfg = generate_deployment(out, households=N, seed=SEED, report_date=D)
    assert cfg == out / "config.yaml"
    return out


@pytest.fixture(scope="session")
def world() -> World:
    """The same deployment's truth, rebuilt in memory (same arguments)."""
    return build_world(N, SEED, D)
