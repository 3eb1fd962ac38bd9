"""What the cross-tenant modules share: a token and an HTTP client per tenant of the API the
module's ``runtime`` serves, as ``maas local up`` serves it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx
import pytest

from maas.local.tokens import LocalTokens
from tests.local.support import wait_until

if TYPE_CHECKING:
    from collections.abc import Iterator

    from maas.local import LocalRuntime

TENANTS = ("acme", "globex")


class Tenant:
    """One tenant's HTTP client of the served API."""

    def __init__(self, url: str, token: str) -> None:
        self.http = httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60
        )

    def __call__(self, method: str, path: str, body: Any = None) -> httpx.Response:
        return self.http.request(method, path, json=body)

    def follow(self, accepted: httpx.Response) -> dict[str, Any]:
        """The execution a 202 started, once it has ended."""
        assert accepted.status_code in (200, 202), accepted.text
        location = accepted.headers["location"]

        def ended() -> dict[str, Any] | None:
            execution: dict[str, Any] = self("GET", location).json()
            return execution if execution["status"] != "RUNNING" else None

        result: dict[str, Any] = wait_until(ended, timeout=90, interval=0.2)
        return result


@pytest.fixture(scope="module")
def tenants(
    runtime: LocalRuntime, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Tenant]]:
    """Each tenant's client of the API the module's ``runtime`` serves."""
    tokens = LocalTokens.from_state_dir(tmp_path_factory.mktemp("state"))
    url = runtime.serve_api(0, tokens=tokens)
    clients = {tenant: Tenant(url, tokens.issue(tenant)) for tenant in TENANTS}
    yield clients
    for client in clients.values():
        client.http.close()
