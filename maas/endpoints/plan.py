"""Turn a deployment request into the exact calls the ``deploy_endpoint`` workflow makes.

The workflow passes these pieces straight to SageMaker, Application Auto Scaling and
EventBridge Scheduler; the logic (names, tags, model data layout, scaling policy, TTL
expression) lives here, where it is typed and tested.
"""

from __future__ import annotations

import json
import math
from datetime import UTC
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from maas.exceptions import Conflict, ValidationError
from maas.instances import get_instance_type
from maas.naming import (
    hours_schedule_name,
    idle_alarm_name,
    run_suffix,
    sagemaker_endpoint_name,
    sagemaker_name,
    ttl_schedule_name,
)
from schemas import (
    DeploymentRequest,
    EndpointRecord,
    ModelReference,
    ScalingMetric,
    StartEndpointRequest,
    StopEndpointRequest,
    TeardownRequest,
)
from schemas.packaging import ApprovalStatus, VersionStatus

if TYPE_CHECKING:
    from maas.registry import ModelRegistry
    from schemas import AutoscalingConfig

#: Target-tracking on in-flight requests per model: the queueing signal of LLM serving.
CONCURRENCY_METRIC = "SageMakerVariantConcurrentRequestsPerModelHighResolution"
#: Target-tracking on invocations per instance per minute: the option for short requests.
INVOCATIONS_METRIC = "SageMakerVariantInvocationsPerInstance"
SCALABLE_DIMENSION = "sagemaker:variant:DesiredInstanceCount"
#: What the idle limit watches: SageMaker's count of a variant's InvokeEndpoint requests.
IDLE_METRIC = "Invocations"
#: SageMaker reports ``Invocations`` per minute.
IDLE_PERIOD_SECONDS = 60

# The production variant's timeouts. SageMaker's defaults suit small models: a large one
# times out downloading or loading and the endpoint fails. Both are sized from the package's
# weight bytes. The rates are assumptions, chosen low on purpose: a timeout that is too short
# fails a deployment that would have worked, one that is too long only reports a real
# failure later.
#: SageMaker's bounds of ModelDataDownloadTimeoutInSeconds and
#: ContainerStartupHealthCheckTimeoutInSeconds (API_ProductionVariant).
VARIANT_TIMEOUT_MIN_SECONDS = 60
VARIANT_TIMEOUT_MAX_SECONDS = 3600
#: Sustained S3 download rate assumed for one instance (an S3 prefix, uncompressed).
DOWNLOAD_BYTES_PER_SECOND = 50e6
#: Allowance before the first byte: listing the prefix, opening the connections.
DOWNLOAD_BASE_SECONDS = 120
#: Rate assumed for the container to read the weights from local disk onto the accelerators.
LOAD_BYTES_PER_SECOND = 100e6
#: Allowance for the container's start and the engine's warm-up (memory profiling, CUDA-graph
#: capture) whatever the model's size.
STARTUP_BASE_SECONDS = 300


class Polling(BaseModel):
    """How the workflow's Wait loop checks the endpoint's status."""

    interval_seconds: int = Field(ge=1)
    max_attempts: int = Field(ge=1)
    attempt: int = 0


class ScalingPlan(BaseModel):
    """RegisterScalableTarget and PutScalingPolicy arguments, PascalCase as the APIs take them."""

    ServiceNamespace: str = "sagemaker"
    ResourceId: str
    ScalableDimension: str = SCALABLE_DIMENSION
    MinCapacity: int
    MaxCapacity: int
    PolicyName: str
    PolicyType: str = "TargetTrackingScaling"
    TargetTrackingScalingPolicyConfiguration: dict[str, Any]


class SchedulePlan(BaseModel):
    """CreateSchedule arguments: the one-time teardown at ``expires_at``, or an hours schedule."""

    Name: str
    ScheduleExpression: str
    ScheduleExpressionTimezone: str = "UTC"
    ActionAfterCompletion: str = "DELETE"
    FlexibleTimeWindow: dict[str, str] = Field(default_factory=lambda: {"Mode": "OFF"})
    Input: str = Field(description="The target workflow's request, as JSON text.")


class HoursPlan(BaseModel):
    """The two recurring schedules of an endpoint's on/off hours."""

    stop: SchedulePlan = Field(description="Starts ``stop_endpoint`` at closing time.")
    start: SchedulePlan = Field(description="Starts ``start_endpoint`` at opening time.")


class HoursScheduleNames(BaseModel):
    """The names of an endpoint's on/off-hours schedules, for deleting them."""

    stop: str
    start: str


