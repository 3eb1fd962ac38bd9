"""Turn an update request into the calls the ``update_endpoint`` workflow makes.

A new model and endpoint configuration are derived exactly as a deployment derives them
(:func:`maas.endpoints.plan.plan_deployment`), then ``UpdateEndpoint`` moves the endpoint to
them with a blue/green ``DeploymentConfig``: SageMaker starts the new fleet beside the old
one, shifts traffic as asked, and rolls back when one of the rollback alarms fires while the
traffic moves or the new fleet bakes. The alarms watch the new fleet only (the
``EndpointConfigName`` dimension), so errors the old fleet already had do not stop it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from maas.advisor import AdvisorReport, advise_on_instance
from maas.endpoints.plan import (
    Polling,
    ScalableTarget,
    ScalingPlan,
    plan_deployment,
    resolve_model,
    target_tracking,
)
from maas.exceptions import Conflict, NoInstanceFits, NotFound, ValidationError
from schemas import DeploymentRequest, EndpointStatus, ModelReference, TrafficRouting

if TYPE_CHECKING:
    from maas.registry import ModelRegistry
    from schemas import BlueGreenPolicy, EndpointRecord, ModelVersionRecord, UpdateRequest

#: Names of the rollback alarms an update creates start with this (IAM scopes them by it).
ROLLBACK_ALARM_PREFIX = "maas-rollback-"
#: SageMaker hosting's metrics namespace.
SAGEMAKER_NAMESPACE = "AWS/SageMaker"
#: ModelLatency is reported in microseconds.
MICROSECONDS = 1_000_000


class MetricAlarm(BaseModel):
    """PutMetricAlarm arguments, PascalCase as the API takes them."""

    AlarmName: str
    AlarmDescription: str
    Namespace: str = SAGEMAKER_NAMESPACE
    MetricName: str
    Dimensions: list[dict[str, str]]
    Statistic: str
    Period: int = 60
    EvaluationPeriods: int
    Threshold: float
    ComparisonOperator: str = "GreaterThanOrEqualToThreshold"
    #: No requests on the new fleet is not a reason to roll back.
    TreatMissingData: str = "notBreaching"
    Tags: list[dict[str, str]]


class RollbackAlarmPlan(BaseModel):
    """The two alarms the update creates on the new fleet."""

    errors: MetricAlarm
    latency: MetricAlarm


class UpdatePlan(BaseModel):
    """Everything ``update_endpoint`` needs: what to create, what to delete, what to record."""

    tenant_id: str
    endpoint_name: str
    sagemaker_endpoint_name: str
    correlation_id: str
    model: ModelReference
    model_name: str
    endpoint_config_name: str
    instance_type: str
    previous_model: ModelReference
    previous_model_name: str
    previous_endpoint_config_name: str
    previous_instance_type: str
    tags: list[dict[str, str]]
    primary_container: dict[str, Any]
    production_variants: list[dict[str, Any]]
    alarms: RollbackAlarmPlan
    #: The alarms this update creates, deleted when it ends either way.
    alarm_names: list[str]
    deployment_config: dict[str, Any]
    traffic_routing: TrafficRouting
    deregister: ScalableTarget | None
    scaling: ScalingPlan | None
    polling: Polling


def registered_version(
    reference: ModelReference, tenant_id: str, models: ModelRegistry
) -> ModelVersionRecord | None:
    """The registry's version that ``reference`` was resolved from, or None (an explicit model)."""
    if not reference.version.isdigit():
        return None
    try:
        version = models.get(tenant_id, reference.model_id, int(reference.version))
    except NotFound:
        return None
    return version if version.artifact_uri == reference.model_data_url else None


def check_fit(version: ModelVersionRecord | None, instance_type: str) -> None:
    """Refuse an instance type the advisor says cannot serve the version's load.

    A model deployed from an explicit image and artifact has no advisor report: only the
    instance type catalog checks it (in :func:`maas.endpoints.plan.plan_deployment`).
    """
    if version is None or not version.advisor_report:
        return
    described = f"version {version.version} of model {version.model_name!r}"
    report = AdvisorReport.model_validate(version.advisor_report)
    try:
        advise_on_instance(report, instance_type)
    except NoInstanceFits as exc:
        raise NoInstanceFits(f"instance_type: {described} does not fit: {exc.message}") from None
    except ValidationError as exc:
        raise ValidationError(f"instance_type: {described}: {exc.message}") from None


