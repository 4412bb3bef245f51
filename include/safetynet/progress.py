"""Per-stage progress for long work: a bar on a terminal, plain lines in logs.

Airflow task logs and CI are not terminals, so there each stage prints one start
line and one finish line with its count and duration; an interactive terminal
gets a tqdm bar instead. Messages carry counts only, never personal data.
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
    """A running stage; call :meth:`advance` as work completes."""

    def __init__(self, name: str, total: int | None, stream: TextIO) -> None:
        self.name = name
        self.total = total
        self.done = 0
        self._bar = None
        if stream.isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=name, unit="rows", file=stream, leave=True)

    def advance(self, n: int = 1) -> None:
        """Record ``n`` more units of work."""
        self.done += n
        if self._bar is not None:
            self._bar.update(n)

    def close(self) -> None:
        """Close the bar, if any."""
        if self._bar is not None:
            self._bar.close()


@contextmanager
def stage(name: str, total: int | None = None, stream: TextIO | None = None) -> Iterator[Stage]:
    """Report one stage of long work: start, progress and elapsed time."""
    out = stream or sys.stderr
    tty = out.isatty()
    if not tty:
        _emit(out, f"[safetynet] {name} ...")
    started = time.monotonic()
    st = Stage(name, total, out)
    try:
        yield st
    finally:
        st.close()
    if not tty:
        count = f" {st.done:,} rows" if st.done else ""
        _emit(out, f"[safetynet] {name} done:{count} in {time.monotonic() - started:.1f}s")


def _emit(out: TextIO, line: str) -> None:
    print(line, file=out, flush=True)
