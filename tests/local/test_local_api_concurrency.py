"""2,000 concurrent requests from 50 clients, each a tenant of its own: every answer is its
own request's, and none is a 5xx (issue 17).

Before: at 50 clients the local API answered 3.8% of 2,000 GETs with 502 and once answered
one request with another's data. The product's API function runs in a sandbox per
concurrent invocation (module state is never shared, as on AWS), at most
:data:`maas.local.awslambda.MAX_SANDBOXES` of them: past that, more sandboxes only added
cold starts, one at a time, that queued requests past the function's timeout. And a cold
start set the API package's modules aside while other sandboxes served: one that built a
generic model on its first request then found no module by that name and answered 500
(now a cold start and the package's invocations exclude each other).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from maas.local.awslambda import MAX_SANDBOXES
from maas.local.tokens import LocalTokens
from maas.manifest import MANIFEST, Manifest
from tests.local.api_load import create_sessions, run_clients, tenant_names

if TYPE_CHECKING:
    from maas.local import LocalRuntime

CLIENTS = 50
REQUESTS = 2000


@pytest.fixture(scope="module")
def manifest() -> Manifest:
    """The whole product: the API function and its tables."""
    return MANIFEST


def test_2000_concurrent_requests_of_50_tenants_each_get_their_own_answer(
    runtime: LocalRuntime, tmp_path_factory: pytest.TempPathFactory
) -> None:
    tokens = LocalTokens.from_state_dir(tmp_path_factory.mktemp("state"))
    url = runtime.serve_api(tokens=tokens)
    tenants = tenant_names(CLIENTS)
    create_sessions(url, tokens, tenants)

    result = run_clients(url, tokens, tenants, REQUESTS // CLIENTS)

    assert result.requests == REQUESTS
    assert result.server_errors == 0, result.wrong[:5]
    assert result.wrong == []
    assert result.right == REQUESTS
    api = runtime.resources.functions["Api"].rsplit(":", 1)[1]
    assert runtime.lambda_._sandboxes_made[api] <= MAX_SANDBOXES