def rollback_alarms(
    sagemaker_endpoint: str,
    variant_name: str,
    endpoint_config_name: str,
    request: UpdateRequest,
    tags: list[dict[str, str]],
) -> RollbackAlarmPlan:
    """Invocation errors and model latency of the new fleet, over the request's thresholds."""
    thresholds = request.rollback
    dimensions = [
        {"Name": "EndpointName", "Value": sagemaker_endpoint},
        {"Name": "VariantName", "Value": variant_name},
        {"Name": "EndpointConfigName", "Value": endpoint_config_name},
    ]
    prefix = f"{ROLLBACK_ALARM_PREFIX}{endpoint_config_name}"
    return RollbackAlarmPlan(
        errors=MetricAlarm(
            AlarmName=f"{prefix}-5xx-errors",
            AlarmDescription=f"Roll back the update of {sagemaker_endpoint} to "
            f"{endpoint_config_name} on {thresholds.max_5xx_errors_per_minute} or more 5XX "
            "errors a minute",
            MetricName="Invocation5XXErrors",
            Dimensions=dimensions,
            Statistic="Sum",
            EvaluationPeriods=thresholds.evaluation_minutes,
            Threshold=thresholds.max_5xx_errors_per_minute,
            Tags=tags,
        ),
        latency=MetricAlarm(
            AlarmName=f"{prefix}-model-latency",
            AlarmDescription=f"Roll back the update of {sagemaker_endpoint} to "
            f"{endpoint_config_name} when its model takes "
            f"{thresholds.max_model_latency_seconds:g} s or more on average",
            MetricName="ModelLatency",
            Dimensions=dimensions,
            Statistic="Average",
            EvaluationPeriods=thresholds.evaluation_minutes,
            Threshold=thresholds.max_model_latency_seconds * MICROSECONDS,
            Tags=tags,
        ),
    )


def deployment_config(policy: BlueGreenPolicy, alarm_names: list[str]) -> dict[str, Any]:
    """UpdateEndpoint's ``DeploymentConfig``: blue/green routing, baking, rollback alarms."""
    routing: dict[str, Any] = {
        "Type": policy.traffic_routing.value,
        "WaitIntervalInSeconds": policy.wait_interval_seconds,
    }
    if policy.canary_percent is not None:
        routing["CanarySize"] = {"Type": "CAPACITY_PERCENT", "Value": policy.canary_percent}
    if policy.linear_step_percent is not None:
        routing["LinearStepSize"] = {
            "Type": "CAPACITY_PERCENT",
            "Value": policy.linear_step_percent,
        }
    blue_green: dict[str, Any] = {
        "TrafficRoutingConfiguration": routing,
        "TerminationWaitInSeconds": policy.baking_seconds,
    }
    if policy.max_execution_seconds is not None:
        blue_green["MaximumExecutionTimeoutInSeconds"] = policy.max_execution_seconds
    return {
        "BlueGreenUpdatePolicy": blue_green,
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": name} for name in alarm_names]},
    }


def deployment_seconds(policy: BlueGreenPolicy) -> int:
    """How long, at most, the traffic shifting and baking take once the new fleet is up.

    Examples
    --------
    >>> from schemas import BlueGreenPolicy
    >>> deployment_seconds(BlueGreenPolicy(traffic_routing="LINEAR", linear_step_percent=25,
    ...                                    wait_interval_seconds=60, baking_seconds=600))
    840
    """
    if policy.traffic_routing is TrafficRouting.CANARY:
        waits = 1
    elif policy.linear_step_percent is not None:
        # One wait per step, the last one included: the polling budget errs on the long side.
        waits = math.ceil(100 / policy.linear_step_percent)
    else:
        waits = 0
    return waits * policy.wait_interval_seconds + policy.baking_seconds


