"""A deployment plan holds exactly the calls deploy_endpoint makes, derived once."""

from __future__ import annotations

import json

import pytest

from maas.endpoints import plan_deployment
from maas.endpoints.plan import CONCURRENCY_METRIC, plan_teardown
from maas.exceptions import ValidationError
from schemas import DeploymentRequest, EndpointRecord, TeardownRequest
from tests.factories import ARTIFACTS_BUCKET, deployment_request, in_one_hour


def plan(**overrides: object) -> object:
    return plan_deployment(
        DeploymentRequest.model_validate(deployment_request(**overrides)),
        correlation_id="deploy-1",
        artifacts_bucket=ARTIFACTS_BUCKET,
        poll_interval_seconds=30,
        max_status_checks=120,
    )


def test_model_and_configuration_names_carry_the_execution_suffix() -> None:
    result = plan()
    assert result.sagemaker_endpoint_name == "acme-chat-c7bee5eb"
    assert result.model_name == result.endpoint_config_name == "acme-chat-c7bee5eb-244cf825"
    assert result.production_variants == [
        {
            "VariantName": "AllTraffic",
            "ModelName": "acme-chat-c7bee5eb-244cf825",
            "InstanceType": "ml.g5.xlarge",
            "InitialInstanceCount": 1,
            "InitialVariantWeight": 1.0,
        }
    ]


def test_every_resource_is_tagged_with_tenant_model_version_and_execution() -> None:
    tags = {tag["Key"]: tag["Value"] for tag in plan().tags}
    assert tags == {
        "maas:tenant": "acme",
        "maas:endpoint": "chat",
        "maas:model": "HuggingFaceTB/SmolLM2-135M-Instruct",
        "maas:version": "1",
        "maas:correlation-id": "deploy-1",
    }


def test_an_s3_prefix_is_served_uncompressed_and_an_object_as_a_tarball() -> None:
    prefix = plan().primary_container
    assert prefix["ModelDataSource"]["S3DataSource"] == {
        "S3Uri": "s3://maas-artifacts-bucket-123456789012/acme/smollm2/1/",
        "S3DataType": "S3Prefix",
        "CompressionType": "None",
    }
    assert "ModelDataUrl" not in prefix
    tarball_url = f"s3://{ARTIFACTS_BUCKET}/acme/model.tar.gz"
    model = deployment_request()["model"] | {"model_data_url": tarball_url}
    tarball = plan(model=model).primary_container
    assert tarball["ModelDataUrl"] == tarball_url
    assert "ModelDataSource" not in tarball


def test_autoscaling_tracks_concurrent_requests_per_model() -> None:
    scaling = plan(autoscaling={"min_capacity": 1, "max_capacity": 4}).scaling
    assert scaling is not None
    assert scaling.ResourceId == "endpoint/acme-chat-c7bee5eb/variant/AllTraffic"
    assert (scaling.MinCapacity, scaling.MaxCapacity) == (1, 4)
    configuration = scaling.TargetTrackingScalingPolicyConfiguration
    assert (
        configuration["PredefinedMetricSpecification"]["PredefinedMetricType"] == CONCURRENCY_METRIC
    )
    assert configuration["TargetValue"] == 4.0
    assert plan().scaling is None


def test_a_time_to_live_becomes_a_one_time_schedule_that_starts_teardown() -> None:
    schedule = plan(expires_at="2099-03-04T05:06:07+02:00").schedule
    assert schedule is not None
    assert schedule.ScheduleExpression == "at(2099-03-04T03:06:07)"
    assert schedule.ScheduleExpressionTimezone == "UTC"
    assert schedule.ActionAfterCompletion == "DELETE"
    assert json.loads(schedule.Input) == {
        "tenant_id": "acme",
        "endpoint_name": "chat",
        "delete_model": True,
    }
    assert plan(expires_at=in_one_hour()).schedule is not None
    assert plan().schedule is None


def test_an_instance_type_outside_the_catalog_is_rejected_naming_the_field() -> None:
    with pytest.raises(
        ValidationError, match=r"^instance_type: unknown instance type 'ml\.x9\.huge'"
    ):
        plan(instance_type="ml.x9.huge")


def test_model_data_in_another_bucket_or_tenant_prefix_is_rejected() -> None:
    for url in ("s3://elsewhere/acme/m/1/", f"s3://{ARTIFACTS_BUCKET}/globex/m/1/"):
        model = deployment_request()["model"] | {"model_data_url": url}
        with pytest.raises(ValidationError, match=r"^model\.model_data_url: must be under s3://"):
            plan(model=model)


def test_teardown_deletes_the_scaling_target_and_schedule_the_record_names() -> None:
    deployed = plan(autoscaling={"min_capacity": 1, "max_capacity": 2}, expires_at=in_one_hour())
    record = EndpointRecord.model_validate(
        {
            "tenant_id": "acme",
            "endpoint_name": "chat",
            "sagemaker_endpoint_name": deployed.sagemaker_endpoint_name,
            "status": "IN_SERVICE",
            "correlation_id": "deploy-1",
            "model": deployed.request.model.model_dump(),
            "model_name": deployed.model_name,
            "endpoint_config_name": deployed.endpoint_config_name,
            "variant_name": "AllTraffic",
            "instance_type": "ml.g5.xlarge",
            "instance_count": 1,
            "autoscaling": deployed.request.autoscaling.model_dump(),
            "schedule_name": deployed.schedule.Name,
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
        }
    )
    teardown = plan_teardown(
        record,
        TeardownRequest(tenant_id="acme", endpoint_name="chat", delete_model=False),
        poll_interval_seconds=30,
        max_status_checks=10,
    )
    assert teardown.scaling_target is not None
    assert teardown.scaling_target.ResourceId == "endpoint/acme-chat-c7bee5eb/variant/AllTraffic"
    assert teardown.schedule_name == deployed.schedule.Name
    assert teardown.delete_model is False
    assert teardown.polling.max_attempts == 10
