"""How pytest-xdist shares the tests between workers.

A worker takes a whole module at a time, so a module's costly fixtures (a local runtime, a
packaged model) are built once; it takes every stack test, so the CDK app (tens of seconds
of jsii) is synthesized once per run rather than once per worker; and it takes every module
that deploys the tiny model on the shared model-serving runtime (:data:`SERVED_MODULES`),
so that runtime, and what its functions keep loaded, are started once.

The longest units start first. By default xdist orders scopes by how many tests they hold,
which sends a module of one long test (the demo's lifecycle, end to end) last, where the
whole run then waits for it. Here the collection is ordered with the units measured longest
first (:data:`LONGEST_FIRST`), and xdist hands scopes out in that order
(``--no-loadscope-reorder``, set below), so the many short modules fill in around them.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest
from xdist.scheduler import LoadScopeScheduling

from maas.local.tokens import STATE_DIR_VARIABLE

# The serving fixtures, one of each per worker (a module importing one would get its own).
from tests.serving_models import (  # noqa: F401 - fixtures
    serving_api,
    serving_runtime,
    serving_state_dir,
    stop_serving,
    tiny_model_dir,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from xdist.workermanage import Producer

#: Tests under this folder share one session fixture: the synthesized app.
STACK_TESTS = "tests/stacks/"
#: Modules that share one session fixture, the model-serving runtime
#: (:func:`tests.serving_models.serving_runtime`), each with its own endpoint.
SERVED_MODULES = (
    "tests/workflows/test_evaluate.py",
    "tests/api/test_api_openai.py",
    "tests/api/test_api_invoke.py",
    "tests/api/test_api_docs.py",
)
#: The scope that holds them all.
SERVED_TOGETHER = "served-model modules"
#: The units that take longest, longest first, as measured with ``--durations`` on two busy
#: cores (seconds of one worker: the local judge 230, the stack tests 150 together, the
#: served-model modules 130, the demo 100, ``maas local up`` restarts 115, the GGUF
#: conversion 90); every other module comes after them, in collection order.
LONGEST_FIRST = (
    "tests/unit/evaluation/test_judges.py",
    STACK_TESTS,
    *SERVED_MODULES,
    "tests/e2e/",
    "tests/local/test_local_persistence.py",
    "tests/unit/packaging/test_gguf_conversion.py",
    "tests/local/test_conformance_local_up.py",
    "tests/workflows/",
)


class ModulesAndStacksTogether(LoadScopeScheduling):
    """Load-scope scheduling whose scope is the module, all the stack tests together, or all
    the served-model modules together."""

    def _split_scope(self, nodeid: str) -> str:
        return shared_scope(nodeid) or super()._split_scope(nodeid)


def shared_scope(nodeid: str) -> str | None:
    """The scope of a test whose module shares a session fixture with others, else None.

    >>> shared_scope("tests/stacks/test_api_stack.py::t"), shared_scope("tests/unit/x.py::t")
    ('tests/stacks/', None)
    >>> shared_scope("tests/api/test_api_docs.py::t")
    'served-model modules'
    """
    if nodeid.startswith(STACK_TESTS):
        return STACK_TESTS
    if nodeid.split("::", 1)[0] in SERVED_MODULES:
        return SERVED_TOGETHER
    return None


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


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Stop the shared model-serving runtime after the last test that uses it (after the
    modules' own teardown): a process runs one local runtime at a time, and the next
    module starts its own."""
    if uses_serving(item) and (nextitem is None or not uses_serving(nextitem)):
        stop_serving()


def pytest_sessionfinish() -> None:
    """Stop it also when the run ends early (``-x``, Ctrl-C)."""
    stop_serving()


def uses_serving(item: pytest.Item) -> bool:
    """Whether ``item`` needs the shared model-serving runtime, directly or not."""
    return "serving_runtime" in getattr(item, "fixturenames", ())


def pytest_configure(config: pytest.Config) -> None:
    """Hand scopes out in collection order (see the module's docstring)."""
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The long units' tests first; the order within each stays as collected."""
    items.sort(key=lambda item: start_rank(item.nodeid))


def start_rank(nodeid: str) -> int:
    """A test's place: its unit's in :data:`LONGEST_FIRST`, else after them all.

    >>> [start_rank(n) for n in ("tests/e2e/test_demo.py::t", "tests/unit/test_x.py::t")]
    [6, 11]
    """
    return next(
        (rank for rank, folder in enumerate(LONGEST_FIRST) if nodeid.startswith(folder)),
        len(LONGEST_FIRST),
    )
