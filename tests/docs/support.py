"""Running a page's blocks as a reader would: commands in ``bash`` from the repository's
folder, code with the values the page shows beside it checked."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.docblocks import ROOT

if TYPE_CHECKING:
    from tests.docblocks import Block

#: The project's own programs (``maas``, ``python``) first on the ``PATH``, as after
#: ``source .venv/bin/activate``.
BIN = Path(sys.executable).parent


def environment(**extra: str) -> dict[str, str]:
    """This process's environment with the project's programs first and wide rich tables."""
    path = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    return {**os.environ, "PATH": path, "COLUMNS": "200", **extra}


def bash(
    script: str,
    *,
    cwd: Path = ROOT,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    where: str = "",
) -> str:
    """Run ``script`` with ``set -e``; its standard output (it must exit 0)."""
    ran = subprocess.run(
        ["bash", "-c", f"set -e\n{script}"],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env or environment(),
        timeout=timeout,
        check=False,
    )
    assert ran.returncode == 0, f"{where}: exit {ran.returncode}\n{ran.stderr[-3000:]}"
    return ran.stdout


def shown_values(block: Block) -> list[tuple[str, Any]]:
    """Each ``expression  # value`` line of a code block whose comment is a Python literal:
    the value the page says the expression has."""
    shown = []
    for line in block.text.splitlines():
        code, hash_, comment = line.partition("  # ")
        if not hash_ or not code.strip() or code.strip().startswith("#"):
            continue
        try:
            value = ast.literal_eval(comment.strip())
            ast.parse(code.strip(), mode="eval")
        except (ValueError, SyntaxError):
            continue  # a comment in words, or a statement
        shown.append((code.strip(), value))
    return shown


def run_code(block: Block, scope: dict[str, Any] | None = None) -> dict[str, Any]:
    """Execute a ``python`` block; every value it shows must be what its expression gives."""
    scope = {} if scope is None else scope
    exec(compile(block.text, block.where, "exec"), scope)  # the page's own code
    for expression, value in shown_values(block):
        found = eval(expression, scope)  # an expression the page shows
        assert found == value, f"{block.where}: {expression} is {found!r}, the page says {value!r}"
    return scope
