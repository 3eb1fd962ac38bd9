"""Compensation deletes what the failed deployment created, and never someone else's endpoint."""

from __future__ import annotations

from contextlib import ExitStack
from typing import TYPE_CHECKING, Any
from unittest.mock import patch

import boto3
import pytest
from botocore.exceptions import ClientError

from maas.endpoints import DeploymentCleaner, plan_deployment
from maas.local import applicationautoscaling
from schemas import DeploymentRequest
from schemas.hours import OFFICE_HOURS_EXAMPLE
from tests.factories import ARTIFACTS_BUCKET, deployment_request, in_one_hour

if TYPE_CHECKING:
    from collections.abc import Iterator

    from maas.endpoints import DeploymentPlan

ROLE = "arn:aws:iam::123456789012:role/sagemaker"


@pytest.fixture
def clients(aws: None) -> Iterator[dict[str, Any]]:
    # AWS answers a missing scalable target with ObjectNotFoundException; moto needs the
    # local runtime's adapter to say so.
    with ExitStack() as stack:
        applicationautoscaling.install(stack)
        yield {
            "sagemaker": boto3.client("sagemaker"),
            "autoscaling": boto3.client("application-autoscaling"),
            "scheduler": boto3.client("scheduler"),
            "cloudwatch": boto3.client("cloudwatch"),
        }


def a_plan(correlation_id: str = "deploy-1") -> DeploymentPlan:
    request = deployment_request(
        instance_type="ml.m5.large",
        autoscaling={"min_capacity": 1, "max_capacity": 2},
        expires_at=in_one_hour(),
    )
    return plan_deployment(
        DeploymentRequest.model_validate(request),
        correlation_id=correlation_id,
        artifacts_bucket=ARTIFACTS_BUCKET,
        poll_interval_seconds=1,
        max_status_checks=5,
    )


def create(clients: dict[str, Any], plan: DeploymentPlan, *, upto: str) -> None:
    """Create the deployment's resources in order, stopping after ``upto``."""
    sagemaker = clients["sagemaker"]
    sagemaker.create_model(
        ModelName=plan.model_name,
        ExecutionRoleArn=ROLE,
        PrimaryContainer={"Image": plan.request.model.image_uri},
        Tags=plan.tags,
    )
    if upto == "model":
        return
    sagemaker.create_endpoint_config(
        EndpointConfigName=plan.endpoint_config_name,
        ProductionVariants=plan.production_variants,
        Tags=plan.tags,
    )
    if upto == "config":
        return
    sagemaker.create_endpoint(
        EndpointName=plan.sagemaker_endpoint_name,
        EndpointConfigName=plan.endpoint_config_name,
        Tags=plan.tags,
    )


def cleaner(clients: dict[str, Any]) -> DeploymentCleaner:
    return DeploymentCleaner(**clients)


def test_a_failure_after_the_model_deletes_only_the_model(clients: dict[str, Any]) -> None:
    plan = a_plan()
    create(clients, plan, upto="model")
    report = cleaner(clients).clean(plan)
    assert report.deleted == [f"model/{plan.model_name}"]
    assert f"endpoint/{plan.sagemaker_endpoint_name}" in report.absent
    assert report.endpoint_deleting is False
    assert clients["sagemaker"].list_models()["Models"] == []


def test_a_failed_endpoint_is_deleted_with_its_configuration_and_model(
    clients: dict[str, Any],
) -> None:
    plan = a_plan()
    create(clients, plan, upto="endpoint")
    report = cleaner(clients).clean(plan)
    assert set(report.deleted) == {
        f"endpoint/{plan.sagemaker_endpoint_name}",
        f"endpoint-config/{plan.endpoint_config_name}",
        f"model/{plan.model_name}",
    }
    assert report.endpoint_deleting is True
    sagemaker = clients["sagemaker"]
    assert sagemaker.list_endpoint_configs()["EndpointConfigs"] == []
    assert sagemaker.list_models()["Models"] == []


