"""The scheduled reconciler on the local runtime: drift repaired and announced per tenant."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

from maas.events import read_event_log
from maas.naming import sagemaker_endpoint_name
from schemas import EndpointStatus
from schemas.events import ReconcileReport
from tests.workflows.conftest import record

if TYPE_CHECKING:
    from collections.abc import Callable

    from maas.executions import ExecutionSnapshot
    from maas.local import LocalRuntime


def reconcile(runtime: LocalRuntime) -> dict[str, int]:
    response = runtime.client("lambda").invoke(
        FunctionName=runtime.resources.functions["ReconcileEndpoints"],
        Payload=json.dumps({"delete_orphans": False}),
    )
    assert "FunctionError" not in response, response["Payload"].read()
    counts: dict[str, int] = json.loads(response["Payload"].read())
    return counts


def test_the_reconciler_runs_on_a_schedule(runtime: LocalRuntime) -> None:
    [schedule] = runtime.client("scheduler").list_schedules()["Schedules"]
    described = runtime.client("scheduler").get_schedule(Name=schedule["Name"])
    assert described["ScheduleExpression"] == "rate(15 minutes)"
    assert described["Target"]["Arn"] == runtime.resources.functions["ReconcileEndpoints"]


def test_an_endpoint_deleted_behind_the_platforms_back_is_repaired_and_reported(
    runtime: LocalRuntime, deploy: Callable[..., ExecutionSnapshot]
) -> None:
    deployed = deploy(endpoint_name="vanishing")
    assert deployed.status == "SUCCEEDED", deployed.cause
    sagemaker = runtime.client("sagemaker")
    # SageMaker's state change event is lost: the reconciler is what finds the drift.
    events, rule = runtime.client("events"), runtime.resources.name("EndpointStateChangeRule")
    events.disable_rule(Name=rule)
    try:
        sagemaker.delete_endpoint(EndpointName=sagemaker_endpoint_name("acme", "vanishing"))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(
            e["EndpointName"] == sagemaker_endpoint_name("acme", "vanishing")
            for e in sagemaker.list_endpoints()["Endpoints"]
        ):
            time.sleep(0.2)
    finally:
        events.enable_rule(Name=rule)

    assert reconcile(runtime).get("drifted_record:repaired") == 1

    item = record(runtime, "acme", "vanishing")
    assert item is not None and item["status"]["S"] == EndpointStatus.FAILED.value
    log = read_event_log(runtime.client("logs"), runtime.resources.log_groups["EventLog"])
    reports = [
        ReconcileReport.model_validate(event["detail"])
        for event in log
        if event["detail-type"] == "ReconcileReport"
    ]
    assert any(
        finding.resource == "record/acme/vanishing" and finding.action == "repaired"
        for report in reports
        for finding in report.findings
    )
    # A second pass finds the registry and SageMaker in agreement about it.
    assert reconcile(runtime).get("drifted_record:repaired") is None
