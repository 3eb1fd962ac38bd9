"""Requests that change a live endpoint: its capacity and its autoscaling."""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, Field, StrictBool, StrictInt, model_validator

from schemas.common import REQUEST_CONFIG, EndpointName, TenantId
from schemas.deployment import AutoscalingConfig


class ScalingChange(BaseModel):
    """Change an endpoint's instance count, its autoscaling bounds and target, or both.

    The count changes in place (``UpdateEndpointWeightsAndCapacities``): no new endpoint
    configuration, no blue/green fleet.
    """

    model_config = REQUEST_CONFIG

    instance_count: StrictInt | None = Field(
        default=None, ge=1, le=100, description="The variant's new instance count."
    )
    autoscaling: AutoscalingConfig | None = Field(
        default=None, description="New autoscaling bounds, target and cooldowns."
    )
    remove_autoscaling: StrictBool = Field(
        default=False, description="Stop autoscaling: the count stays where it is, or as given."
    )

    @model_validator(mode="after")
    def _changes_something(self) -> Self:
        if self.autoscaling is not None and self.remove_autoscaling:
            raise ValueError("autoscaling and remove_autoscaling exclude each other")
        if self.instance_count is None and self.autoscaling is None and not self.remove_autoscaling:
            raise ValueError(
                "nothing to change: give instance_count, autoscaling or remove_autoscaling"
            )
        scaling, count = self.autoscaling, self.instance_count
        if (
            scaling
            and count is not None
            and not scaling.min_capacity <= count <= scaling.max_capacity
        ):
            raise ValueError(
                f"instance_count ({count}) is outside the autoscaling bounds "
                f"[{scaling.min_capacity}, {scaling.max_capacity}]"
            )
        return self


class ScaleRequest(ScalingChange):
    """A scaling change to one endpoint of a tenant."""

    tenant_id: TenantId
    endpoint_name: EndpointName
