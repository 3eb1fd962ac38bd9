"""Fixtures for the local runtime's tests: one runtime per module, and builders on it.

Only one :class:`LocalRuntime` runs per process (moto's state is global), so each test
module shares one; tests keep out of each other's way by naming what they create with
:func:`unique`. A module that needs other settings or the whole product overrides the
``settings`` or ``manifest`` fixture.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import TYPE_CHECKING, Any

import pytest

from maas.executions import wait_for_execution
from maas.local import LocalRuntime, LocalSettings
from maas.local.awslambda import LocalFunction
from maas.manifest import MANIFEST, Manifest
from tests.local.support import HANDLERS, unique

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

    from maas.executions import ExecutionSnapshot

#: No execution input given: the execution starts on ``{}``.
_EMPTY: Any = object()


def _package() -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as package:
        package.writestr("README.txt", "Runs from the local checkout.\n")
    return archive.getvalue()


@pytest.fixture(scope="module")
def settings() -> LocalSettings:
    """The runtime's settings: endpoints that take a moment, not seconds.

    Endpoints are deployed from placeholder artifacts, so no model is served; the inference
    tests turn ``serve_models`` back on.
    """
    return LocalSettings(
        endpoint_create_seconds=0.3,
        endpoint_delete_seconds=0.2,
        endpoint_poll_seconds=1,
        serve_models=False,
    )


@pytest.fixture(scope="module")
def manifest() -> Manifest:
    """The product's manifest without its functions, workflows and rules.

    The runtime still provisions its roles, bucket, table and bus; each test brings the
    functions and state machines it is about. Provisioning fewer resources also starts the
    runtime in a fraction of the time.
    """
    return MANIFEST.model_copy(update={"functions": (), "state_machines": (), "rules": ()})


@pytest.fixture(scope="module")
def runtime(settings: LocalSettings, manifest: Manifest) -> Iterator[LocalRuntime]:
    """The local runtime, up for the whole module."""
    with LocalRuntime(settings, manifest) as running:
        yield running


@pytest.fixture(scope="module")
def deploy_function(runtime: LocalRuntime) -> Callable[..., LocalFunction]:
    """Create a function in the emulated Lambda and serve it from ``tests.local.handlers``.

    ``deploy_function("echo", environment={...}, timeout=3)`` returns the
    :class:`LocalFunction`; its name is unique to the call. ``role`` names the runtime's
    role it runs as (``PlanTeardownFunctionRole``: that function's, where the module's
    manifest holds it).
    """
    code = _package()

    def deploy(
        handler: str,
        *,
        environment: Mapping[str, str] | None = None,
        timeout: int = 5,
        role: str = "FunctionRole",
    ) -> LocalFunction:
        name = unique(handler.replace("_", "-"))
        variables = dict(environment or {})
        created = runtime.client("lambda").create_function(
            FunctionName=name,
            Runtime="python3.12",
            Role=runtime.resources.roles[role],
            Handler=f"{HANDLERS}.{handler}",
            Code={"ZipFile": code},
            Timeout=timeout,
            MemorySize=128,
            Environment={"Variables": variables},
        )
        function = LocalFunction(
            name=name,
            handler=f"{HANDLERS}.{handler}",
            environment=variables,
            timeout_seconds=timeout,
            memory_mb=128,
            arn=created["FunctionArn"],
            role_arn=runtime.resources.roles[role],
        )
        runtime.lambda_.register(function)
        return function

    return deploy


@pytest.fixture(scope="module")
def create_state_machine(runtime: LocalRuntime) -> Callable[[dict[str, Any]], str]:
    """Create a Standard state machine from an ASL document; return its ARN."""

    def create(definition: dict[str, Any]) -> str:
        created = runtime.client("stepfunctions").create_state_machine(
            name=unique("machine"),
            definition=json.dumps(definition),
            roleArn=runtime.resources.roles["StateMachineRole"],
            type="STANDARD",
        )
        return str(created["stateMachineArn"])

    return create


@pytest.fixture(scope="module")
def run_execution(runtime: LocalRuntime) -> Callable[..., ExecutionSnapshot]:
    """Start an execution of a state machine and wait until it stops."""

    def run(state_machine_arn: str, execution_input: Any = _EMPTY) -> ExecutionSnapshot:
        stepfunctions = runtime.client("stepfunctions")
        started = stepfunctions.start_execution(
            stateMachineArn=state_machine_arn,
            input=json.dumps({} if execution_input is _EMPTY else execution_input),
        )
        return wait_for_execution(
            stepfunctions, started["executionArn"], timeout_seconds=20, poll_seconds=0.05
        )

    return run


@pytest.fixture(scope="module")
def log_messages(runtime: LocalRuntime) -> Callable[[str], list[str]]:
    """Every message in a CloudWatch Logs group so far (none if it does not exist yet)."""

    def read(log_group: str) -> list[str]:
        logs = runtime.client("logs")
        pages = logs.get_paginator("filter_log_events").paginate(logGroupName=log_group)
        try:
            return [event["message"] for page in pages for event in page["events"]]
        except logs.exceptions.ResourceNotFoundException:
            return []

    return read
