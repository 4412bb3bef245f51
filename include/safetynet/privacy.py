"""Personal data outside the inspectors' extract: IDs masked as first 6 + last 4.

Only the extract (``mismatches_*``) carries full ID numbers and names. Anything
for a wider audience — logs, task output, monitoring figures, alerts — goes
through :func:`mask_text`, and :class:`RedactingFilter` applies it to every log
record, because Airflow's secrets masker knows connection secrets, not ID numbers.
"""

from __future__ import annotations

import logging
import re

ID_NUMBER = re.compile(r"(?<!\d)(\d{6})(\d{5}|\d{8})(\d{3}[\dXxＸｘ])(?!\d)")
"""Anything shaped like a citizen ID: 18 characters, or the legacy 15 digits
(Python's ``\\d`` matches full-width digits too, which occur in the deliveries)."""


def mask_id(value: str | None) -> str | None:
    """``361103196001010017`` → ``361103********0017``: enough to tell records apart.

    A value too short to keep 10 characters visible is hidden whole: a partial
    or mistyped ID is still personal data.
    """
    if value is None:
        return None
    if len(value) <= 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


SPACED_RUN = re.compile(r"(?<!\d)\d(?:[ \t\u3000]?\d)*[XxＸｘ]?(?![\dXxＸｘ])")
"""A run of digits with single inner spaces (``3611 0319 6001 0100 17``): an ID typed in groups."""


def mask_text(text: str, limit: int | None = None) -> str:
    """Mask every ID-shaped number inside a free text (messages, log lines, alerts).

    The one redaction function: everything for a wider audience than the extract goes
    through it. Also an ID written with inner spaces (ASCII, tab or the full-width
    U+3000, as partners type them): when a run of digits and single spaces holds
    exactly 15 or 18 characters, all but its first 6 and last 4 are masked. With
    ``limit``, the masked text is cut to that many characters and ``…`` (masked
    first, so a cut never leaves part of an ID unmasked).
    """
    text = ID_NUMBER.sub(lambda m: m.group(1) + "*" * len(m.group(2)) + m.group(3), text)
    text = SPACED_RUN.sub(_mask_spaced, text)
    return text if limit is None or len(text) <= limit else text[:limit] + "…"


def _mask_spaced(m: re.Match[str]) -> str:
    run = m.group(0)
    positions = [i for i, ch in enumerate(run) if not ch.isspace()]
    if len(positions) == len(run) or len(positions) not in (15, 18):
        return run  # no inner space (the plain pattern decided), or not ID-shaped
    hidden = set(positions[6:-4])
    return "".join("*" if i in hidden else ch for i, ch in enumerate(run))


class RedactingFilter(logging.Filter):
    """A logging filter that masks ID numbers in each record's final message."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message with IDs masked; never drop a record."""
        message = record.getMessage()
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def install_redaction(logger: logging.Logger | None = None) -> None:
    """Attach the filter to every handler of ``logger`` (the root logger by default)."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
