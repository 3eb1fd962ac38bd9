"""Fixtures for the API's tests: the product on the local runtime, and a caller of its API."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from maas.local import LocalRuntime
from tests.api.caller import ApiCaller
from tests.workflows.conftest import FAST

if TYPE_CHECKING:
    from collections.abc import Iterator

#: Two endpoints and three instances per tenant, so that a test reaches the quotas quickly.
QUOTA_SETTINGS = FAST.model_copy(update={"tenant_max_endpoints": 2, "tenant_max_instances": 3})


@pytest.fixture(scope="module")
def runtime() -> Iterator[LocalRuntime]:
    with LocalRuntime(QUOTA_SETTINGS) as local:
        yield local


@pytest.fixture(scope="module")
def api(runtime: LocalRuntime) -> ApiCaller:
    return ApiCaller(runtime)
