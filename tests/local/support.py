"""Helpers for the local runtime's tests (the fixtures are in ``conftest.py``)."""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from maas.local import LocalRuntime

#: Where the handlers of :mod:`tests.local.handlers` are, as a function's ``Handler``.
HANDLERS = "tests.local.handlers"


def unique(prefix: str) -> str:
    """A name no other test uses: ``prefix`` and a random suffix."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def wait_until(probe: Callable[[], Any], timeout: float = 10, interval: float = 0.05) -> Any:
    """Poll ``probe`` until it returns something truthy, and return that."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing after {timeout}s from {probe}")
        time.sleep(interval)


def placeholder_endpoint_config(runtime: LocalRuntime) -> str:
    """An endpoint configuration of a placeholder model (no model is served), to create
    endpoints from."""
    sagemaker = runtime.client("sagemaker")
    model, config = unique("model"), unique("config")
    sagemaker.create_model(
        ModelName=model,
        ExecutionRoleArn=runtime.resources.roles["SageMakerExecutionRole"],
        PrimaryContainer={"Image": "image:latest"},
    )
    sagemaker.create_endpoint_config(
        EndpointConfigName=config,
        ProductionVariants=[
            {
                "VariantName": "AllTraffic",
                "ModelName": model,
                "InstanceType": "ml.g5.xlarge",
                "InitialInstanceCount": 1,
            }
        ],
    )
    return config
