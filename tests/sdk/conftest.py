"""Fixtures for the SDK's and the CLI's tests: the API served over HTTP, and a tenant's token.

The package's modules share one local runtime (it takes seconds to provision) serving the
API on a free port, with tokens signed by a key in a temporary state directory (never the
user's own); each test names its own models and endpoints.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest

from maas.local import LocalRuntime
from maas.local.tokens import LocalTokens
from maas.sdk import MaasClient
from tests.workflows.conftest import FAST

if TYPE_CHECKING:
    from collections.abc import Iterator

#: The tenant the fixtures' token speaks for; tests.workflows.versions registers for it.
TENANT = "acme"


@dataclass(frozen=True)
class ServedApi:
    """The served API: its runtime, URL and a token of :data:`TENANT`."""

    runtime: LocalRuntime
    url: str
    token: str
    tokens: LocalTokens


# Per module, not per package: moto's state is the process's, and a package-scoped runtime
# stopped while the next package's runtime runs on the same worker would reset it.
@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedApi]:
    tokens = LocalTokens.from_state_dir(tmp_path_factory.mktemp("state"))
    with LocalRuntime(FAST) as runtime:
        url = runtime.serve_api(0, tokens=tokens)
        yield ServedApi(runtime, url, tokens.issue(TENANT), tokens)


@pytest.fixture(scope="module")
def maas(served: ServedApi) -> Iterator[MaasClient]:
    with MaasClient(served.url, served.token, timeout=30) as client:
        yield client
