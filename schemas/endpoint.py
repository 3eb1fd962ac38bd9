"""The platform's record of an endpoint, kept in DynamoDB."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from schemas.aws_events import ServiceStatus
from schemas.common import (
    DOCUMENT_CONFIG,
    CorrelationId,
    EndpointName,
    FailureCause,
    TenantId,
)
from schemas.deployment import AutoscalingConfig, ModelReference, VariantName
from schemas.hours import OperatingHours


class EndpointStatus(StrEnum):
    """Where an endpoint is in its life. Transitions are enforced by ``maas.endpoints``."""

    CREATING = "CREATING"
    IN_SERVICE = "IN_SERVICE"
    #: In service while a change (scaling, an update) is applied by the execution owning it.
    UPDATING = "UPDATING"
    #: Being stopped outside its hours by the execution owning it.
    STOPPING = "STOPPING"
    #: Outside its hours: no endpoint, its model and endpoint configuration kept.
    STOPPED = "STOPPED"
    #: Being started again from its kept configuration by the execution owning it.
    STARTING = "STARTING"
    FAILED = "FAILED"
    DELETING = "DELETING"
    DELETED = "DELETED"


class EndpointRecord(BaseModel):
    """One endpoint of one tenant, with the names of everything created for it."""

    model_config = DOCUMENT_CONFIG

    tenant_id: TenantId
    endpoint_name: EndpointName = Field(description="The tenant's own name for it.")
    sagemaker_endpoint_name: EndpointName = Field(
        description="Its name in SageMaker, derived from tenant and name "
        "(maas.naming.sagemaker_endpoint_name): SageMaker's names are per account."
    )
    status: EndpointStatus
    correlation_id: CorrelationId = Field(description="The execution that last changed it.")
    model: ModelReference
    model_name: EndpointName = Field(description="The SageMaker model created for it.")
    endpoint_config_name: EndpointName
    variant_name: VariantName
    instance_type: str
    instance_count: int = Field(ge=1)
    autoscaling: AutoscalingConfig | None = None
    expires_at: AwareDatetime | None = None
    schedule_name: str | None = Field(
        default=None, description="The one-time EventBridge Scheduler schedule of its TTL."
    )
    hours: OperatingHours | None = Field(
        default=None, description="Its on/off hours; their schedules are named after it."
    )
    idle_alarm_name: str | None = Field(
        default=None, description="The CloudWatch alarm of its idle limit."
    )
    endpoint_arn: str | None = None
    failure_reason: FailureCause | None = None
    sagemaker: ServiceStatus | None = Field(
        default=None,
        description="What SageMaker last said about the endpoint (its state change events), "
        "whoever owns the record.",
    )
    created_at: AwareDatetime
    updated_at: AwareDatetime

    @model_validator(mode="before")
    @classmethod
    def _named_before_tenancy(cls, data: Any) -> Any:
        # Records written before physical names were derived per tenant named the SageMaker
        # endpoint after the user's name: they keep pointing at the endpoint they created
        # (whose maas:tenant tag teardown checks before deleting anything).
        if isinstance(data, dict) and "sagemaker_endpoint_name" not in data:
            return {**data, "sagemaker_endpoint_name": data.get("endpoint_name")}
        return data