class IdleAlarmPlan(BaseModel):
    """PutMetricAlarm arguments of the idle limit: no invocation for ``EvaluationPeriods`` minutes.

    SageMaker publishes ``Invocations`` only for minutes in which the variant was invoked: an
    endpoint nobody calls has no datapoints at all, not zeros. So a missing minute is an idle
    minute (``TreatMissingData: breaching``), and a minute that was reported with a sum of 0
    is one too (``<= 0``); with ``missing`` or ``notBreaching`` the alarm of an unused
    endpoint would never fire. The alarm has no actions: CloudWatch puts every state change
    on the default event bus, where a rule starts the teardown.
    """

    AlarmName: str
    AlarmDescription: str
    Namespace: str = "AWS/SageMaker"
    MetricName: str = IDLE_METRIC
    Dimensions: list[dict[str, str]]
    Statistic: str = "Sum"
    Period: int = IDLE_PERIOD_SECONDS
    EvaluationPeriods: int = Field(ge=1)
    DatapointsToAlarm: int = Field(ge=1)
    Threshold: float = 0.0
    ComparisonOperator: str = "LessThanOrEqualToThreshold"
    TreatMissingData: str = "breaching"
    Tags: list[dict[str, str]]


class DeploymentPlan(BaseModel):
    """Everything ``deploy_endpoint`` needs after validation, names derived once."""

    request: DeploymentRequest
    correlation_id: str
    tenant_id: str
    endpoint_name: str
    sagemaker_endpoint_name: str = Field(description="The endpoint's name in SageMaker.")
    model_name: str
    endpoint_config_name: str
    tags: list[dict[str, str]]
    primary_container: dict[str, Any]
    production_variants: list[dict[str, Any]]
    scaling: ScalingPlan | None
    schedule: SchedulePlan | None
    hours: HoursPlan | None = None
    idle_alarm: IdleAlarmPlan | None = None
    polling: Polling


class ScalableTarget(BaseModel):
    """DeregisterScalableTarget arguments."""

    ServiceNamespace: str = "sagemaker"
    ResourceId: str
    ScalableDimension: str = SCALABLE_DIMENSION


class TeardownPlan(BaseModel):
    """What ``teardown`` deletes, read from the endpoint's record."""

    record: EndpointRecord
    delete_model: bool
    scaling_target: ScalableTarget | None
    schedule_name: str | None
    hours_schedules: HoursScheduleNames | None = None
    idle_alarm_name: str | None = None
    polling: Polling


def plan_teardown(
    record: EndpointRecord,
    request: TeardownRequest,
    *,
    poll_interval_seconds: int,
    max_status_checks: int,
) -> TeardownPlan:
    """Everything teardown deletes, from what the deployment recorded."""
    target = None
    if record.autoscaling is not None:
        target = ScalableTarget(
            ResourceId=f"endpoint/{record.sagemaker_endpoint_name}/variant/{record.variant_name}"
        )
    return TeardownPlan(
        record=record,
        delete_model=request.delete_model,
        scaling_target=target,
        schedule_name=record.schedule_name,
        idle_alarm_name=record.idle_alarm_name,
        hours_schedules=(
            hours_schedule_names(record.tenant_id, record.endpoint_name) if record.hours else None
        ),
        polling=Polling(interval_seconds=poll_interval_seconds, max_attempts=max_status_checks),
    )


def resolve_model(request: DeploymentRequest, registry: ModelRegistry) -> DeploymentRequest:
    """The request with a registered version replaced by its image, artifact and instance type.

    Only a REGISTERED, Approved version of the tenant's own models deploys.
    """
    selection = request.model
    if isinstance(selection, ModelReference):
        return request
    record = registry.get(request.tenant_id, selection.model_name, selection.version)
    described = f"version {record.version} of model {record.model_name!r}"
    if record.status is not VersionStatus.REGISTERED:
        raise Conflict(f"model.version: {described} is {record.status.value}, not REGISTERED")
    if record.approval_status is not ApprovalStatus.APPROVED:
        status = record.approval_status.value if record.approval_status else "not approved"
        raise Conflict(f"model.version: {described} is {status}; only Approved versions deploy")
    if record.image_uri is None or record.instance_type is None:
        raise Conflict(f"model.version: {described} has no serving configuration")
    reference = ModelReference(
        model_id=record.model_name,
        version=str(record.version),
        image_uri=record.image_uri,
        model_data_url=record.artifact_uri,
        environment=record.environment,
        model_data_bytes=registered_bytes(record.advisor_report),
    )
    return request.model_copy(
        update={"model": reference, "instance_type": request.instance_type or record.instance_type}
    )


