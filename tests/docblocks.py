"""The fenced blocks of README.md and docs/*.md, for the tests that run them.

The project's rule is "documented means tested": every command, request and piece of code a
page shows runs in a test, and a newcomer copying it gets what the page shows. This module is
the one place that reads the pages' blocks:

- :func:`page_blocks` lists a page's fenced blocks, each with its opening fence's line;
  :attr:`Block.examples` splits a ``console`` block into its ``$`` commands, each with the
  lines the page shows after it (its answer).
- :func:`runs` is how a test module picks the blocks it runs: it returns them and records
  them as run. ``tests/test_docs_blocks_run.py`` imports every test module that uses this
  module and fails, naming ``file:line``, for any code block no test picked.
- A block that truly cannot run here (a deploy to a real AWS account) carries the marker
  ``<!-- not run by the tests: <reason> -->`` on the line just above its fence; the reason
  is required, and the guard keeps the list of such blocks in view.
"""

from __future__ import annotations

import functools
import re
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

ROOT = Path(__file__).resolve().parents[1]
#: The pages whose blocks must run: the README and every page of docs/.
PAGES = ("README.md", *sorted(f"docs/{page.name}" for page in (ROOT / "docs").glob("*.md")))
#: The info strings of blocks that are commands, requests or code (the others show data,
#: configuration or output: ``json``, ``toml``, ``text`` and unlabelled blocks).
CODE = frozenset(
    {"console", "bash", "sh", "shell", "python", "ts", "typescript", "js", "javascript"}
)
NOT_RUN = re.compile(r"^<!-- not run by the tests:(?P<reason>.*)-->\s*$")
_FENCE = re.compile(r"^(?P<indent>\s*)```(?P<info>[^`\s]*)\s*$")

#: ``(page, line)`` of every block a test module picked with :func:`runs`.
RUN: dict[tuple[str, int], str] = {}


@dataclass(frozen=True)
class Example:
    """A command of a ``console`` block and the answer the page shows after it (maybe none)."""

    line: int
    command: str
    shown: str

    @property
    def program(self) -> str:
        return self.command.split(maxsplit=1)[0]


@dataclass(frozen=True)
class Block:
    """A fenced block: its page (relative to the repository), opening line, info and text."""

    page: str
    line: int
    info: str
    text: str
    #: The reason given by a ``not run by the tests`` marker above the fence, if any.
    not_run: str | None = None

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"

    @property
    def is_code(self) -> bool:
        """A command, request or code (a block whose first line is a prompt counts too)."""
        first = self.text.lstrip().splitlines()[0] if self.text.strip() else ""
        return self.info in CODE or first.startswith("$ ")

    @property
    def examples(self) -> list[Example]:
        """The block's ``$`` commands (a command goes on over ``\\`` or an open quote)."""
        lines = self.text.splitlines()
        examples: list[Example] = []
        index = 0
        while index < len(lines):
            if not lines[index].startswith("$ "):
                index += 1
                continue
            start, command = index, lines[index][2:]
            while _incomplete(command) and index + 1 < len(lines):
                index += 1
                command = f"{command}\n{lines[index]}"
            index += 1
            shown = []
            while index < len(lines) and not lines[index].startswith("$ "):
                shown.append(lines[index])
                index += 1
            examples.append(Example(self.line + 1 + start, command, "\n".join(shown)))
        return examples


def _incomplete(command: str) -> bool:
    if command.endswith("\\"):
        return True
    try:
        shlex.split(command, comments=True)
    except ValueError:  # an open quote: the command goes on
        return True
    return False


@functools.cache
def page_blocks(page: str) -> tuple[Block, ...]:
    """Every fenced block of ``page`` (``"docs/api.md"``), in order."""
    lines = (ROOT / page).read_text().splitlines()
    blocks: list[Block] = []
    index = 0
    while index < len(lines):
        opened = _FENCE.match(lines[index])
        if opened is None:
            index += 1
            continue
        start, indent = index, len(opened["indent"])
        body: list[str] = []
        index += 1
        while index < len(lines) and lines[index].strip() != "```":
            body.append(lines[index][indent:] if lines[index][:indent].isspace() else lines[index])
            index += 1
        marker = NOT_RUN.match(lines[start - 1].strip()) if start else None
        reason = marker["reason"].strip() if marker else None
        blocks.append(Block(page, start + 1, opened["info"], "\n".join(body), reason))
        index += 1
    return tuple(blocks)


def runs(
    page: str,
    info: str | None = None,
    where: Callable[[Block], bool] | None = None,
) -> list[Block]:
    """The blocks of ``page`` a test runs (of that ``info``, for which ``where`` holds).

    They are recorded as run by the calling module. Picking none is an error: the page
    changed under the test.
    """
    by = sys._getframe(1).f_globals.get("__name__", "?")
    chosen = [
        block
        for block in page_blocks(page)
        if (info is None or block.info == info) and (where is None or where(block))
    ]
    if not chosen:
        raise LookupError(f"{page}: no {info or ''} block for {by}")
    for block in chosen:
        RUN[(block.page, block.line)] = by
    return chosen


def containing(*parts: str) -> Callable[[Block], bool]:
    """A ``where`` for :func:`runs`: the block's text holds every one of ``parts``."""
    return lambda block: all(part in block.text for part in parts)