def test_an_endpoint_another_deployment_owns_is_left_alone(clients: dict[str, Any]) -> None:
    owner = a_plan("someone-else")
    create(clients, owner, upto="endpoint")
    failed = a_plan("deploy-2")
    report = cleaner(clients).clean(failed)
    assert report.left_alone == [f"endpoint/{failed.sagemaker_endpoint_name}"]
    assert report.endpoint_deleting is False
    endpoint = clients["sagemaker"].describe_endpoint(EndpointName=owner.sagemaker_endpoint_name)
    assert endpoint["EndpointStatus"] == "InService"


def test_scaling_and_schedule_that_were_never_created_count_as_absent(
    clients: dict[str, Any],
) -> None:
    plan = a_plan()
    report = cleaner(clients).clean(plan)
    assert plan.scaling is not None and plan.schedule is not None
    assert f"scalable-target/{plan.scaling.ResourceId}" in report.absent
    assert f"schedule/{plan.schedule.Name}" in report.absent
    assert report.deleted == []


def test_registered_scaling_and_schedule_are_deleted(clients: dict[str, Any]) -> None:
    plan = a_plan()
    assert plan.scaling is not None and plan.schedule is not None
    create(clients, plan, upto="endpoint")
    clients["autoscaling"].register_scalable_target(
        ServiceNamespace="sagemaker",
        ResourceId=plan.scaling.ResourceId,
        ScalableDimension=plan.scaling.ScalableDimension,
        MinCapacity=1,
        MaxCapacity=2,
    )
    clients["scheduler"].create_schedule(
        Name=plan.schedule.Name,
        ScheduleExpression=plan.schedule.ScheduleExpression,
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": "arn:aws:states:us-east-1:123456789012:stateMachine:t", "RoleArn": ROLE},
    )
    report = cleaner(clients).clean(plan)
    assert report.deleted[:2] == [
        f"schedule/{plan.schedule.Name}",
        f"scalable-target/{plan.scaling.ResourceId}",
    ]
    targets = clients["autoscaling"].describe_scalable_targets(ServiceNamespace="sagemaker")
    assert targets["ScalableTargets"] == []
    assert clients["scheduler"].list_schedules()["Schedules"] == []


def test_the_hours_schedules_are_deleted_and_a_missing_one_is_absent(
    clients: dict[str, Any],
) -> None:
    plan = plan_deployment(
        DeploymentRequest.model_validate(deployment_request(hours=OFFICE_HOURS_EXAMPLE)),
        correlation_id="deploy-1",
        artifacts_bucket=ARTIFACTS_BUCKET,
        poll_interval_seconds=1,
        max_status_checks=5,
    )
    assert plan.hours is not None
    stop, start = plan.hours.stop, plan.hours.start
    clients["scheduler"].create_schedule(
        Name=stop.Name,
        ScheduleExpression=stop.ScheduleExpression,
        ScheduleExpressionTimezone=stop.ScheduleExpressionTimezone,
        FlexibleTimeWindow={"Mode": "OFF"},
        Target={"Arn": "arn:aws:states:us-east-1:123456789012:stateMachine:t", "RoleArn": ROLE},
    )
    report = cleaner(clients).clean(plan)
    assert report.deleted == [f"schedule/{stop.Name}"]
    assert f"schedule/{start.Name}" in report.absent
    assert clients["scheduler"].list_schedules()["Schedules"] == []


def test_a_delete_iam_refuses_is_left_alone_not_failed(clients: dict[str, Any]) -> None:
    # On AWS the role may delete only resources tagged maas:tenant, and IAM answers a
    # resource that no longer exists (it has no tag) with AccessDenied, not "not found".
    plan = a_plan()
    create(clients, plan, upto="model")
    refused = ClientError(
        {"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}},
        "DeleteEndpointConfig",
    )
    sagemaker = clients["sagemaker"]
    with patch.object(sagemaker, "delete_endpoint_config", side_effect=refused):
        report = cleaner(clients).clean(plan)
    assert report.left_alone == [f"endpoint-config/{plan.endpoint_config_name}"]
    assert report.deleted == [f"model/{plan.model_name}"]