def explicit_model(request: DeploymentRequest) -> ModelReference:
    """The request's model as an image and artifact (a registered version resolved first)."""
    if not isinstance(request.model, ModelReference):
        raise ValidationError("model: a registered version must be resolved before planning")
    return request.model


def resource_tags(request: DeploymentRequest, correlation_id: str) -> list[dict[str, str]]:
    """The tags every resource of a deployment carries; tenancy and cleanup rely on them."""
    return endpoint_tags(
        request.tenant_id, request.endpoint_name, explicit_model(request), correlation_id
    )


def endpoint_tags(
    tenant_id: str, endpoint_name: str, model: ModelReference, correlation_id: str
) -> list[dict[str, str]]:
    """The tags of an endpoint's resources, ``maas:correlation-id`` naming the creator."""
    tags = {
        "maas:tenant": tenant_id,
        "maas:endpoint": endpoint_name,
        "maas:model": model.model_id,
        "maas:version": model.version,
        "maas:correlation-id": correlation_id,
    }
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def primary_container(request: DeploymentRequest) -> dict[str, Any]:
    """The model's container: an S3 prefix is served uncompressed, an object as model.tar.gz.

    SageMaker loads large models fastest from uncompressed S3 data (``ModelDataSource``
    with ``CompressionType: None``); a single object is the classic tarball.
    """
    model = explicit_model(request)
    container: dict[str, Any] = {"Image": model.image_uri, "Environment": model.environment}
    if model.model_data_url.endswith("/"):
        container["ModelDataSource"] = {
            "S3DataSource": {
                "S3Uri": model.model_data_url,
                "S3DataType": "S3Prefix",
                "CompressionType": "None",
            }
        }
    else:
        container["ModelDataUrl"] = model.model_data_url
    return container


def clamp_timeout(seconds: float) -> int:
    """``seconds`` rounded up into SageMaker's bounds of a variant's timeouts (60 to 3600)."""
    return min(max(math.ceil(seconds), VARIANT_TIMEOUT_MIN_SECONDS), VARIANT_TIMEOUT_MAX_SECONDS)


def variant_timeouts(model_bytes: int) -> dict[str, int]:
    """The production variant's download and start-up timeouts for ``model_bytes`` of weights.

    download = 120 s + bytes / 50 MB/s; start-up = 300 s + bytes / 100 MB/s; each rounded up
    and clamped to SageMaker's 60 to 3600 seconds.

    Examples
    --------
    >>> variant_timeouts(16_060_522_496)  # Llama-3.1-8B in bf16
    {'ModelDataDownloadTimeoutInSeconds': 442, 'ContainerStartupHealthCheckTimeoutInSeconds': 461}
    >>> variant_timeouts(0)
    {'ModelDataDownloadTimeoutInSeconds': 120, 'ContainerStartupHealthCheckTimeoutInSeconds': 300}
    >>> variant_timeouts(700 * 10**9)  # DeepSeek-V3 in FP8: both at SageMaker's maximum
    {'ModelDataDownloadTimeoutInSeconds': 3600, 'ContainerStartupHealthCheckTimeoutInSeconds': 3600}
    """
    return {
        "ModelDataDownloadTimeoutInSeconds": clamp_timeout(
            DOWNLOAD_BASE_SECONDS + model_bytes / DOWNLOAD_BYTES_PER_SECOND
        ),
        "ContainerStartupHealthCheckTimeoutInSeconds": clamp_timeout(
            STARTUP_BASE_SECONDS + model_bytes / LOAD_BYTES_PER_SECOND
        ),
    }


def model_data_bytes(model: ModelReference, instance_type: str) -> int:
    """The package's weight bytes, or, when unknown, the most the instance could serve: its
    accelerators' memory (its memory on a CPU instance)."""
    if model.model_data_bytes is not None:
        return model.model_data_bytes
    instance = get_instance_type(instance_type)
    gib = (
        instance.accelerator_count * instance.accelerator_memory_gib
        if instance.accelerator_count
        else instance.memory_gib
    )
    return gib * 2**30


def registered_bytes(advisor_report: dict[str, Any] | None) -> int | None:
    """A registered version's weight bytes, from its advisor report: as the safetensors headers
    give them, else as the advisor computed them from the config (bf16)."""
    if not advisor_report:
        return None
    stored = advisor_report.get("checkpoint_bytes")
    computed = advisor_report.get("weight_bytes")
    value = stored if isinstance(stored, int) else computed
    return value if isinstance(value, int) and value >= 0 else None


