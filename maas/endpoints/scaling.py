"""Turn a scaling request into the calls the ``scale_endpoint`` workflow makes.

A count changes in place (``UpdateEndpointWeightsAndCapacities``); autoscaling changes are
Application Auto Scaling calls on the variant. What the endpoint has is read from its record,
so the plan says exactly what changes and what the record will say afterwards.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from maas.endpoints.plan import Polling, ScalableTarget, ScalingPlan, target_tracking
from maas.exceptions import ValidationError
from schemas import AutoscalingConfig

if TYPE_CHECKING:
    from schemas import EndpointRecord, ScaleRequest


class ScalingChangePlan(BaseModel):
    """Everything ``scale_endpoint`` needs: the calls to make and the record's new values."""

    tenant_id: str
    endpoint_name: str
    sagemaker_endpoint_name: str
    correlation_id: str
    previous_instance_count: int
    instance_count: int
    autoscaling: AutoscalingConfig | None
    capacity: dict[str, Any] | None
    scaling: ScalingPlan | None
    deregister: ScalableTarget | None
    polling: Polling


def _within(count: int, scaling: AutoscalingConfig | None) -> int:
    """``count`` moved into the autoscaling bounds, as Application Auto Scaling will move it."""
    if scaling is None:
        return count
    return min(max(count, scaling.min_capacity), scaling.max_capacity)


def plan_scaling(
    record: EndpointRecord,
    request: ScaleRequest,
    *,
    correlation_id: str,
    poll_interval_seconds: int,
    max_status_checks: int,
) -> ScalingChangePlan:
    """Check the request against what the endpoint has; derive the calls and the new record.

    A count outside the autoscaling bounds in force afterwards is refused
    (``Maas.ValidationError``); a count equal to the current one is no call at all.
    """
    autoscaling = record.autoscaling
    if request.remove_autoscaling:
        autoscaling = None
    elif request.autoscaling is not None:
        autoscaling = request.autoscaling
    count = request.instance_count
    if count is not None and _within(count, autoscaling) != count:
        assert autoscaling is not None
        raise ValidationError(
            f"instance_count: {count} is outside the endpoint's autoscaling bounds "
            f"[{autoscaling.min_capacity}, {autoscaling.max_capacity}]; change or remove "
            "autoscaling in the same request"
        )
    capacity = None
    if count is not None and count != record.instance_count:
        capacity = {
            "EndpointName": record.sagemaker_endpoint_name,
            "DesiredWeightsAndCapacities": [
                {"VariantName": record.variant_name, "DesiredInstanceCount": count}
            ],
        }
    deregister = None
    if request.remove_autoscaling and record.autoscaling is not None:
        deregister = ScalableTarget(
            ResourceId=f"endpoint/{record.sagemaker_endpoint_name}/variant/{record.variant_name}"
        )
    scaling = None
    if request.autoscaling is not None:
        scaling = target_tracking(
            record.sagemaker_endpoint_name, record.variant_name, request.autoscaling
        )
    return ScalingChangePlan(
        tenant_id=record.tenant_id,
        endpoint_name=record.endpoint_name,
        sagemaker_endpoint_name=record.sagemaker_endpoint_name,
        correlation_id=correlation_id,
        previous_instance_count=record.instance_count,
        instance_count=_within(count or record.instance_count, autoscaling),
        autoscaling=autoscaling,
        capacity=capacity,
        scaling=scaling,
        deregister=deregister,
        polling=Polling(interval_seconds=poll_interval_seconds, max_attempts=max_status_checks),
    )


__all__ = ["ScalingChangePlan", "plan_scaling"]
