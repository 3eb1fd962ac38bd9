"""Turn an on/off-hours firing into the calls ``stop_endpoint`` and ``start_endpoint`` make.

Stopping deletes the endpoint only: its SageMaker model and endpoint configuration stay, so
starting is one ``CreateEndpoint`` from the configuration the record names, with the
autoscaling bounds the record holds. EventBridge Scheduler delivers at least once and at any
time, so a stop of a stopped endpoint, or a start of one in service, plans nothing to do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, Field

from maas.endpoints.plan import (
    Polling,
    ScalableTarget,
    ScalingPlan,
    endpoint_tags,
    target_tracking,
)
from maas.exceptions import Conflict
from schemas import EndpointStatus

if TYPE_CHECKING:
    from schemas import EndpointRecord

#: A stop finds these already done (or being done by another delivery of the same firing).
_STOPPED_ALREADY = frozenset({EndpointStatus.STOPPED, EndpointStatus.STOPPING})
#: A start finds these already done (or being done by another delivery of the same firing).
_STARTED_ALREADY = frozenset({EndpointStatus.IN_SERVICE, EndpointStatus.STARTING})


class StopPlan(BaseModel):
    """Everything ``stop_endpoint`` needs, read from the endpoint's record."""

    tenant_id: str
    endpoint_name: str
    sagemaker_endpoint_name: str
    correlation_id: str
    nothing_to_do: bool
    status: EndpointStatus
    model_name: str
    endpoint_config_name: str
    scaling_target: ScalableTarget | None
    scaling: ScalingPlan | None
    polling: Polling


class StartPlan(BaseModel):
    """Everything ``start_endpoint`` needs: the kept configuration and the recorded scaling."""

    tenant_id: str
    endpoint_name: str
    sagemaker_endpoint_name: str
    correlation_id: str
    nothing_to_do: bool
    status: EndpointStatus
    model_id: str
    model_version: str
    model_name: str
    endpoint_config_name: str
    instance_type: str
    instance_count: int
    tags: list[dict[str, str]]
    scaling: ScalingPlan | None
    idle_alarm_name: str | None = Field(
        description="The idle limit's alarm: set back to OK once started, so idle time counts "
        "from the start, not from the night the endpoint was stopped."
    )
    polling: Polling


def _scaling(record: EndpointRecord) -> ScalingPlan | None:
    if record.autoscaling is None:
        return None
    return target_tracking(record.sagemaker_endpoint_name, record.variant_name, record.autoscaling)


def plan_stop(
    record: EndpointRecord,
    *,
    correlation_id: str,
    poll_interval_seconds: int,
    max_status_checks: int,
) -> StopPlan:
    """What stopping the endpoint deletes, or nothing when it is stopped already.

    Only an endpoint in service stops; one being created, changed or deleted raises
    :class:`Conflict` (the next firing finds it settled).
    """
    nothing_to_do = record.status in _STOPPED_ALREADY
    if not nothing_to_do and record.status is not EndpointStatus.IN_SERVICE:
        raise Conflict(
            f"endpoint_name: endpoint {record.endpoint_name!r} is {record.status.value}; "
            "only an endpoint in service stops"
        )
    scaling = _scaling(record)
    return StopPlan(
        tenant_id=record.tenant_id,
        endpoint_name=record.endpoint_name,
        sagemaker_endpoint_name=record.sagemaker_endpoint_name,
        correlation_id=correlation_id,
        nothing_to_do=nothing_to_do,
        status=record.status,
        model_name=record.model_name,
        endpoint_config_name=record.endpoint_config_name,
        scaling_target=ScalableTarget(ResourceId=scaling.ResourceId) if scaling else None,
        scaling=scaling,
        polling=Polling(interval_seconds=poll_interval_seconds, max_attempts=max_status_checks),
    )


def plan_start(
    record: EndpointRecord,
    *,
    correlation_id: str,
    poll_interval_seconds: int,
    max_status_checks: int,
) -> StartPlan:
    """What starting the endpoint creates, or nothing when it is in service already.

    Only a stopped endpoint starts; one in another status raises :class:`Conflict`.
    """
    nothing_to_do = record.status in _STARTED_ALREADY
    if not nothing_to_do and record.status is not EndpointStatus.STOPPED:
        raise Conflict(
            f"endpoint_name: endpoint {record.endpoint_name!r} is {record.status.value}; "
            "only a stopped endpoint starts"
        )
    return StartPlan(
        tenant_id=record.tenant_id,
        endpoint_name=record.endpoint_name,
        sagemaker_endpoint_name=record.sagemaker_endpoint_name,
        correlation_id=correlation_id,
        nothing_to_do=nothing_to_do,
        status=record.status,
        model_id=record.model.model_id,
        model_version=record.model.version,
        model_name=record.model_name,
        endpoint_config_name=record.endpoint_config_name,
        instance_type=record.instance_type,
        instance_count=record.instance_count,
        tags=endpoint_tags(record.tenant_id, record.endpoint_name, record.model, correlation_id),
        scaling=_scaling(record),
        idle_alarm_name=record.idle_alarm_name,
        polling=Polling(interval_seconds=poll_interval_seconds, max_attempts=max_status_checks),
    )


__all__ = ["StartPlan", "StopPlan", "plan_start", "plan_stop"]