def scaling_plan(request: DeploymentRequest) -> ScalingPlan | None:
    """The deployment's target tracking, or None when the count is fixed."""
    if request.autoscaling is None:
        return None
    return target_tracking(
        sagemaker_endpoint_name(request.tenant_id, request.endpoint_name),
        request.variant_name,
        request.autoscaling,
    )


def target_tracking(
    sagemaker_endpoint: str, variant_name: str, scaling: AutoscalingConfig
) -> ScalingPlan:
    """Target tracking on the variant (of the endpoint SageMaker calls ``sagemaker_endpoint``):
    concurrent requests per model, or invocations.

    The policy's name does not depend on the metric, so putting it again (a scaling change)
    replaces the one policy instead of leaving the old metric's policy behind.
    """
    if scaling.metric is ScalingMetric.INVOCATIONS:
        metric, target = INVOCATIONS_METRIC, scaling.target_invocations_per_instance
    else:
        metric, target = CONCURRENCY_METRIC, scaling.target_concurrent_requests
    return ScalingPlan(
        ResourceId=f"endpoint/{sagemaker_endpoint}/variant/{variant_name}",
        MinCapacity=scaling.min_capacity,
        MaxCapacity=scaling.max_capacity,
        PolicyName=f"{sagemaker_endpoint}-target-tracking",
        TargetTrackingScalingPolicyConfiguration={
            "TargetValue": target,
            "PredefinedMetricSpecification": {"PredefinedMetricType": metric},
            "ScaleInCooldown": scaling.scale_in_cooldown_seconds,
            "ScaleOutCooldown": scaling.scale_out_cooldown_seconds,
        },
    )


def schedule_plan(request: DeploymentRequest) -> SchedulePlan | None:
    """A one-time schedule that starts ``teardown`` at ``expires_at``, or None."""
    if request.expires_at is None:
        return None
    teardown = TeardownRequest(tenant_id=request.tenant_id, endpoint_name=request.endpoint_name)
    at_utc = request.expires_at.astimezone(UTC)
    return SchedulePlan(
        Name=ttl_schedule_name(request.tenant_id, request.endpoint_name),
        ScheduleExpression=f"at({at_utc.strftime('%Y-%m-%dT%H:%M:%S')})",
        Input=json.dumps(teardown.model_dump(mode="json")),
    )


def hours_schedule_names(tenant_id: str, endpoint_name: str) -> HoursScheduleNames:
    """The names of the endpoint's stop and start schedules."""
    return HoursScheduleNames(
        stop=hours_schedule_name(tenant_id, endpoint_name, "stop"),
        start=hours_schedule_name(tenant_id, endpoint_name, "start"),
    )


def hours_plan(request: DeploymentRequest) -> HoursPlan | None:
    """Recurring schedules that stop and start the endpoint in its time zone, or None.

    They stay after firing (``ActionAfterCompletion: NONE``) until teardown deletes them, and
    fire on the minute (no flexible window): an endpoint that should be closed costs money.
    """
    if request.hours is None:
        return None
    hours = request.hours
    names = hours_schedule_names(request.tenant_id, request.endpoint_name)
    stop = StopEndpointRequest(tenant_id=request.tenant_id, endpoint_name=request.endpoint_name)
    start = StartEndpointRequest(tenant_id=request.tenant_id, endpoint_name=request.endpoint_name)
    return HoursPlan(
        stop=SchedulePlan(
            Name=names.stop,
            ScheduleExpression=hours.stop,
            ScheduleExpressionTimezone=hours.timezone,
            ActionAfterCompletion="NONE",
            Input=json.dumps(stop.model_dump(mode="json")),
        ),
        start=SchedulePlan(
            Name=names.start,
            ScheduleExpression=hours.start,
            ScheduleExpressionTimezone=hours.timezone,
            ActionAfterCompletion="NONE",
            Input=json.dumps(start.model_dump(mode="json")),
        ),
    )


def idle_alarm_plan(request: DeploymentRequest, tags: list[dict[str, str]]) -> IdleAlarmPlan | None:
    """The alarm that reports the endpoint idle for ``idle_timeout_minutes``, or None."""
    minutes = request.idle_timeout_minutes
    if minutes is None:
        return None
    return IdleAlarmPlan(
        AlarmName=idle_alarm_name(request.tenant_id, request.endpoint_name),
        AlarmDescription=f"maas: endpoint {request.endpoint_name} of tenant "
        f"{request.tenant_id} served no invocation for {minutes} minutes; it is torn down.",
        Dimensions=[
            {
                "Name": "EndpointName",
                "Value": sagemaker_endpoint_name(request.tenant_id, request.endpoint_name),
            },
            {"Name": "VariantName", "Value": request.variant_name},
        ],
        EvaluationPeriods=minutes,
        DatapointsToAlarm=minutes,
        Tags=tags,
    )


