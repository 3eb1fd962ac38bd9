"""scale_endpoint on the local runtime: a count changed in place, autoscaling changed, refused."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from maas.naming import sagemaker_endpoint_name
from schemas import EndpointScaled, EndpointUpdateFailed
from tests.factories import deployment_request
from tests.workflows.conftest import published, record, run, upload_artifact

if TYPE_CHECKING:
    from collections.abc import Callable

    from maas.executions import ExecutionSnapshot
    from maas.local import LocalRuntime


RESOURCE_ID = "endpoint/{}/variant/AllTraffic"


def scale(runtime: LocalRuntime, endpoint_name: str, **changes: Any) -> ExecutionSnapshot:
    """Run scale_endpoint on one of tenant acme's endpoints."""
    return run(
        runtime,
        "ScaleEndpoint",
        {"tenant_id": "acme", "endpoint_name": endpoint_name, **changes},
    )


def variant(runtime: LocalRuntime, endpoint_name: str) -> dict[str, Any]:
    """The endpoint's one production variant, as DescribeEndpoint shows it."""
    endpoint = runtime.client("sagemaker").describe_endpoint(
        EndpointName=sagemaker_endpoint_name("acme", endpoint_name)
    )
    [production_variant] = endpoint["ProductionVariants"]
    return dict(production_variant)


def scalable_targets(runtime: LocalRuntime, endpoint_name: str) -> list[dict[str, Any]]:
    """The endpoint variant's registered scalable targets (none or one)."""
    response = runtime.client("application-autoscaling").describe_scalable_targets(
        ServiceNamespace="sagemaker",
        ResourceIds=[RESOURCE_ID.format(sagemaker_endpoint_name("acme", endpoint_name))],
    )
    return list(response["ScalableTargets"])


def test_a_count_changes_in_place_through_updating(
    runtime: LocalRuntime, deploy: Callable[..., ExecutionSnapshot]
) -> None:
    deployed = deploy(endpoint_name="grow")
    assert deployed.status == "SUCCEEDED", deployed.cause
    config_before = runtime.client("sagemaker").describe_endpoint(
        EndpointName=sagemaker_endpoint_name("acme", "grow")
    )
    snapshot = scale(runtime, "grow", instance_count=3)
    assert snapshot.status == "SUCCEEDED", snapshot.cause
    assert "Update instance count" in snapshot.path
    assert "Wait for endpoint" in snapshot.path
    assert "Register scalable target" not in snapshot.path
    assert (variant(runtime, "grow")["CurrentInstanceCount"]) == 3
    endpoint = runtime.client("sagemaker").describe_endpoint(
        EndpointName=sagemaker_endpoint_name("acme", "grow")
    )
    assert endpoint["EndpointConfigName"] == config_before["EndpointConfigName"]
    item = record(runtime, "acme", "grow")
    assert item is not None
    assert (item["status"]["S"], item["instance_count"]["N"]) == ("IN_SERVICE", "3")
    assert item["correlation_id"]["S"] == snapshot.name
    [event] = published(runtime, "EndpointScaled", "grow")
    detail = EndpointScaled.model_validate(event["detail"])
    assert (detail.previous_instance_count, detail.instance_count) == (1, 3)
    assert detail.autoscaling is None


def test_autoscaling_is_added_changed_to_invocations_and_removed(
    runtime: LocalRuntime, deploy: Callable[..., ExecutionSnapshot]
) -> None:
    assert deploy(endpoint_name="elastic").status == "SUCCEEDED"
    added = scale(runtime, "elastic", autoscaling={"min_capacity": 1, "max_capacity": 4})
    assert added.status == "SUCCEEDED", added.cause
    assert "Update instance count" not in added.path
    [target] = scalable_targets(runtime, "elastic")
    assert (target["MinCapacity"], target["MaxCapacity"]) == (1, 4)

    changed = scale(
        runtime,
        "elastic",
        instance_count=2,
        autoscaling={
            "min_capacity": 2,
            "max_capacity": 6,
            "metric": "invocations",
            "target_invocations_per_instance": 120,
            "scale_in_cooldown_seconds": 600,
        },
    )
    assert changed.status == "SUCCEEDED", changed.cause
    [target] = scalable_targets(runtime, "elastic")
    assert (target["MinCapacity"], target["MaxCapacity"]) == (2, 6)
    [policy] = runtime.client("application-autoscaling").describe_scaling_policies(
        ServiceNamespace="sagemaker",
        ResourceId=RESOURCE_ID.format(sagemaker_endpoint_name("acme", "elastic")),
    )["ScalingPolicies"]
    configuration = policy["TargetTrackingScalingPolicyConfiguration"]
    assert configuration["PredefinedMetricSpecification"]["PredefinedMetricType"] == (
        "SageMakerVariantInvocationsPerInstance"
    )
    assert (configuration["TargetValue"], configuration["ScaleInCooldown"]) == (120, 600)
    item = record(runtime, "acme", "elastic")
    assert item is not None
    assert item["autoscaling"]["M"]["max_capacity"]["N"] == "6"

    removed = scale(runtime, "elastic", remove_autoscaling=True)
    assert removed.status == "SUCCEEDED", removed.cause
    assert "Deregister scalable target" in removed.path
    assert scalable_targets(runtime, "elastic") == []
    item = record(runtime, "acme", "elastic")
    assert item is not None
    assert "autoscaling" not in item or "NULL" in item["autoscaling"]
    assert len(published(runtime, "EndpointScaled", "elastic")) == 3


