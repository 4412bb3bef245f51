"""Which task failures retry: transport faults do, bad data and refused host keys do not."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from airflow.sdk.exceptions import AirflowFailException

from safetynet.orchestration import tasks
from safetynet.transport.errors import HostKeyError, RetryableTransportError

LOGICAL = datetime(2026, 11, 20, tzinfo=UTC)


def test_a_bad_delivery_fails_without_retry(deployment: Callable[..., Path], tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    config = deployment(tmp_path, households=200)
    drop = config.parent / "drop" / "water"
    shutil.copy(config.parent / "extras" / "bad" / "water" / "SS_202508.txt", drop / "SS_202508.txt")
    (drop / "SS_202508.txt.ok").touch()
    monkeypatch.setenv("SAFETYNET_CONFIG", str(config))
    with pytest.raises(AirflowFailException, match=r"SS_202508\.txt: the file is empty"):
        tasks.extract("water", LOGICAL)


@pytest.mark.parametrize(("error", "retried"), [
    (RetryableTransportError("connection reset"), True),
    (HostKeyError("host key changed"), False),
])
def test_transport_errors_retry_only_when_retryable(error: Exception, retried: bool) -> None:
    def step() -> dict:
        raise error

    wrapped = tasks._fail_fast(step)
    with pytest.raises(type(error) if retried else AirflowFailException):
        wrapped()
