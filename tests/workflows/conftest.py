"""Fixtures for workflow tests: the product provisioned on the local runtime."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from maas.events import read_event_log
from maas.executions import ExecutionSnapshot, wait_for_execution
from maas.local import LocalRuntime, LocalSettings
from tests.factories import deployment_request

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

#: Endpoints come into service after one status check or two: the Wait loop really runs.
#: The workflows deploy placeholder artifacts (``upload_artifact``): no model is served.
#: Alarms are evaluated when a test says so (``runtime.cloudwatch.evaluate(now=...)``), never
#: by the minute timer behind its back.
FAST = LocalSettings(
    endpoint_create_seconds=1.0,
    endpoint_delete_seconds=0.5,
    endpoint_poll_seconds=1,
    serve_models=False,
    alarm_evaluation_seconds=24 * 3600,
)


@pytest.fixture(scope="module")
def runtime() -> Iterator[LocalRuntime]:
    with LocalRuntime(FAST) as local:
        yield local


def run(runtime: LocalRuntime, state_machine: str, document: dict[str, Any]) -> ExecutionSnapshot:
    """Start the workflow on ``document`` and wait until it stops."""
    arn = runtime.start_execution(state_machine, json.dumps(document))
    return wait_for_execution(runtime.client("stepfunctions"), arn, timeout_seconds=60)


def upload_artifact(runtime: LocalRuntime, request: dict[str, Any]) -> None:
    """Put an object under the request's model data prefix, as packaging would."""
    bucket, _, key = request["model"]["model_data_url"].removeprefix("s3://").partition("/")
    runtime.client("s3").put_object(Bucket=bucket, Key=f"{key}serving.properties", Body=b"x=1\n")


@pytest.fixture
def deploy(runtime: LocalRuntime) -> Callable[..., ExecutionSnapshot]:
    """Deploy a request built from ``deployment_request(**overrides)`` with its artifact."""

    def deploy_request(**overrides: Any) -> ExecutionSnapshot:
        request = deployment_request(**overrides)
        upload_artifact(runtime, request)
        return run(runtime, "DeployEndpoint", request)

    return deploy_request


def published(runtime: LocalRuntime, detail_type: str, endpoint_name: str) -> list[dict[str, Any]]:
    """Events of ``detail_type`` about ``endpoint_name`` that reached the event log."""
    events = read_event_log(runtime.client("logs"), runtime.resources.log_groups["EventLog"])
    return [
        event
        for event in events
        if event["detail-type"] == detail_type and event["detail"]["endpoint_name"] == endpoint_name
    ]


def record(runtime: LocalRuntime, tenant_id: str, endpoint_name: str) -> dict[str, Any] | None:
    """The endpoint's registry item, as stored."""
    item = runtime.client("dynamodb").get_item(
        TableName=runtime.resources.tables["EndpointsTable"],
        Key={"pk": {"S": f"TENANT#{tenant_id}"}, "sk": {"S": f"ENDPOINT#{endpoint_name}"}},
    )
    return item.get("Item")


def events_of(runtime: LocalRuntime, detail_type: str, correlation_id: str) -> list[dict[str, Any]]:
    """Details of ``detail_type`` events that the execution ``correlation_id`` published."""
    log = read_event_log(runtime.client("logs"), runtime.resources.log_groups["EventLog"])
    return [
        event["detail"]
        for event in log
        if event["detail-type"] == detail_type
        and event["detail"]["correlation_id"] == correlation_id
    ]