def plan_update(
    record: EndpointRecord,
    request: UpdateRequest,
    *,
    models: ModelRegistry,
    correlation_id: str,
    artifacts_bucket: str,
    poll_interval_seconds: int,
    max_status_checks: int,
) -> UpdatePlan:
    """Check the request against the endpoint and the model registry; derive every call.

    Raises ``Maas.Conflict`` for an endpoint that is not in service or a version that cannot
    deploy, ``Maas.NotFound`` for an unknown version, ``Maas.NoInstanceFits`` for an instance
    type the version does not fit on, ``Maas.ValidationError`` for a change to nothing.
    """
    if record.status is not EndpointStatus.IN_SERVICE:
        raise Conflict(
            f"endpoint_name: endpoint {record.endpoint_name!r} is {record.status.value}; "
            "only an endpoint in service can be updated"
        )
    deployment = resolve_model(
        DeploymentRequest(
            tenant_id=record.tenant_id,
            endpoint_name=record.endpoint_name,
            model=request.model or record.model,
            instance_type=request.instance_type or record.instance_type,
            instance_count=record.instance_count,
            variant_name=record.variant_name,
            autoscaling=record.autoscaling,
        ),
        models,
    )
    model = deployment.model
    assert isinstance(model, ModelReference)  # resolve_model resolved a registered version
    instance_type = deployment.instance_type
    assert instance_type is not None
    # The weights' size is derived from the version, not chosen: a record written before it
    # was kept serves the same version all the same.
    unchanged_model = model.model_copy(
        update={"model_data_bytes": None}
    ) == record.model.model_copy(update={"model_data_bytes": None})
    if unchanged_model and instance_type == record.instance_type:
        raise ValidationError(
            f"nothing to change: endpoint {record.endpoint_name!r} already serves version "
            f"{model.version} of {model.model_id!r} on {instance_type}"
        )
    check_fit(registered_version(model, record.tenant_id, models), instance_type)
    plan = plan_deployment(
        deployment,
        correlation_id=correlation_id,
        artifacts_bucket=artifacts_bucket,
        poll_interval_seconds=poll_interval_seconds,
        max_status_checks=max_status_checks,
    )
    alarms = rollback_alarms(
        record.sagemaker_endpoint_name,
        record.variant_name,
        plan.endpoint_config_name,
        request,
        plan.tags,
    )
    alarm_names = [alarms.errors.AlarmName, alarms.latency.AlarmName]
    # SageMaker refuses an UpdateEndpoint that changes the instance type of a variant
    # Application Auto Scaling manages: the target goes first and comes back afterwards.
    moves_scaled_variant = record.autoscaling is not None and instance_type != record.instance_type
    shifting = deployment_seconds(request.deployment)
    return UpdatePlan(
        tenant_id=record.tenant_id,
        endpoint_name=record.endpoint_name,
        sagemaker_endpoint_name=record.sagemaker_endpoint_name,
        correlation_id=correlation_id,
        model=model,
        model_name=plan.model_name,
        endpoint_config_name=plan.endpoint_config_name,
        instance_type=instance_type,
        previous_model=record.model,
        previous_model_name=record.model_name,
        previous_endpoint_config_name=record.endpoint_config_name,
        previous_instance_type=record.instance_type,
        tags=plan.tags,
        primary_container=plan.primary_container,
        production_variants=plan.production_variants,
        alarms=alarms,
        alarm_names=alarm_names,
        deployment_config=deployment_config(
            request.deployment, [*alarm_names, *request.rollback.alarm_names]
        ),
        traffic_routing=request.deployment.traffic_routing,
        deregister=(
            ScalableTarget(
                ResourceId=f"endpoint/{record.sagemaker_endpoint_name}/variant/{record.variant_name}"
            )
            if moves_scaled_variant
            else None
        ),
        scaling=(
            target_tracking(record.sagemaker_endpoint_name, record.variant_name, record.autoscaling)
            if moves_scaled_variant and record.autoscaling is not None
            else None
        ),
        polling=Polling(
            interval_seconds=poll_interval_seconds,
            max_attempts=max_status_checks + math.ceil(shifting / poll_interval_seconds),
        ),
    )


__all__ = [
    "ROLLBACK_ALARM_PREFIX",
    "MetricAlarm",
    "RollbackAlarmPlan",
    "UpdatePlan",
    "check_fit",
    "deployment_config",
    "deployment_seconds",
    "plan_update",
    "registered_version",
    "rollback_alarms",
]
