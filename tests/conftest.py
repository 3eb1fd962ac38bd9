"""How pytest-xdist shares the tests between workers.

A worker takes a whole module at a time, so a module's costly fixtures (a local runtime, a
packaged model) are built once, and it takes every stack test, so the CDK app (tens of
seconds of jsii) is synthesized once per run rather than once per worker.

The longest units start first. By default xdist orders scopes by how many tests they hold,
which sends a module of one long test (the demo's lifecycle, end to end) last, where the
whole run then waits for it. Here the collection is ordered with the end-to-end test, the
stack tests and the workflow modules first, and xdist hands scopes out in that order
(``--no-loadscope-reorder``, set below), so the many short modules fill in around them.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest
from xdist.scheduler import LoadScopeScheduling

from maas.local.tokens import STATE_DIR_VARIABLE

if TYPE_CHECKING:
    from collections.abc import Iterator

    from xdist.workermanage import Producer

#: Tests under this folder share one session fixture: the synthesized app.
STACK_TESTS = "tests/stacks/"
#: Folders whose modules take longest, longest first; every other module comes after them.
LONGEST_FIRST = ("tests/e2e/", STACK_TESTS, "tests/workflows/")


class ModulesAndStacksTogether(LoadScopeScheduling):
    """Load-scope scheduling whose scope is the module, or all the stack tests together."""

    def _split_scope(self, nodeid: str) -> str:
        if nodeid.startswith(STACK_TESTS):
            return STACK_TESTS
        return super()._split_scope(nodeid)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Producer) -> LoadScopeScheduling:
    """Schedule by module, keeping the stack tests on one worker."""
    return ModulesAndStacksTogether(config, log)


@pytest.fixture(scope="session", autouse=True)
def _private_state_directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The local runtime's state directory (its token key, a kept account) is the run's own:
    no test reads or writes the user's, and every ``maas`` process a test starts inherits it."""
    previous = os.environ.get(STATE_DIR_VARIABLE)
    os.environ[STATE_DIR_VARIABLE] = str(tmp_path_factory.mktemp("maas-state"))
    yield
    if previous is None:
        del os.environ[STATE_DIR_VARIABLE]
    else:
        os.environ[STATE_DIR_VARIABLE] = previous


def pytest_configure(config: pytest.Config) -> None:
    """Hand scopes out in collection order (see the module's docstring)."""
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The long folders' tests first; the order within each stays as collected."""
    items.sort(key=lambda item: start_rank(item.nodeid))


def start_rank(nodeid: str) -> int:
    """A test's place: its folder's in :data:`LONGEST_FIRST`, else after them all.

    >>> [start_rank(n) for n in ("tests/e2e/test_demo.py::t", "tests/unit/test_x.py::t")]
    [0, 3]
    """
    return next(
        (rank for rank, folder in enumerate(LONGEST_FIRST) if nodeid.startswith(folder)),
        len(LONGEST_FIRST),
    )
