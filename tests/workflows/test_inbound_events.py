"""AWS's own state change events update the registry on the local runtime.

SageMaker's ``SageMaker Endpoint State Change`` events reach ``EndpointStateChanged``
through the rule on the default bus: the record keeps SageMaker's last word, and a live
endpoint SageMaker fails is marked FAILED without any workflow running.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from maas.dynamodb import from_item
from maas.naming import sagemaker_endpoint_name
from schemas import EndpointRecord, EndpointStatus
from tests.workflows.conftest import record, run

if TYPE_CHECKING:
    from collections.abc import Callable

    from maas.executions import ExecutionSnapshot
    from maas.local import LocalRuntime


def record_once(
    runtime: LocalRuntime, endpoint_name: str, until: Callable[[EndpointRecord], bool]
) -> EndpointRecord:
    """The endpoint's record once ``until`` holds for it (events arrive asynchronously)."""
    deadline = time.monotonic() + 15
    while True:
        item = record(runtime, "acme", endpoint_name)
        current = from_item(item, EndpointRecord) if item else None
        if current and until(current):
            return current
        if time.monotonic() > deadline:
            raise AssertionError(f"record never came to the expected state: {current}")
        time.sleep(0.2)


def sagemaker_says(status: str) -> Callable[[EndpointRecord], bool]:
    return lambda current: current.sagemaker is not None and current.sagemaker.status == status


def test_a_deployed_endpoint_s_record_holds_sagemaker_s_last_word(
    runtime: LocalRuntime, deploy: Callable[..., ExecutionSnapshot]
) -> None:
    deployed = deploy(endpoint_name="observed")
    assert deployed.status == "SUCCEEDED", deployed.cause

    current = record_once(runtime, "observed", sagemaker_says("IN_SERVICE"))
    assert current.status is EndpointStatus.IN_SERVICE
    assert current.correlation_id == deployed.name
    assert current.sagemaker is not None
    assert current.sagemaker.reason is None
    described = runtime.client("sagemaker").describe_endpoint(
        EndpointName=sagemaker_endpoint_name("acme", "observed")
    )
    # SageMaker's own change time, to the millisecond its events carry.
    assert abs(current.sagemaker.changed_at - described["LastModifiedTime"]).total_seconds() <= 1e-3


def test_an_endpoint_that_fails_in_service_is_marked_failed_by_sagemaker_s_event(
    runtime: LocalRuntime, deploy: Callable[..., ExecutionSnapshot]
) -> None:
    deployed = deploy(endpoint_name="breaking")
    assert deployed.status == "SUCCEEDED", deployed.cause
    record_once(runtime, "breaking", sagemaker_says("IN_SERVICE"))

    runtime.sagemaker.fail_in_service(
        sagemaker_endpoint_name("acme", "breaking"),
        "The instance became unhealthy",
        account_id=runtime.settings.account_id,
        region=runtime.settings.region,
    )

    current = record_once(runtime, "breaking", lambda r: r.status is EndpointStatus.FAILED)
    assert current.failure_reason == (
        "SageMaker reports the endpoint Failed: The instance became unhealthy"
    )
    assert current.sagemaker is not None
    assert current.sagemaker.status == "FAILED"
    assert current.correlation_id != deployed.name
    # A FAILED endpoint can be torn down like any other.
    teardown: dict[str, Any] = {"tenant_id": "acme", "endpoint_name": "breaking"}
    torn_down = run(runtime, "Teardown", teardown)
    assert torn_down.status == "SUCCEEDED", torn_down.cause


def test_an_endpoint_deleted_outside_the_platform_is_marked_failed(
    runtime: LocalRuntime, deploy: Callable[..., ExecutionSnapshot]
) -> None:
    deployed = deploy(endpoint_name="deleted-aside")
    assert deployed.status == "SUCCEEDED", deployed.cause
    record_once(runtime, "deleted-aside", sagemaker_says("IN_SERVICE"))

    runtime.client("sagemaker").delete_endpoint(
        EndpointName=sagemaker_endpoint_name("acme", "deleted-aside")
    )

    # Both fields at once: moto applies an UpdateItem's SET clauses one by one, so a read
    # racing the write can see the status before the reason (DynamoDB's write is atomic).
    current = record_once(
        runtime,
        "deleted-aside",
        lambda r: r.status is EndpointStatus.FAILED and r.failure_reason is not None,
    )
    assert current.failure_reason == (
        "SageMaker is deleting the endpoint (deleted outside the platform)"
    )


def test_a_teardown_owns_the_record_while_sagemaker_deletes_the_endpoint(
    runtime: LocalRuntime, deploy: Callable[..., ExecutionSnapshot]
) -> None:
    deployed = deploy(endpoint_name="torn-down")
    assert deployed.status == "SUCCEEDED", deployed.cause

    torn_down = run(runtime, "Teardown", {"tenant_id": "acme", "endpoint_name": "torn-down"})

    assert torn_down.status == "SUCCEEDED", torn_down.cause
    current = record_once(runtime, "torn-down", sagemaker_says("DELETING"))
    assert current.status is EndpointStatus.DELETED
