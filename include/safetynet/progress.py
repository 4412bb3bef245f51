"""Per-stage progress for long work: a bar on a terminal, INFO lines of the ``safetynet`` logger elsewhere.

Airflow task logs and CI are not terminals, so there each stage logs one start
line and one finish line naming what it counted and how long it took, e.g.
``rule R06: 50 cases from 229 detail rows in 0.3s``. The lines go through the
``safetynet`` logger at INFO: inside Airflow a task's stderr is logged at ERROR
level (``task.stderr``), so progress printed there would read as errors. Only
when no logging is configured at all (a plain ``python -m …``) are the lines
printed to the stream instead, so they are not lost. An interactive terminal gets
a tqdm bar. Messages carry counts only, never personal data.

Every stage that counts says what: ``stage(name, unit="rows read")``; a stage
whose result is more than one count sets :attr:`Stage.result` to the sentence
(``"50 cases from 229 detail rows"``).
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO

log = logging.getLogger("safetynet")


class Stage:
    """A running stage; call :meth:`advance` as work completes.

    ``unit`` names what :meth:`advance` counts (``"rows read"``, ``"households"``);
    ``result``, when set, replaces the count in the finish line.
    """

    def __init__(self, name: str, total: int | None, stream: TextIO, unit: str = "") -> None:
        self.name = name
        self.total = total
        self.unit = unit
        self.done = 0
        self.result: str | None = None
        self._bar = None
        if stream.isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=name, unit=f" {unit}" if unit else "it", file=stream,
                             leave=True)

    def advance(self, n: int = 1) -> None:
        """Record ``n`` more units of work."""
        self.done += n
        if self._bar is not None:
            self._bar.update(n)

    def summary(self) -> str:
        """What the stage did, for its finish line: the result, or the count with its unit."""
        if self.result:
            return self.result
        if not self.done and not self.unit:
            return "done"
        return f"{self.done:,} {self.unit or 'units'}"

    def close(self) -> None:
        """Close the bar, if any."""
        if self._bar is not None:
            self._bar.close()


@contextmanager
def stage(name: str, total: int | None = None, stream: TextIO | None = None, *,
          unit: str = "") -> Iterator[Stage]:
    """Report one stage of long work: start, what it counted (``unit``) and elapsed time."""
    out = stream or sys.stderr
    tty = out.isatty()
    if not tty:
        _emit(out, f"{name} ...")
    started = time.monotonic()
    st = Stage(name, total, out, unit)
    try:
        yield st
    finally:
        st.close()
    if not tty:
        _emit(out, f"{name}: {st.summary()} in {time.monotonic() - started:.1f}s")


def _emit(out: TextIO, line: str) -> None:
    """One progress line: the ``safetynet`` logger at INFO, or ``out`` when logging is not set up."""
    if log.hasHandlers():
        log.info("%s", line)
    else:
        print(f"[safetynet] {line}", file=out, flush=True)
