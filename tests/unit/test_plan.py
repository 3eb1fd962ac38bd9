"""A deployment plan holds exactly the calls deploy_endpoint makes, derived once."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from maas.endpoints import plan_deployment
from maas.endpoints.plan import (
    CONCURRENCY_METRIC,
    DeploymentPlan,
    clamp_timeout,
    plan_teardown,
    registered_bytes,
    resolve_model,
    variant_timeouts,
)
from maas.endpoints.update import plan_update
from maas.exceptions import ValidationError
from schemas import (
    DeploymentRequest,
    EndpointRecord,
    ModelReference,
    ModelVersionRecord,
    TeardownRequest,
    UpdateRequest,
)
from tests.factories import ARTIFACTS_BUCKET, deployment_request, in_one_hour


def plan(**overrides: object) -> DeploymentPlan:
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
            # No size given: the most an A10G's 24 GiB could hold (120 s + 25.8 GB / 50 MB/s
            # to download, 300 s + 25.8 GB / 100 MB/s to start).
            "ModelDataDownloadTimeoutInSeconds": 636,
            "ContainerStartupHealthCheckTimeoutInSeconds": 558,
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
    assert deployed.request.autoscaling is not None
    assert deployed.schedule is not None
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


def timeouts(result: DeploymentPlan) -> tuple[int, int]:
    [variant] = result.production_variants
    return (
        variant["ModelDataDownloadTimeoutInSeconds"],
        variant["ContainerStartupHealthCheckTimeoutInSeconds"],
    )


def test_the_variant_timeouts_grow_with_the_package_size() -> None:
    # SageMaker's defaults suit small models; a large one times out downloading or loading.
    model = deployment_request()["model"]
    small = plan(model=model | {"model_data_bytes": 269_030_016})  # SmolLM2-135M
    large = plan(model=model | {"model_data_bytes": 16_060_522_496})  # Llama-3.1-8B
    assert timeouts(small) == (126, 303)
    assert timeouts(large) == (442, 461)


def test_the_variant_timeouts_stay_within_sagemakers_bounds() -> None:
    # https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ProductionVariant.html:
    # both timeouts take 60 to 3600 seconds.
    assert (clamp_timeout(0), clamp_timeout(59.2), clamp_timeout(10**6)) == (60, 60, 3600)
    assert set(variant_timeouts(700 * 10**9).values()) == {3600}
    model = deployment_request()["model"] | {"model_data_bytes": 10**13}
    assert timeouts(plan(model=model)) == (3600, 3600)


def test_without_a_size_the_timeouts_fit_the_most_the_instance_could_serve() -> None:
    # ml.g5.12xlarge: four A10Gs of 24 GiB, 96 GiB in all.
    assert timeouts(plan(instance_type="ml.g5.12xlarge")) == tuple(
        variant_timeouts(96 * 2**30).values()
    )


def test_a_registered_version_brings_its_weight_bytes_from_its_advisor_report() -> None:
    assert registered_bytes({"checkpoint_bytes": 5, "weight_bytes": 7}) == 5
    assert registered_bytes({"checkpoint_bytes": None, "weight_bytes": 7}) == 7
    assert registered_bytes({}) is None
    assert registered_bytes(None) is None


class OneVersion:
    """A model registry holding one registered, approved version."""

    def __init__(self, advisor_report: dict[str, object] | None) -> None:
        now = datetime.now(UTC).isoformat()
        self.record = ModelVersionRecord.model_validate(
            {
                "tenant_id": "acme",
                "model_name": "smollm2",
                "version": 1,
                "status": "REGISTERED",
                "source": {"kind": "local", "path": "/models/smollm2"},
                "serving": {},
                "correlation_id": "package-1",
                "artifact_uri": f"s3://{ARTIFACTS_BUCKET}/acme/smollm2/1/",
                "image_uri": deployment_request()["model"]["image_uri"],
                "instance_type": "ml.g5.xlarge",
                "advisor_report": advisor_report,
                "approval_status": "Approved",
                "created_at": now,
                "updated_at": now,
            }
        )

    def get(self, tenant_id: str, model_name: str, version: int) -> ModelVersionRecord:
        return self.record


def test_a_resolved_version_sizes_its_timeouts_from_its_checkpoint_bytes() -> None:
    request = DeploymentRequest.model_validate(
        deployment_request(model={"model_name": "smollm2", "version": 1})
    )
    registry = OneVersion({"checkpoint_bytes": 16_060_522_496, "weight_bytes": 1})
    resolved = resolve_model(request, registry)  # type: ignore[arg-type]
    assert isinstance(resolved.model, ModelReference)
    assert resolved.model.model_data_bytes == 16_060_522_496
    result = plan_deployment(
        resolved,
        correlation_id="deploy-1",
        artifacts_bucket=ARTIFACTS_BUCKET,
        poll_interval_seconds=30,
        max_status_checks=120,
    )
    assert timeouts(result) == (442, 461)


def test_an_endpoint_recorded_before_weight_bytes_were_kept_serves_the_same_version() -> None:
    """Asking a record written without ``model_data_bytes`` for the version it serves is
    still a change to nothing: the bytes come from the version, not from the request."""
    registry = OneVersion({"checkpoint_bytes": 16_060_522_496})
    now = datetime.now(UTC).isoformat()
    served = {**deployment_request()["model"], "model_id": "smollm2", "version": "1"}
    served["model_data_url"] = registry.record.artifact_uri
    record = EndpointRecord.model_validate(
        {
            "tenant_id": "acme",
            "endpoint_name": "chat",
            "status": "IN_SERVICE",
            "correlation_id": "deploy-1",
            "model": served,
            "model_name": "chat-model",
            "endpoint_config_name": "chat-config",
            "variant_name": "AllTraffic",
            "instance_type": "ml.g5.xlarge",
            "instance_count": 1,
            "created_at": now,
            "updated_at": now,
        }
    )
    assert record.model.model_data_bytes is None
    request = UpdateRequest.model_validate(
        {
            "tenant_id": "acme",
            "endpoint_name": "chat",
            "model": {"model_name": "smollm2", "version": 1},
        }
    )
    with pytest.raises(ValidationError, match="nothing to change"):
        plan_update(
            record,
            request,
            models=registry,  # type: ignore[arg-type]
            correlation_id="update-1",
            artifacts_bucket=ARTIFACTS_BUCKET,
            poll_interval_seconds=30,
            max_status_checks=120,
        )
