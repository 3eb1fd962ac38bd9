"""Documented means tested: every command, request and code block of the pages runs in a test.

Every test module that reads the pages does so through :mod:`tests.docblocks`, whose
:func:`~tests.docblocks.runs` records the blocks it picks. This module imports each of them
and fails, naming ``file:line``, for a block of README.md or docs/*.md that is a command,
request or code (``console``, ``bash``, ``python``, ``ts``, ...) that no test picked and that
is not marked ``<!-- not run by the tests: <reason> -->`` with a reason.
"""

from __future__ import annotations

import importlib

import pytest

from tests.docblocks import PAGES, ROOT, RUN, Block, page_blocks

GUARD = __name__


def _doc_test_modules() -> list[str]:
    """Every test module (but this one) that picks blocks with ``tests.docblocks``."""
    modules = []
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        if name != GUARD and "tests.docblocks import" in path.read_text():
            modules.append(name)
    return modules


@pytest.fixture(scope="module")
def run() -> dict[tuple[str, int], str]:
    for module in _doc_test_modules():
        importlib.import_module(module)
    return RUN


def test_every_code_block_of_the_pages_runs_in_a_test(run: dict[tuple[str, int], str]) -> None:
    missing = [
        block.where
        for page in PAGES
        for block in page_blocks(page)
        if block.is_code and block.not_run is None and (block.page, block.line) not in run
    ]
    assert not missing, "blocks no test runs (run them, or mark why they cannot run): " + ", ".join(
        missing
    )


def test_a_block_marked_not_run_says_why_and_is_not_run(run: dict[tuple[str, int], str]) -> None:
    marked = [block for page in PAGES for block in page_blocks(page) if block.not_run is not None]
    assert [block.where for block in marked if not block.not_run] == []
    assert [block.where for block in marked if (block.page, block.line) in run] == []


def test_the_blocks_marked_not_run_stay_few() -> None:
    # The pages' commands that need what a test cannot have (an AWS account, the test suite
    # itself); each new one is a decision, made here on purpose.
    marked = [block.where for page in PAGES for block in page_blocks(page) if block.not_run]
    assert len(marked) <= 8, marked


def test_a_prompt_in_a_block_labelled_as_data_counts_as_a_command() -> None:
    assert Block("x.md", 1, "", "$ maas models list\n").is_code
    assert Block("x.md", 1, "text", "  maas-serving   ███\n").is_code is False
    assert Block("x.md", 1, "bash", "make synth\n").is_code