def check_model_data(request: DeploymentRequest, artifacts_bucket: str) -> None:
    """Model data must be under the tenant's own prefix of the artifacts bucket.

    SageMaker reads it with the platform's execution role, which can read that bucket only;
    and a tenant must not serve another tenant's artifacts. Refusing here, before anything
    is created, beats an endpoint that fails to download minutes later.
    """
    prefix = f"s3://{artifacts_bucket}/{request.tenant_id}/"
    model_data_url = explicit_model(request).model_data_url
    if not model_data_url.startswith(prefix):
        raise ValidationError(
            f"model.model_data_url: must be under {prefix} (the tenant's prefix of the "
            f"artifacts bucket), got {model_data_url}"
        )


def plan_deployment(
    request: DeploymentRequest,
    *,
    correlation_id: str,
    artifacts_bucket: str,
    poll_interval_seconds: int,
    max_status_checks: int,
) -> DeploymentPlan:
    """Check what the request's schema cannot (catalog, artifact location); derive every name.

    Examples
    --------
    >>> from schemas import DeploymentRequest
    >>> request = DeploymentRequest.model_validate({
    ...     "tenant_id": "acme", "endpoint_name": "chat", "instance_type": "ml.g5.xlarge",
    ...     "model": {"model_id": "org/m", "version": "1",
    ...               "image_uri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/lmi:1",
    ...               "model_data_url": "s3://bucket/acme/m/1/"}})
    >>> plan = plan_deployment(request, correlation_id="deploy-1", artifacts_bucket="bucket",
    ...                        poll_interval_seconds=30, max_status_checks=120)
    >>> plan.sagemaker_endpoint_name, plan.model_name, plan.endpoint_config_name
    ('acme-chat-c7bee5eb', 'acme-chat-c7bee5eb-244cf825', 'acme-chat-c7bee5eb-244cf825')
    """
    if request.instance_type is None:
        raise ValidationError("instance_type: required unless the model is a registered version")
    get_instance_type(request.instance_type)
    check_model_data(request, artifacts_bucket)
    physical_name = sagemaker_endpoint_name(request.tenant_id, request.endpoint_name)
    model_name = sagemaker_name(physical_name, run_suffix(correlation_id))
    tags = resource_tags(request, correlation_id)
    return DeploymentPlan(
        request=request,
        correlation_id=correlation_id,
        tenant_id=request.tenant_id,
        endpoint_name=request.endpoint_name,
        sagemaker_endpoint_name=physical_name,
        model_name=model_name,
        endpoint_config_name=model_name,
        tags=tags,
        primary_container=primary_container(request),
        production_variants=[
            {
                "VariantName": request.variant_name,
                "ModelName": model_name,
                "InstanceType": request.instance_type,
                "InitialInstanceCount": request.instance_count,
                "InitialVariantWeight": 1.0,
                **variant_timeouts(
                    model_data_bytes(explicit_model(request), request.instance_type)
                ),
            }
        ],
        scaling=scaling_plan(request),
        schedule=schedule_plan(request),
        hours=hours_plan(request),
        idle_alarm=idle_alarm_plan(request, tags),
        polling=Polling(interval_seconds=poll_interval_seconds, max_attempts=max_status_checks),
    )


__all__ = [
    "CONCURRENCY_METRIC",
    "IDLE_METRIC",
    "IDLE_PERIOD_SECONDS",
    "INVOCATIONS_METRIC",
    "VARIANT_TIMEOUT_MAX_SECONDS",
    "VARIANT_TIMEOUT_MIN_SECONDS",
    "DeploymentPlan",
    "HoursPlan",
    "HoursScheduleNames",
    "IdleAlarmPlan",
    "Polling",
    "ScalableTarget",
    "ScalingPlan",
    "SchedulePlan",
    "TeardownPlan",
    "check_model_data",
    "clamp_timeout",
    "endpoint_tags",
    "explicit_model",
    "hours_plan",
    "hours_schedule_names",
    "idle_alarm_plan",
    "model_data_bytes",
    "plan_deployment",
    "plan_teardown",
    "primary_container",
    "registered_bytes",
    "resolve_model",
    "resource_tags",
    "scaling_plan",
    "schedule_plan",
    "target_tracking",
    "variant_timeouts",
]
