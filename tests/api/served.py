"""The API served over HTTP by a local runtime, with a tenant's token: what outside clients see.

The TypeScript SDK's tests and the fuzzer call the API as a client on another machine would,
through :meth:`LocalRuntime.serve_api` (the local API Gateway and Cognito authorizer), not
through a direct Lambda invocation as :mod:`tests.api.caller` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from maas.local.tokens import LocalTokens

if TYPE_CHECKING:
    from pathlib import Path

    from maas.local import LocalRuntime


@dataclass(frozen=True)
class ServedApi:
    """Where the API answers, and a token that it accepts."""

    url: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        """The header that authorizes a request as the token's tenant."""
        return {"Authorization": f"Bearer {self.token}"}


def serve(runtime: LocalRuntime, state_dir: Path, tenant: str = "acme") -> ServedApi:
    """Serve ``runtime``'s API on a free port, signing tokens with a key in ``state_dir``.

    The key is the test's own, so that no test reads or writes the user's state directory.
    """
    tokens = LocalTokens.from_state_dir(state_dir)
    return ServedApi(url=runtime.serve_api(port=0, tokens=tokens), token=tokens.issue(tenant))


def served_as(served: ServedApi, state_dir: Path, tenant: str) -> ServedApi:
    """The API already served, with a token of ``tenant`` signed by the key in ``state_dir``
    (a runtime serves its API once; the modules sharing it each ask as their own tenant)."""
    return ServedApi(url=served.url, token=LocalTokens.from_state_dir(state_dir).issue(tenant))
