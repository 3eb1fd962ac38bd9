"""How pytest-xdist shares the tests between workers.

A worker takes a whole module at a time, so a module's costly fixtures (a local runtime, a
packaged model) are built once, and it takes every stack test, so the CDK app (tens of
seconds of jsii) is synthesized once per run rather than once per worker.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from xdist.scheduler import LoadScopeScheduling

if TYPE_CHECKING:
    from xdist.workermanage import Producer

#: Tests under this folder share one session fixture: the synthesized app.
STACK_TESTS = "tests/stacks/"


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
