"""Planning a scaling change, and the registry's UPDATING round trip."""

from __future__ import annotations

import boto3
import pytest

from maas.endpoints import EndpointRegistry, plan_deployment
from maas.endpoints.records import table_arguments
from maas.endpoints.scaling import ScalingChangePlan, plan_scaling
from maas.exceptions import Conflict, NotFound, ValidationError
from schemas import (
    AutoscalingConfig,
    DeploymentRequest,
    EndpointRecord,
    EndpointStatus,
    ScaleRequest,
)
from tests.factories import ARTIFACTS_BUCKET, deployment_request

TABLE = "endpoints"


@pytest.fixture
def registry(aws: None) -> EndpointRegistry:
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(**table_arguments(TABLE))
    return EndpointRegistry(TABLE, dynamodb)


def in_service(registry: EndpointRegistry, **overrides: object) -> EndpointRecord:
    """A deployed endpoint's record, as deploy_endpoint leaves it."""
    plan = plan_deployment(
        DeploymentRequest.model_validate(deployment_request(**overrides)),
        correlation_id="deploy-1",
        artifacts_bucket=ARTIFACTS_BUCKET,
        poll_interval_seconds=1,
        max_status_checks=5,
    )
    registry.begin_deployment(plan)
    return registry.mark_in_service(
        "acme", "chat", correlation_id="deploy-1", endpoint_arn="arn:endpoint/chat"
    )


def plan(record: EndpointRecord, **changes: object) -> ScalingChangePlan:
    request = ScaleRequest.model_validate({"tenant_id": "acme", "endpoint_name": "chat", **changes})
    return plan_scaling(
        record, request, correlation_id="scale-1", poll_interval_seconds=1, max_status_checks=5
    )


def test_a_new_count_is_an_in_place_capacity_change(registry: EndpointRegistry) -> None:
    scaling = plan(in_service(registry), instance_count=3)
    assert scaling.capacity == {
        "EndpointName": "acme-chat-c7bee5eb",
        "DesiredWeightsAndCapacities": [{"VariantName": "AllTraffic", "DesiredInstanceCount": 3}],
    }
    assert (scaling.previous_instance_count, scaling.instance_count) == (1, 3)
    assert (scaling.scaling, scaling.deregister) == (None, None)


def test_the_same_count_makes_no_call(registry: EndpointRegistry) -> None:
    assert plan(in_service(registry), instance_count=1).capacity is None


def test_invocations_per_instance_is_the_optional_metric(registry: EndpointRegistry) -> None:
    scaling = plan(
        in_service(registry),
        autoscaling={"min_capacity": 1, "max_capacity": 4, "metric": "invocations"},
    )
    assert scaling.scaling is not None
    configuration = scaling.scaling.TargetTrackingScalingPolicyConfiguration
    assert configuration["PredefinedMetricSpecification"] == {
        "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
    }
    assert configuration["TargetValue"] == 60.0
    assert scaling.scaling.PolicyName == "acme-chat-c7bee5eb-target-tracking"


def test_removing_autoscaling_deregisters_the_target(registry: EndpointRegistry) -> None:
    record = in_service(registry, autoscaling={"min_capacity": 1, "max_capacity": 2})
    scaling = plan(record, remove_autoscaling=True, instance_count=5)
    assert scaling.deregister is not None
    assert scaling.deregister.ResourceId == "endpoint/acme-chat-c7bee5eb/variant/AllTraffic"
    assert (scaling.autoscaling, scaling.instance_count) == (None, 5)


def test_a_count_outside_the_bounds_kept_is_refused(registry: EndpointRegistry) -> None:
    record = in_service(registry, autoscaling={"min_capacity": 1, "max_capacity": 2})
    with pytest.raises(ValidationError, match=r"instance_count: 3 is outside .* \[1, 2\]"):
        plan(record, instance_count=3)


def test_new_bounds_move_the_recorded_count_into_them(registry: EndpointRegistry) -> None:
    scaling = plan(in_service(registry), autoscaling={"min_capacity": 2, "max_capacity": 4})
    assert scaling.instance_count == 2
    assert scaling.capacity is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({}, "nothing to change"),
        ({"autoscaling": {"min_capacity": 3, "max_capacity": 2}}, "is above max_capacity"),
        (
            {"autoscaling": {"min_capacity": 1, "max_capacity": 2}, "remove_autoscaling": True},
            "exclude each other",
        ),
        (
            {"instance_count": 5, "autoscaling": {"min_capacity": 1, "max_capacity": 2}},
            "outside the autoscaling bounds",
        ),
    ],
    ids=["nothing", "min-above-max", "add-and-remove", "count-outside-new-bounds"],
)
def test_a_request_that_cannot_apply_is_invalid(changes: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ScaleRequest.model_validate({"tenant_id": "acme", "endpoint_name": "chat", **changes})


def test_an_update_round_trip_records_the_new_count(registry: EndpointRegistry) -> None:
    in_service(registry)
    updating = registry.begin_update("acme", "chat", correlation_id="scale-1")
    assert updating.status is EndpointStatus.UPDATING
    with pytest.raises(Conflict, match="owned by execution 'scale-1'"):
        registry.mark_scaled(
            "acme", "chat", correlation_id="other", instance_count=2, autoscaling=None
        )
    bounds = AutoscalingConfig(min_capacity=2, max_capacity=3)
    scaled = registry.mark_scaled(
        "acme", "chat", correlation_id="scale-1", instance_count=2, autoscaling=bounds
    )
    assert (scaled.status, scaled.instance_count, scaled.autoscaling) == (
        EndpointStatus.IN_SERVICE,
        2,
        bounds,
    )


def test_an_abandoned_update_keeps_the_old_values(registry: EndpointRegistry) -> None:
    in_service(registry)
    registry.begin_update("acme", "chat", correlation_id="scale-1")
    record = registry.abandon_update(
        "acme", "chat", correlation_id="scale-1", reason="Maas.EndpointFailed: rolled back"
    )
    assert (record.status, record.instance_count) == (EndpointStatus.IN_SERVICE, 1)
    assert record.failure_reason == "Maas.EndpointFailed: rolled back"


def test_an_endpoint_being_updated_cannot_be_updated_or_torn_down(
    registry: EndpointRegistry,
) -> None:
    in_service(registry)
    registry.begin_update("acme", "chat", correlation_id="scale-1")
    with pytest.raises(Conflict, match="is UPDATING; it cannot become UPDATING"):
        registry.begin_update("acme", "chat", correlation_id="scale-2")
    with pytest.raises(Conflict, match="is UPDATING; it cannot become DELETING"):
        registry.begin_teardown("acme", "chat", correlation_id="teardown-1")


def test_a_missing_endpoint_is_not_found(registry: EndpointRegistry) -> None:
    with pytest.raises(NotFound, match="no endpoint 'chat'"):
        registry.begin_update("acme", "chat", correlation_id="scale-1")