def test_a_rolled_back_count_keeps_the_record_and_is_announced(
    runtime: LocalRuntime, deploy: Callable[..., ExecutionSnapshot]
) -> None:
    assert deploy(endpoint_name="no-room").status == "SUCCEEDED"
    runtime.sagemaker.fail_endpoint(
        sagemaker_endpoint_name("acme", "no-room"), "InsufficientCapacity: no ml.g5.xlarge left"
    )
    snapshot = scale(runtime, "no-room", instance_count=4)
    assert snapshot.status == "FAILED"
    assert snapshot.error == "Maas.EndpointFailed"
    assert "with 1 instances, not the 4 asked for" in (snapshot.cause or "")
    endpoint = runtime.client("sagemaker").describe_endpoint(
        EndpointName=sagemaker_endpoint_name("acme", "no-room")
    )
    assert endpoint["EndpointStatus"] == "InService"
    assert variant(runtime, "no-room")["CurrentInstanceCount"] == 1
    item = record(runtime, "acme", "no-room")
    assert item is not None
    assert (item["status"]["S"], item["instance_count"]["N"]) == ("IN_SERVICE", "1")
    assert item["failure_reason"]["S"].startswith("Maas.EndpointFailed: ")
    [event] = published(runtime, "EndpointUpdateFailed", "no-room")
    detail = EndpointUpdateFailed.model_validate(event["detail"])
    assert (detail.operation, detail.error) == ("scale", "Maas.EndpointFailed")


@pytest.fixture(scope="module")
def bounded(runtime: LocalRuntime) -> ExecutionSnapshot:
    """An endpoint that autoscales between one and two instances."""
    request = deployment_request(
        endpoint_name="bounded", autoscaling={"min_capacity": 1, "max_capacity": 2}
    )
    upload_artifact(runtime, request)
    snapshot = run(runtime, "DeployEndpoint", request)
    assert snapshot.status == "SUCCEEDED", snapshot.cause
    return snapshot


@pytest.mark.parametrize(
    ("endpoint_name", "changes", "expected"),
    [
        (
            "nowhere",
            {"instance_count": 2},
            ("Maas.NotFound", "endpoint_name: no endpoint 'nowhere' for this tenant"),
        ),
        (
            "bounded",
            {"autoscaling": {"min_capacity": 3, "max_capacity": 2}},
            ("Maas.ValidationError", "autoscaling: min_capacity (3) is above max_capacity (2)"),
        ),
        (
            "bounded",
            {"instance_count": 9},
            (
                "Maas.ValidationError",
                "instance_count: 9 is outside the endpoint's autoscaling bounds [1, 2]",
            ),
        ),
        (
            "bounded",
            {},
            (
                "Maas.ValidationError",
                "nothing to change: give instance_count, autoscaling or remove_autoscaling",
            ),
        ),
    ],
    ids=["missing-endpoint", "min-above-max", "count-outside-bounds", "no-change"],
)
@pytest.mark.usefixtures("bounded")
def test_bad_input_is_rejected_before_anything_changes(
    runtime: LocalRuntime,
    endpoint_name: str,
    changes: dict[str, Any],
    expected: tuple[str, str],
) -> None:
    before = record(runtime, "acme", endpoint_name)
    snapshot = scale(runtime, endpoint_name, **changes)
    assert (snapshot.status, snapshot.error) == ("FAILED", expected[0])
    assert expected[1] in (snapshot.cause or "")
    assert snapshot.path == [
        "Act for the tenant",
        "Validate and plan scaling",
        "Explain the rejection",
        "Request rejected",
    ]
    assert record(runtime, "acme", endpoint_name) == before
