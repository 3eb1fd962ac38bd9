"""Requests that change what a live endpoint serves: its model version and instance type."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Self

from pydantic import BaseModel, Field, StrictInt, StringConstraints, model_validator

from schemas.common import REQUEST_CONFIG, EndpointName, TenantId
from schemas.deployment import InstanceType, RegisteredModel

#: SageMaker takes at most ten rollback alarms; the update creates two of its own.
MAX_CALLER_ALARMS = 8

AlarmName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=255, pattern=r"^\S(.*\S)?$"),
    Field(description="A CloudWatch alarm of this account and region."),
]


class TrafficRouting(StrEnum):
    """How SageMaker shifts traffic from the old fleet to the new one."""

    #: Every request moves to the new fleet at once, then the baking period runs.
    ALL_AT_ONCE = "ALL_AT_ONCE"
    #: A share of the capacity first (``canary_percent``), the rest after the wait interval.
    CANARY = "CANARY"
    #: Steps of ``linear_step_percent`` of the capacity, one per wait interval.
    LINEAR = "LINEAR"


class BlueGreenPolicy(BaseModel):
    """SageMaker's blue/green ``DeploymentConfig``: the new fleet starts beside the old one."""

    model_config = REQUEST_CONFIG

    traffic_routing: TrafficRouting = TrafficRouting.ALL_AT_ONCE
    canary_percent: StrictInt | None = Field(
        default=None,
        ge=1,
        le=50,
        description="With CANARY: the share of the capacity that takes traffic first.",
    )
    linear_step_percent: StrictInt | None = Field(
        default=None,
        ge=10,
        le=50,
        description="With LINEAR: the share of the capacity added at each step.",
    )
    wait_interval_seconds: StrictInt = Field(
        default=300,
        ge=0,
        le=3600,
        description="Between traffic steps (WaitIntervalInSeconds); the rollback alarms watch.",
    )
    baking_seconds: StrictInt = Field(
        default=600,
        ge=0,
        le=3600,
        description="After all traffic moved, how long the old fleet is kept while the "
        "rollback alarms watch the new one (TerminationWaitInSeconds).",
    )
    max_execution_seconds: StrictInt | None = Field(
        default=None,
        ge=600,
        le=28800,
        description="Longest the whole deployment may take (MaximumExecutionTimeoutInSeconds); "
        "SageMaker's default when absent.",
    )

    @model_validator(mode="after")
    def _step_matches_routing(self) -> Self:
        routing = self.traffic_routing
        if (routing is TrafficRouting.CANARY) != (self.canary_percent is not None):
            raise ValueError("canary_percent is given with traffic_routing CANARY, and only then")
        if (routing is TrafficRouting.LINEAR) != (self.linear_step_percent is not None):
            raise ValueError(
                "linear_step_percent is given with traffic_routing LINEAR, and only then"
            )
        return self


class RollbackAlarms(BaseModel):
    """The alarms that roll the update back while the new fleet takes traffic and bakes."""

    model_config = REQUEST_CONFIG

    max_5xx_errors_per_minute: StrictInt = Field(
        default=5,
        ge=1,
        le=100000,
        description="Invocation5XXErrors of the new fleet in one minute that roll back.",
    )
    max_model_latency_seconds: float = Field(
        default=60.0,
        gt=0,
        le=3600,
        description="Average ModelLatency of the new fleet over one minute that rolls back "
        "(LLM generations are long: the default is generous).",
    )
    evaluation_minutes: StrictInt = Field(
        default=2,
        ge=1,
        le=60,
        description="Consecutive minutes over a threshold before an alarm fires.",
    )
    alarm_names: list[AlarmName] = Field(
        default_factory=list,
        max_length=MAX_CALLER_ALARMS,
        description="The caller's own alarms that roll back as well (they must exist).",
    )


class EndpointChange(BaseModel):
    """Serve another registered model version, or the same one on another instance type.

    A new model and endpoint configuration are created and ``UpdateEndpoint`` moves the
    endpoint to them blue/green; the rollback alarms watch the new fleet.
    """

    model_config = REQUEST_CONFIG

    model: RegisteredModel | None = Field(
        default=None, description="The registered, Approved version to serve instead."
    )
    instance_type: InstanceType | None = Field(
        default=None, description="The instance type to serve on instead."
    )
    deployment: BlueGreenPolicy = Field(default_factory=BlueGreenPolicy)
    rollback: RollbackAlarms = Field(default_factory=RollbackAlarms)

    @model_validator(mode="after")
    def _changes_something(self) -> Self:
        if self.model is None and self.instance_type is None:
            raise ValueError("nothing to change: give model, instance_type or both")
        return self


class UpdateRequest(EndpointChange):
    """An update of one endpoint of a tenant."""

    tenant_id: TenantId
    endpoint_name: EndpointName


__all__ = [
    "MAX_CALLER_ALARMS",
    "BlueGreenPolicy",
    "EndpointChange",
    "RollbackAlarms",
    "TrafficRouting",
    "UpdateRequest",
]
