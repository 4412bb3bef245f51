"""Fault injection for the crash tests (issue #9): a named point that can kill or pause the process.

**A test hook; production never sets these variables.** The pipeline calls
:func:`fault_point` at the places where dying would hurt most (after listing a
drop, mid-download, between COPYs of one load transaction, before the load
commits, between published files, …). When ``SAFETYNET_FAULT`` is unset, a point
costs one environment lookup and does nothing. The crash tests run the pipeline
in a separate process with:

``SAFETYNET_FAULT=<point>[:N]``
    which point fires, and on which hit of it in this process (default the first);
``SAFETYNET_FAULT_KIND``
    ``sigkill`` (default): ``SIGKILL`` ourselves, the crash nothing can catch or clean up;
    ``pause``: report the point and wait until the harness says go, so it can do the
    damage from outside (restart PostgreSQL with ``pg_ctl -m immediate``, kill the
    sshd session, or ``SIGKILL`` this process while a transaction is open), then go on;
    ``raise``: raise :class:`FaultInjected` (an in-process failure);
``SAFETYNET_FAULT_SIGNAL=<path>``
    where a point that fires writes a marker (``{"point", "hit", "pid"}`` as JSON)
    before acting, so the harness knows the process really got there. A ``pause``
    waits for ``<path>.go`` (at most ``SAFETYNET_FAULT_TIMEOUT`` seconds, default 300).
"""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

ENV_POINT = "SAFETYNET_FAULT"
ENV_KIND = "SAFETYNET_FAULT_KIND"
ENV_SIGNAL = "SAFETYNET_FAULT_SIGNAL"
ENV_TIMEOUT = "SAFETYNET_FAULT_TIMEOUT"

POINTS: tuple[str, ...] = (
    "drop.listed",       # transport.drop: a remote drop folder was listed
    "download.chunk",    # transport.drop: inside the download loop, after a block was written
    "download.landed",   # transport.drop: a file is downloaded and renamed, its landing .ok not yet written
    "validate.item",     # validation.runner: one item of a batch validated, the next not yet
    "load.copy",         # warehouse.load: a table's rows copied, the load transaction still open
    "load.commit",       # warehouse.load: everything incl. the watermark written, not yet committed
    "publish.file",      # transport.outbox / publishing.local: one file published, the next not yet
    "publish.renamed",   # transport.outbox / publishing.local: every file in place, _SUCCESS not yet written
)
"""The points the pipeline calls, in the order a run reaches them (documentation and tests)."""

_hits: dict[str, int] = {}


class FaultInjected(RuntimeError):
    """Raised by a point whose configured kind is ``raise``."""


def fault_point(name: str) -> None:
    """Do nothing, unless ``SAFETYNET_FAULT`` names this point: then fail as configured."""
    wanted = os.environ.get(ENV_POINT)
    if wanted:
        _maybe_fire(name, wanted)


def _maybe_fire(name: str, wanted: str) -> None:
    point, _, nth = wanted.partition(":")
    if point != name:
        return
    _hits[name] = hit = _hits.get(name, 0) + 1
    if hit != (int(nth) if nth else 1):
        return
    kind = os.environ.get(ENV_KIND, "sigkill")
    marker = os.environ.get(ENV_SIGNAL)
    if marker:
        tmp = Path(f"{marker}.tmp")
        tmp.write_text(json.dumps({"point": name, "hit": hit, "pid": os.getpid(), "kind": kind}), "utf-8")
        os.replace(tmp, marker)  # the harness never reads half a marker
    if kind == "sigkill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif kind == "pause":
        _wait_for_go(name, marker)
    elif kind == "raise":
        raise FaultInjected(f"fault injected at {name} (hit {hit})")
    else:
        raise ValueError(f"{ENV_KIND}={kind!r}: expected sigkill, pause or raise")


def _wait_for_go(name: str, marker: str | None) -> None:
    """Block until the harness creates ``<marker>.go`` (it acts on us meanwhile)."""
    if not marker:
        raise ValueError(f"{ENV_KIND}=pause at {name} needs {ENV_SIGNAL} (the harness's marker path)")
    go = Path(f"{marker}.go")
    deadline = time.monotonic() + float(os.environ.get(ENV_TIMEOUT, "300"))
    while not go.exists():
        if time.monotonic() > deadline:
            raise FaultInjected(f"fault point {name}: the harness never said go ({go})")
        time.sleep(0.02)
