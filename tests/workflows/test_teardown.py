"""teardown on the local runtime: everything that belonged to the endpoint goes, once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from maas.dynamodb import to_item
from maas.endpoints import EndpointRegistry
from maas.endpoints.inventory import sagemaker_resources
from maas.naming import sagemaker_endpoint_name
from schemas import EndpointDeleted, EndpointStatus
from tests.factories import in_one_hour
from tests.workflows.conftest import published, record, run

if TYPE_CHECKING:
    from collections.abc import Callable

    from maas.executions import ExecutionSnapshot
    from maas.local import LocalRuntime


def teardown(runtime: LocalRuntime, endpoint_name: str, **overrides: object) -> ExecutionSnapshot:
    return run(
        runtime, "Teardown", {"tenant_id": "acme", "endpoint_name": endpoint_name, **overrides}
    )


def test_teardown_removes_endpoint_configuration_model_scaling_and_ttl(
    runtime: LocalRuntime, deploy: Callable[..., ExecutionSnapshot]
) -> None:
    deployed = deploy(
        endpoint_name="gone",
        autoscaling={"min_capacity": 1, "max_capacity": 2},
        expires_at=in_one_hour(),
    )
    assert deployed.status == "SUCCEEDED", deployed.cause
    snapshot = teardown(runtime, "gone")
    assert snapshot.status == "SUCCEEDED", snapshot.cause
    assert snapshot.output == {
        "tenant_id": "acme",
        "endpoint_name": "gone",
        "model_deleted": True,
        "status": "DELETED",
    }
    assert "Wait for endpoint deletion" in snapshot.path
    assert sagemaker_resources(runtime.client("sagemaker"), "gone") == []
    assert (
        runtime.client("application-autoscaling").describe_scalable_targets(
            ServiceNamespace="sagemaker"
        )["ScalableTargets"]
        == []
    )
    schedules = runtime.client("scheduler").list_schedules()["Schedules"]
    assert not [s for s in schedules if s["Name"].startswith("maas-ttl-gone-")]
    item = record(runtime, "acme", "gone")
    assert item is not None
    assert (item["status"]["S"], item["correlation_id"]["S"]) == ("DELETED", snapshot.name)
    [event] = published(runtime, "EndpointDeleted", "gone")
    assert EndpointDeleted.model_validate(event["detail"]).model_deleted is True


def test_the_model_can_be_kept_for_a_later_deployment(
    runtime: LocalRuntime, deploy: Callable[..., ExecutionSnapshot]
) -> None:
    deployed = deploy(endpoint_name="keep-model")
    assert deployed.status == "SUCCEEDED", deployed.cause
    snapshot = teardown(runtime, "keep-model", delete_model=False)
    assert snapshot.status == "SUCCEEDED", snapshot.cause
    assert "Delete model" not in snapshot.path
    assert sagemaker_resources(runtime.client("sagemaker"), "keep-model") == [
        f"model/{deployed.output['model_name']}"
    ]


def test_an_unknown_endpoint_is_not_found_and_nothing_is_deleted(runtime: LocalRuntime) -> None:
    snapshot = teardown(runtime, "never-deployed")
    assert snapshot.status == "FAILED"
    assert snapshot.error == "Maas.NotFound"
    assert snapshot.path == [
        "Act for the tenant",
        "Take the endpoint for teardown",
        "Explain the rejection",
        "Request rejected",
    ]
    assert snapshot.cause == "endpoint_name: no endpoint 'never-deployed' for this tenant"


def test_another_tenants_endpoint_is_not_found_and_stays(
    runtime: LocalRuntime, deploy: Callable[..., ExecutionSnapshot]
) -> None:
    deployed = deploy(endpoint_name="not-yours")
    assert deployed.status == "SUCCEEDED", deployed.cause
    snapshot = run(runtime, "Teardown", {"tenant_id": "globex", "endpoint_name": "not-yours"})
    assert snapshot.error == "Maas.NotFound"
    status = runtime.client("sagemaker").describe_endpoint(
        EndpointName=sagemaker_endpoint_name("acme", "not-yours")
    )["EndpointStatus"]
    assert status == "InService"


def test_a_record_naming_another_tenants_endpoint_tears_nothing_of_it_down(
    runtime: LocalRuntime, deploy: Callable[..., ExecutionSnapshot]
) -> None:
    # A record written before SageMaker names were derived per tenant named the endpoint after
    # the user's name: globex's FAILED "squat" record names acme's live endpoint.
    deployed = deploy(endpoint_name="squatted")
    assert deployed.status == "SUCCEEDED", deployed.cause
    registry = EndpointRegistry(
        runtime.resources.tables["EndpointsTable"], runtime.client("dynamodb")
    )
    acme = registry.get("acme", "squatted")
    squat = acme.model_copy(update={"tenant_id": "globex", "status": EndpointStatus.FAILED})
    runtime.client("dynamodb").put_item(
        TableName=registry.table_name,
        Item=to_item(squat, {"pk": "TENANT#globex", "sk": "ENDPOINT#squatted"}),
    )

    snapshot = run(runtime, "Teardown", {"tenant_id": "globex", "endpoint_name": "squatted"})

    assert snapshot.error == "Maas.NotFound"
    assert snapshot.cause == "endpoint_name: no endpoint 'squatted' for this tenant"
    described = runtime.client("sagemaker").describe_endpoint(
        EndpointName=acme.sagemaker_endpoint_name
    )
    assert described["EndpointStatus"] == "InService"


def test_a_second_teardown_finds_nothing_to_tear_down(
    runtime: LocalRuntime, deploy: Callable[..., ExecutionSnapshot]
) -> None:
    assert deploy(endpoint_name="twice").status == "SUCCEEDED"
    assert teardown(runtime, "twice").status == "SUCCEEDED"
    again = teardown(runtime, "twice")
    assert again.error == "Maas.NotFound"
    assert "already deleted" in (again.cause or "")


def test_an_endpoint_already_deleted_outside_the_platform_counts_as_gone(
    runtime: LocalRuntime, deploy: Callable[..., ExecutionSnapshot]
) -> None:
    deployed = deploy(endpoint_name="out-of-band")
    assert deployed.status == "SUCCEEDED", deployed.cause
    sagemaker = runtime.client("sagemaker")
    sagemaker.delete_endpoint(EndpointName=sagemaker_endpoint_name("acme", "out-of-band"))
    sagemaker.delete_endpoint_config(EndpointConfigName=deployed.output["endpoint_config_name"])
    snapshot = teardown(runtime, "out-of-band")
    assert snapshot.status == "SUCCEEDED", snapshot.cause
    assert sagemaker_resources(runtime.client("sagemaker"), "out-of-band") == []


def test_a_delete_iam_refuses_for_a_resource_already_gone_counts_as_gone(
    runtime: LocalRuntime, deploy: Callable[..., ExecutionSnapshot]
) -> None:
    # On AWS the teardown role may delete only resources tagged maas:tenant: a configuration
    # deleted out of band has no tag left to match, and IAM answers AccessDenied. Locally
    # too: the teardown machine acts as its own role (enforce_workflow_iam).
    assert runtime.settings.enforce_workflow_iam
    deployed = deploy(endpoint_name="iam-gone")
    assert deployed.status == "SUCCEEDED", deployed.cause
    sagemaker = runtime.client("sagemaker")
    sagemaker.delete_endpoint_config(EndpointConfigName=deployed.output["endpoint_config_name"])

    snapshot = teardown(runtime, "iam-gone")

    assert snapshot.status == "SUCCEEDED", snapshot.cause
    history = runtime.client("stepfunctions").get_execution_history(
        executionArn=snapshot.arn, maxResults=1000
    )["events"]
    refusals = [
        event["taskFailedEventDetails"]["cause"]
        for event in history
        if event["type"] == "TaskFailed"
        and "is not authorized to perform: sagemaker:DeleteEndpointConfig"
        in event["taskFailedEventDetails"].get("cause", "")
    ]
    assert refusals
    assert sagemaker_resources(sagemaker, "iam-gone") == []


def test_a_bad_teardown_request_names_the_field(runtime: LocalRuntime) -> None:
    snapshot = run(runtime, "Teardown", {"tenant_id": "acme", "endpoint_name": "-x"})
    assert snapshot.error == "Maas.ValidationError"
    assert "endpoint_name: String should match pattern" in (snapshot.cause or "")
