# Most fixtures are test_api_openai's, imported: tests name them as parameters.
# ruff: noqa: F811
"""The official ``openai`` npm package chats, completes and streams against ``/openai/v1``.

sdk/typescript/test/openai.test.ts runs in Node (``node:test``) against the API served by a
local runtime over HTTP (the local API Gateway, its ``STREAM`` integration for the
generation routes), whose endpoint serves the tiny model on the local model server. The
runtime is the one the served-model modules share; this module asks as a tenant of its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.api.caller import deploy_in_service
from tests.api.served import served_as
from tests.api.test_api_openai import (  # noqa: F401 - fixtures
    _warm_guardrail,
    api,
    runtime,
    state_dir,
)
from tests.sdk_typescript.test_typescript_sdk import (  # noqa: F401 - a fixture
    NODE,
    NPM,
    _environment,
    _run,
    installed,
)
from tests.workflows.versions import register_served_version

if TYPE_CHECKING:
    from pathlib import Path

    from maas.local import LocalRuntime
    from tests.api.caller import ApiCaller
    from tests.api.served import ServedApi

pytestmark = pytest.mark.skipif(
    NODE is None or NPM is None,
    reason="node and npm are needed (the cdk extra installs them: `make setup`)",
)

#: This module's own tenant, endpoint and model.
TENANT = "hooli"
ENDPOINT = "npm-chat"
MODEL = "tiny-npm"


@pytest.fixture(scope="module")
def http_api(serving_api: ServedApi, state_dir: Path) -> ServedApi:
    return served_as(serving_api, state_dir, TENANT)


@pytest.fixture(scope="module")
def served(runtime: LocalRuntime, api: ApiCaller, tiny_model_dir: Path) -> str:
    """The tenant's endpoint in service with the tiny model."""
    register_served_version(runtime, MODEL, tiny_model_dir, tenant_id=TENANT)
    deploy_in_service(api, ENDPOINT, MODEL, 1, lambda: _warm_guardrail(runtime), tenant=TENANT)
    return ENDPOINT


def test_the_openai_package_chats_completes_and_streams(
    installed: None, http_api: ServedApi, served: str
) -> None:
    output = _run(
        str(NODE),
        "--test",
        "--test-reporter=tap",
        "test/openai.test.ts",
        env=_environment(MAAS_API_URL=http_api.url, MAAS_TOKEN=http_api.token, MAAS_MODEL=served),
        timeout=300,
    )

    # Every test of the file ran, and none failed.
    assert "\n# pass 5\n" in output, output
    assert "\n# fail 0\n" in output, output
