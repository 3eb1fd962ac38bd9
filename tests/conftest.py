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
import sys
from typing import TYPE_CHECKING

import pytest
from xdist.scheduler import LoadScopeScheduling

from maas.local.tokens import STATE_DIR_VARIABLE

# The converted demo model, one per run (tests.fixtures.models), and the serving fixtures, one
# of each per worker (a module importing one would get its own).
from tests.fixtures.models import converted_smollm2, model_cache  # noqa: F401 - fixtures
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

#: Compute threads of torch (OpenMP) in a test process, set before anything imports torch
#: (nothing above does; :func:`pytest_configure` covers a plugin that would have).
#: The run's workers share two cores with each other and with lint: an OpenMP team of one
#: thread per core spins waiting for its other half, which is busy elsewhere. The local judge's
#: module took 95 s of CPU with the default team and 26 s with one thread (127 s and 27 s of
#: wall time), on the same busy machine. Processes
#: the tests start (model servers, jobs, ``maas`` commands) inherit it; a value the caller set
#: is kept.
COMPUTE_THREADS = os.environ.setdefault("OMP_NUM_THREADS", "1")

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
#: cores (seconds of one worker: the stack tests 150 together, the served-model modules 130,
#: ``maas local up`` restarts 115, the demo 100; the local judge 25 s of CPU and the
#: quantization 12 since torch computes on one thread, see :data:`COMPUTE_THREADS`). The judge
#: comes before the other users of ``converted_smollm2`` (the demo, the quantization): on a
#: fresh checkout its worker converts the demo model for the run (20 s of CPU) while the
#: others start theirs; every other module comes after them, in collection order.
LONGEST_FIRST = (
    STACK_TESTS,
    *SERVED_MODULES,
    "tests/unit/evaluation/test_judges.py",
    "tests/e2e/",
    "tests/local/test_local_persistence.py",
    "tests/local/test_conformance_local_up.py",
    "tests/unit/quantization/test_quantize.py",
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


@pytest.fixture(scope="session", autouse=True)
def _run_model_cache(request: pytest.FixtureRequest) -> None:
    """Converted models are the run's (``$MAAS_MODEL_CACHE``, ``model_cache``): the judge,
    the demo's packaging and ``converted_smollm2`` share one conversion of the demo model,
    and no test reads or fills the user's cache."""
    request.getfixturevalue("model_cache")


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
    """Hand scopes out in collection order (see the module's docstring); hold torch to
    :data:`COMPUTE_THREADS` even where a plugin imported it before this file was read."""
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(int(COMPUTE_THREADS))


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
