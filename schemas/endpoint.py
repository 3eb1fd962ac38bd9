"""The platform's record of an endpoint, kept in DynamoDB."""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, Field

from schemas.common import (
    DOCUMENT_CONFIG,
    CorrelationId,
    EndpointName,
    FailureCause,
    TenantId,
)
from schemas.deployment import AutoscalingConfig, ModelReference, VariantName


class EndpointStatus(StrEnum):
    """Where an endpoint is in its life. Transitions are enforced by ``maas.endpoints``."""

    CREATING = "CREATING"
    IN_SERVICE = "IN_SERVICE"
    #: In service while a change (scaling, an update) is applied by the execution owning it.
    UPDATING = "UPDATING"
    FAILED = "FAILED"
    DELETING = "DELETING"
    DELETED = "DELETED"


class EndpointRecord(BaseModel):
    """One endpoint of one tenant, with the names of everything created for it."""

    model_config = DOCUMENT_CONFIG

    tenant_id: TenantId
    endpoint_name: EndpointName
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
    endpoint_arn: str | None = None
    failure_reason: FailureCause | None = None
    created_at: AwareDatetime
    updated_at: AwareDatetime
