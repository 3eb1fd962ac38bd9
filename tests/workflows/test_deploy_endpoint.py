"""deploy_endpoint on the local runtime: in service, or nothing left behind."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from maas.endpoints.inventory import sagemaker_resources
from maas.naming import sagemaker_endpoint_name
from schemas import EndpointDeploymentFailed, EndpointInService
from schemas.events import EndpointDeploying
from tests.factories import deployment_request, in_one_hour
from tests.workflows.conftest import (
    published,
    record,
    run,
    upload_artifact,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from maas.executions import ExecutionSnapshot
    from maas.local import LocalRuntime


@pytest.fixture(scope="module")
def in_service(runtime: LocalRuntime) -> ExecutionSnapshot:
    """One deployment with two instances, autoscaling and a TTL, shared by the tests below."""
    request = deployment_request(
        endpoint_name="happy",
        instance_count=2,
        autoscaling={"min_capacity": 1, "max_capacity": 3},
        expires_at=in_one_hour(),
    )
    upload_artifact(runtime, request)
    return run(runtime, "DeployEndpoint", request)


def test_an_endpoint_comes_into_service_after_the_wait_loop(
    runtime: LocalRuntime, in_service: ExecutionSnapshot
) -> None:
    snapshot = in_service
    assert snapshot.status == "SUCCEEDED", snapshot.cause
    assert snapshot.output["status"] == "IN_SERVICE"
    assert snapshot.path.count("Wait for endpoint") >= 1
    sagemaker = runtime.client("sagemaker")
    endpoint = sagemaker.describe_endpoint(EndpointName=sagemaker_endpoint_name("acme", "happy"))
    assert endpoint["EndpointStatus"] == "InService"
    tags = {
        tag["Key"]: tag["Value"]
        for tag in sagemaker.list_tags(ResourceArn=endpoint["EndpointArn"])["Tags"]
    }
    assert tags["maas:tenant"] == "acme"
    assert tags["maas:correlation-id"] == snapshot.name
    [variant] = sagemaker.describe_endpoint_config(
        EndpointConfigName=snapshot.output["endpoint_config_name"]
    )["ProductionVariants"]
    assert (variant["InstanceType"], variant["InitialInstanceCount"]) == ("ml.g5.xlarge", 2)
    # The timeouts reach SageMaker: sized for what an A10G's 24 GiB could hold.
    assert (
        variant["ModelDataDownloadTimeoutInSeconds"],
        variant["ContainerStartupHealthCheckTimeoutInSeconds"],
    ) == (636, 558)


def test_the_record_says_in_service_and_names_what_was_created(
    runtime: LocalRuntime, in_service: ExecutionSnapshot
) -> None:
    item = record(runtime, "acme", "happy")
    assert item is not None
    assert item["status"]["S"] == "IN_SERVICE"
    assert item["endpoint_arn"]["S"].endswith(
        f":endpoint/{sagemaker_endpoint_name('acme', 'happy')}"
    )
    assert item["model_name"]["S"].startswith(f"{sagemaker_endpoint_name('acme', 'happy')}-")
    assert item["sagemaker_endpoint_name"]["S"] == sagemaker_endpoint_name("acme", "happy")


def test_autoscaling_tracks_concurrency_within_the_requested_bounds(
    runtime: LocalRuntime, in_service: ExecutionSnapshot
) -> None:
    autoscaling = runtime.client("application-autoscaling")
    [target] = autoscaling.describe_scalable_targets(
        ServiceNamespace="sagemaker",
        ResourceIds=[f"endpoint/{sagemaker_endpoint_name('acme', 'happy')}/variant/AllTraffic"],
    )["ScalableTargets"]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (1, 3)
    [policy] = autoscaling.describe_scaling_policies(
        ServiceNamespace="sagemaker",
        ResourceId=f"endpoint/{sagemaker_endpoint_name('acme', 'happy')}/variant/AllTraffic",
    )["ScalingPolicies"]
    metric = policy["TargetTrackingScalingPolicyConfiguration"]["PredefinedMetricSpecification"]
    assert (
        metric["PredefinedMetricType"] == "SageMakerVariantConcurrentRequestsPerModelHighResolution"
    )


def test_the_ttl_schedule_starts_teardown_of_this_endpoint(
    runtime: LocalRuntime, in_service: ExecutionSnapshot
) -> None:
    [summary] = [
        s
        for s in runtime.client("scheduler").list_schedules()["Schedules"]
        if s["Name"].startswith("maas-ttl-happy-")
    ]
    schedule = runtime.client("scheduler").get_schedule(Name=summary["Name"])
    assert schedule["ScheduleExpression"].startswith("at(")
    assert schedule["Target"]["Arn"] == runtime.state_machine_arn("Teardown")
    assert json.loads(schedule["Target"]["Input"])["endpoint_name"] == "happy"


def test_endpoint_in_service_is_published_with_a_schema_valid_detail(
    runtime: LocalRuntime, in_service: ExecutionSnapshot
) -> None:
    [event] = published(runtime, "EndpointInService", "happy")
    detail = EndpointInService.model_validate(event["detail"])
    assert detail.tenant_id == "acme"
    assert detail.instance_count == 2
    assert event["resources"] == [detail.endpoint_arn]


def test_endpoint_deploying_is_published_once_the_record_says_creating(
    runtime: LocalRuntime, in_service: ExecutionSnapshot
) -> None:
    [event] = published(runtime, "EndpointDeploying", "happy")
    detail = EndpointDeploying.model_validate(event["detail"])
    assert (detail.correlation_id, detail.model_name) == (
        in_service.name,
        in_service.output["model_name"],
    )
    recorded = in_service.path.index("Record endpoint as creating")
    assert in_service.path[recorded + 1 : recorded + 3] == [
        "Announce endpoint deploying",
        "Create model",
    ]


@pytest.mark.parametrize(
    ("case", "fault"),
    [("injected", "CapacityError: no ml.g5.xlarge capacity"), ("no-artifact", None)],
)
def test_a_failed_endpoint_is_compensated_recorded_and_announced(
    runtime: LocalRuntime,
    deploy: Callable[..., ExecutionSnapshot],
    case: str,
    fault: str | None,
) -> None:
    name = f"fails-{case}"
    if fault:
        runtime.sagemaker.fail_endpoint(sagemaker_endpoint_name("acme", name), fault)
        snapshot = deploy(endpoint_name=name, autoscaling={"min_capacity": 1, "max_capacity": 2})
    else:
        request_model = {
            "model_id": "org/missing",
            "version": "1",
            "image_uri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/lmi:1",
            "model_data_url": "s3://maas-artifacts-bucket-123456789012/acme/missing/1/",
        }
        snapshot = run(
            runtime,
            "DeployEndpoint",
            {
                "tenant_id": "acme",
                "endpoint_name": name,
                "instance_type": "ml.g5.xlarge",
                "model": request_model,
            },
        )
    assert snapshot.status == "FAILED"
    assert snapshot.error == "Maas.EndpointFailed"
    expected = fault or "Failed to download model data (bucket: maas-artifacts-bucket-123456789012"
    assert expected in (snapshot.cause or "")
    assert "Clean up" in snapshot.path
    assert sagemaker_resources(runtime.client("sagemaker"), name) == []
    assert (
        runtime.client("application-autoscaling").describe_scalable_targets(
            ServiceNamespace="sagemaker",
            ResourceIds=[f"endpoint/{sagemaker_endpoint_name('acme', name)}/variant/AllTraffic"],
        )["ScalableTargets"]
        == []
    )
    item = record(runtime, "acme", name)
    assert item is not None
    assert item["status"]["S"] == "FAILED"
    assert item["failure_reason"]["S"].startswith("Maas.EndpointFailed: ")
    [event] = published(runtime, "EndpointDeploymentFailed", name)
    detail = EndpointDeploymentFailed.model_validate(event["detail"])
    assert detail.error == "Maas.EndpointFailed"
    assert f"endpoint/{sagemaker_endpoint_name('acme', name)}" in detail.deleted_resources


def test_a_clean_up_that_fails_is_retried_until_the_endpoint_is_gone(
    runtime: LocalRuntime, deploy: Callable[..., ExecutionSnapshot]
) -> None:
    name = "cleanup-retried"
    runtime.sagemaker.fail_endpoint(sagemaker_endpoint_name("acme", name), "CapacityError")
    fault = runtime.faults.inject("sagemaker", "DeleteEndpoint", "InternalFailure", times=2)

    snapshot = deploy(endpoint_name=name)

    assert snapshot.error == "Maas.EndpointFailed"
    assert fault.spent
    assert sagemaker_resources(runtime.client("sagemaker"), name) == []
    item = record(runtime, "acme", name)
    assert item is not None
    assert item["status"]["S"] == "FAILED"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"endpoint_name": "bad_name"}, "endpoint_name: String should match pattern"),
        ({"endpoint_name": "x" * 64}, "endpoint_name: String should have at most 63 characters"),
        (
            {"instance_type": "ml.g99.xlarge"},
            "instance_type: unknown instance type 'ml.g99.xlarge'",
        ),
        ({"instance_count": 0}, "instance_count: Input should be greater than or equal to 1"),
        ({"expires_at": "2020-01-01T00:00:00Z"}, "expires_at: must be in the future"),
        (
            {"model": deployment_request()["model"] | {"model_data_url": "s3://elsewhere/acme/m/"}},
            "model.model_data_url: must be under s3://maas-artifacts-bucket-123456789012/acme/",
        ),
    ],
    ids=["name-pattern", "name-length", "instance-type", "count", "ttl-in-past", "foreign-data"],
)
def test_bad_input_is_rejected_before_any_aws_call(
    runtime: LocalRuntime,
    overrides: dict[str, object],
    field: str,
) -> None:
    sagemaker = runtime.client("sagemaker")
    before = len(sagemaker.list_models()["Models"])
    snapshot = run(runtime, "DeployEndpoint", deployment_request(**overrides))
    assert snapshot.status == "FAILED"
    assert snapshot.error == "Maas.ValidationError"
    assert snapshot.cause is not None
    assert snapshot.cause.startswith(field)
    assert snapshot.path == [
        "Act for the tenant",
        "Validate and plan deployment",
        "Explain the rejection",
        "Request rejected",
    ]
    assert len(sagemaker.list_models()["Models"]) == before
    assert record(runtime, "acme", str(overrides.get("endpoint_name", "chat"))) is None


def test_deploying_a_live_endpoint_again_is_a_conflict_that_touches_nothing(
    runtime: LocalRuntime, deploy: Callable[..., ExecutionSnapshot]
) -> None:
    first = deploy(endpoint_name="taken")
    assert first.status == "SUCCEEDED", first.cause
    second = deploy(endpoint_name="taken", instance_type="ml.g5.2xlarge")
    assert second.status == "FAILED"
    assert second.error == "Maas.Conflict"
    assert "Create model" not in second.path
    assert "Clean up" not in second.path
    endpoint = runtime.client("sagemaker").describe_endpoint(
        EndpointName=sagemaker_endpoint_name("acme", "taken")
    )
    assert endpoint["EndpointStatus"] == "InService"
    item = record(runtime, "acme", "taken")
    assert item is not None
    assert (item["status"]["S"], item["correlation_id"]["S"]) == ("IN_SERVICE", first.name)
    [event] = published(runtime, "EndpointDeploymentFailed", "taken")
    assert event["detail"]["error"] == "Maas.Conflict"
    assert event["detail"]["correlation_id"] == second.name
