"""The commands the operator documentation tells people to type, read from the Markdown itself.

``tests/integration/test_runbook.py`` and ``test_demo_ui.py`` run these very strings, so a
command edited in the docs is the command the tests run, and a command added to the docs
without a test fails ``test_every_documented_command_is_run_by_a_test``.

What counts as a command:

* every line of a fenced ```` ```bash ```` block (continuation lines joined, ``#`` comments
  and blank lines dropped) — in ``docs/runbook.md``, and in ``README.md`` every block but
  the first (the top's ``make demo`` / ``make test``, which ``make test`` itself runs);
* every inline code span that reads as a command (:data:`COMMAND`: a command word, then a
  subcommand or option, e.g. `` `airflow dags list-runs daily_report` ``, not
  `` `safetynet.yaml` ``) — in the whole runbook, and in README's "Operations" and "The
  command line" sections.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RUNBOOK = REPO / "docs" / "runbook.md"
README = REPO / "README.md"
README_SECTIONS = ("Operations", "The command line")
COMMAND = re.compile(
    r"^(?:airflow|safetynet|ssh-keygen|docker|cut|export|\.venv/bin/\S+|PATH=\S+)\s+[^\s:]+(?:\s|$)")
"""A command word followed by a word that is not a label (``safetynet failure: …`` is a log line)."""

_FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>[\w-]*)[ \t]*$")
_INLINE = re.compile(r"`([^`\n]+)`")


@dataclass(frozen=True)
class Documented:
    """One documented command: its text, the file and the line it starts on, fenced or inline."""

    command: str
    path: Path
    line: int
    fenced: bool

    def where(self) -> str:
        """``docs/runbook.md:123`` for messages."""
        return f"{self.path.relative_to(REPO)}:{self.line}"


def _strip_comment(line: str) -> str:
    """A shell line without its trailing ``# comment`` (a ``#`` inside quotes is kept)."""
    quote = ""
    for i, char in enumerate(line):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (i == 0 or line[i - 1].isspace()):
            return line[:i].rstrip()
    return line.rstrip()


def fenced_commands(path: Path, *, lang: str = "bash", skip_blocks: int = 0) -> list[Documented]:
    """Every command line of the ``lang`` blocks of ``path`` (after the first ``skip_blocks``)."""
    found: list[Documented] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    block: str | None = None
    seen = 0
    pending, start = "", 0
    for number, raw in enumerate(lines, start=1):
        fence = _FENCE.match(raw)
        if fence and block is None:
            block = fence["lang"]
            seen += block == lang
            continue
        if fence:
            block = None
            continue
        if block != lang or seen <= skip_blocks:
            continue
        text = _strip_comment(raw.strip())
        if not text and not pending:
            continue
        if not pending:
            start = number
        if text.endswith("\\"):
            pending += text[:-1].strip() + " "
            continue
        command = (pending + text).strip()
        pending = ""
        if command:
            found.append(Documented(command, path, start, fenced=True))
    return found


def _sections(text: str) -> dict[str, tuple[int, str]]:
    """``## Title`` → (first line number, body) of a Markdown file."""
    parts: dict[str, tuple[int, str]] = {}
    title, first, body = "", 1, []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("## "):
            parts[title] = (first, "\n".join(body))
            title, first, body = line[3:].strip(), number, []
        else:
            body.append(line)
    parts[title] = (first, "\n".join(body))
    return parts


def inline_commands(path: Path, sections: tuple[str, ...] | None = None) -> list[Documented]:
    """Inline code spans outside fences that start with a command word (optionally per section)."""
    found: list[Documented] = []
    for title, (first, body) in _sections(path.read_text(encoding="utf-8")).items():
        if sections is not None and title not in sections:
            continue
        in_fence = False
        for offset, line in enumerate(body.splitlines(), start=1):
            if _FENCE.match(line):
                in_fence = not in_fence
                continue
            if in_fence:
                continue
            for span in _INLINE.findall(line):
                if COMMAND.match(span):
                    found.append(Documented(span.strip(), path, first + offset, fenced=False))
    return found


def documented_commands() -> list[Documented]:
    """Every command of the runbook and of README's operations and command-line parts."""
    return [
        *fenced_commands(RUNBOOK),
        *inline_commands(RUNBOOK),
        *fenced_commands(README, skip_blocks=1),
        *inline_commands(README, README_SECTIONS),
    ]


def abbreviation_matches(abbreviated: str, command: str) -> bool:
    """Whether ``airflow backfill create … --max-active-runs 1`` abbreviates ``command``.

    The parts between the ``…`` must appear in ``command`` in that order, the first at its
    start (an abbreviation names a command by its beginning and some of its options).
    """
    parts = [p.strip() for p in abbreviated.split("…")]
    pattern = ".*".join(re.escape(p) for p in parts if p)
    return re.match(pattern, command) is not None


def readme_ui_block() -> list[str]:
    """The README's commands that open the Airflow UI on the demo (the block after "To look at the runs")."""
    text = README.read_text(encoding="utf-8")
    after = text[text.index("To look at the runs in the Airflow UI"):]
    block = after[after.index("```bash") + len("```bash"):]
    block = block[: block.index("```")]
    return [c for c in (_strip_comment(line.strip()) for line in block.splitlines()) if c]
