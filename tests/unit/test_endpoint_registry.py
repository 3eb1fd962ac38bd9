"""The endpoint registry moves records only forward, only by their owner, per tenant."""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3
import pytest

from maas.endpoints import EndpointRegistry, plan_deployment
from maas.endpoints.records import table_arguments
from maas.exceptions import Conflict, NotFound
from schemas import DeploymentRequest, EndpointStatus
from tests.factories import ARTIFACTS_BUCKET, deployment_request

if TYPE_CHECKING:
    from maas.endpoints import DeploymentPlan

TABLE = "endpoints"


@pytest.fixture
def registry(aws: None) -> EndpointRegistry:
    dynamodb = boto3.client("dynamodb")
    dynamodb.create_table(**table_arguments(TABLE))
    return EndpointRegistry(TABLE, dynamodb)


def a_plan(correlation_id: str = "deploy-1", **overrides: object) -> DeploymentPlan:
    return plan_deployment(
        DeploymentRequest.model_validate(deployment_request(**overrides)),
        correlation_id=correlation_id,
        artifacts_bucket=ARTIFACTS_BUCKET,
        poll_interval_seconds=1,
        max_status_checks=5,
    )


def test_a_deployment_creates_a_creating_record_with_every_name(registry: EndpointRegistry) -> None:
    plan = a_plan(autoscaling={"min_capacity": 1, "max_capacity": 2})
    registry.begin_deployment(plan)
    record = registry.get("acme", "chat")
    assert record.status is EndpointStatus.CREATING
    assert (record.model_name, record.endpoint_config_name) == (plan.model_name, plan.model_name)
    assert record.autoscaling is not None
    assert record.autoscaling.target_concurrent_requests == 4.0
    assert record.correlation_id == "deploy-1"


def test_a_second_deployment_of_a_live_endpoint_is_a_conflict(registry: EndpointRegistry) -> None:
    registry.begin_deployment(a_plan("deploy-1"))
    with pytest.raises(Conflict, match="endpoint_name: endpoint 'chat' already exists"):
        registry.begin_deployment(a_plan("deploy-2"))
    assert registry.get("acme", "chat").correlation_id == "deploy-1"


def test_a_failed_or_deleted_endpoint_can_be_deployed_again(registry: EndpointRegistry) -> None:
    registry.begin_deployment(a_plan("deploy-1"))
    registry.mark_failed("acme", "chat", correlation_id="deploy-1", reason="Maas.EndpointFailed: x")
    registry.begin_deployment(a_plan("deploy-2"))
    assert registry.get("acme", "chat").status is EndpointStatus.CREATING
    assert registry.get("acme", "chat").failure_reason is None


def test_only_the_owning_execution_moves_a_record_on(registry: EndpointRegistry) -> None:
    registry.begin_deployment(a_plan("deploy-1"))
    with pytest.raises(Conflict, match="owned by execution 'deploy-1', not 'intruder'"):
        registry.mark_in_service("acme", "chat", correlation_id="intruder", endpoint_arn="arn:x")
    registry.mark_in_service("acme", "chat", correlation_id="deploy-1", endpoint_arn="arn:x")
    assert registry.get("acme", "chat").status is EndpointStatus.IN_SERVICE


def test_a_retried_step_finds_its_own_transition_done(registry: EndpointRegistry) -> None:
    # Step Functions retries a step whose invocation timed out after it had written.
    plan = a_plan("deploy-1")
    registry.begin_deployment(plan)
    assert registry.begin_deployment(plan).status is EndpointStatus.CREATING
    first = registry.mark_in_service("acme", "chat", correlation_id="deploy-1", endpoint_arn="a")
    again = registry.mark_in_service("acme", "chat", correlation_id="deploy-1", endpoint_arn="a")
    assert again == first
    with pytest.raises(Conflict, match="is IN_SERVICE; it cannot become IN_SERVICE"):
        registry.mark_in_service("acme", "chat", correlation_id="intruder", endpoint_arn="a")


def test_teardown_cannot_start_while_the_endpoint_is_being_created(
    registry: EndpointRegistry,
) -> None:
    registry.begin_deployment(a_plan("deploy-1"))
    with pytest.raises(Conflict, match="endpoint 'chat' is CREATING; it cannot become DELETING"):
        registry.begin_teardown("acme", "chat", correlation_id="teardown-1")


def test_teardown_takes_ownership_and_can_be_rerun(registry: EndpointRegistry) -> None:
    registry.begin_deployment(a_plan("deploy-1"))
    registry.mark_in_service("acme", "chat", correlation_id="deploy-1", endpoint_arn="arn:x")
    registry.begin_teardown("acme", "chat", correlation_id="teardown-1")
    registry.begin_teardown("acme", "chat", correlation_id="teardown-2")
    registry.mark_deleted("acme", "chat", correlation_id="teardown-2")
    assert registry.get("acme", "chat").status is EndpointStatus.DELETED
    with pytest.raises(NotFound, match="endpoint 'chat' was already deleted"):
        registry.begin_teardown("acme", "chat", correlation_id="teardown-3")


def test_another_tenants_endpoint_is_not_found(registry: EndpointRegistry) -> None:
    registry.begin_deployment(a_plan("deploy-1"))
    with pytest.raises(NotFound, match="no endpoint 'chat' for this tenant"):
        registry.get("globex", "chat")
    with pytest.raises(NotFound):
        registry.begin_teardown("globex", "chat", correlation_id="teardown-1")


def test_a_long_failure_cause_is_kept_short(registry: EndpointRegistry) -> None:
    registry.begin_deployment(a_plan("deploy-1"))
    registry.mark_failed("acme", "chat", correlation_id="deploy-1", reason="x" * 5000)
    reason = registry.get("acme", "chat").failure_reason
    assert reason is not None
    assert len(reason) == 2000
