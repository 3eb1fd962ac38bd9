"""Move an endpoint record to its next status: the workflows' only writes to the registry.

Input: one of the transitions below, told apart by ``transition``. Output: the record.
A transition the record's status does not allow, or one by an execution that does not own
the record, raises ``Maas.Conflict``. Each written record settles the endpoint's hold on the
tenant's quotas (:meth:`maas.endpoints.quotas.QuotaLedger.settle`): a FAILED or DELETED
endpoint gives its hold back, a scaled one keeps what it may now run, so that every path
that frees capacity (a failed deployment, teardown, scaling down) frees it in the ledger.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated, Any, Literal

from aws_lambda_powertools import Logger, Tracer
from pydantic import Field, TypeAdapter

from functions.common import StepInput, int_setting
from maas.endpoints import DeploymentPlan, EndpointRegistry
from maas.endpoints.quotas import QuotaLedger, TenantQuotas
from maas.exceptions import Conflict
from maas.tenancy import from_environment
from maas.validation import parse_as
from schemas import (
    AutoscalingConfig,
    CorrelationId,
    EndpointName,
    EndpointStatus,
    ModelReference,
    TenantId,
)
from schemas.common import FailureCause

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from schemas import EndpointRecord

ENDPOINTS_TABLE = os.environ["ENDPOINTS_TABLE_NAME"]
QUOTAS = TenantQuotas(int_setting("TENANT_MAX_ENDPOINTS"), int_setting("TENANT_MAX_INSTANCES"))
tenants = from_environment("record-endpoint-status")

logger = Logger()
tracer = Tracer()


class BeginDeployment(StepInput):
    """No record or a finished one -> CREATING."""

    transition: Literal["begin_deployment"]
    plan: DeploymentPlan


class RecordTransition(StepInput):
    """Fields every transition of an existing record names."""

    tenant_id: TenantId
    endpoint_name: EndpointName
    correlation_id: CorrelationId


class MarkInService(RecordTransition):
    """CREATING -> IN_SERVICE."""

    transition: Literal["mark_in_service"]
    endpoint_arn: str


class MarkFailed(RecordTransition):
    """CREATING or DELETING -> FAILED, with the error that caused it."""

    transition: Literal["mark_failed"]
    error: str
    cause: FailureCause


class MarkScaled(RecordTransition):
    """UPDATING -> IN_SERVICE with the new count and autoscaling."""

    transition: Literal["mark_scaled"]
    instance_count: int = Field(ge=1)
    autoscaling: AutoscalingConfig | None


class MarkUpdated(RecordTransition):
    """UPDATING -> IN_SERVICE on the new model, endpoint configuration and instance type."""

    transition: Literal["mark_updated"]
    model: ModelReference
    model_name: EndpointName
    endpoint_config_name: EndpointName
    instance_type: str


class AbandonUpdate(RecordTransition):
    """UPDATING -> IN_SERVICE as it was, with the error that stopped the change."""

    transition: Literal["abandon_update"]
    error: str
    cause: FailureCause


class MarkStopped(RecordTransition):
    """STOPPING -> STOPPED."""

    transition: Literal["mark_stopped"]


class AbandonHoursChange(RecordTransition):
    """STOPPING or STARTING -> ``status``, with the error that stopped the change."""

    transition: Literal["abandon_hours_change"]
    status: Literal["IN_SERVICE", "STOPPED", "FAILED"]
    error: str
    cause: FailureCause


class MarkDeleted(RecordTransition):
    """DELETING -> DELETED."""

    transition: Literal["mark_deleted"]


AnyTransition = (
    BeginDeployment
    | MarkInService
    | MarkFailed
    | MarkScaled
    | MarkUpdated
    | AbandonUpdate
    | MarkStopped
    | AbandonHoursChange
    | MarkDeleted
)
#: The task's input: exactly one transition, told apart by ``transition``.
Transition = TypeAdapter(Annotated[AnyTransition, Field(discriminator="transition")])


def apply(step: AnyTransition, registry: EndpointRegistry, ledger: QuotaLedger) -> EndpointRecord:
    """Apply one transition to the registry."""
    if isinstance(step, BeginDeployment):
        try:
            return registry.begin_deployment(step.plan)
        except Conflict:
            # Refused for good (the name is taken): the endpoint this deployment held its
            # quota for will never exist.
            ledger.release(
                step.plan.tenant_id, step.plan.endpoint_name, owner=step.plan.correlation_id
            )
            raise
    if isinstance(step, MarkInService):
        return registry.mark_in_service(
            step.tenant_id,
            step.endpoint_name,
            correlation_id=step.correlation_id,
            endpoint_arn=step.endpoint_arn,
        )
    if isinstance(step, MarkFailed):
        return registry.mark_failed(
            step.tenant_id,
            step.endpoint_name,
            correlation_id=step.correlation_id,
            reason=f"{step.error}: {step.cause}",
        )
    if isinstance(step, MarkScaled | MarkUpdated | AbandonUpdate):
        return apply_change(step, registry)
    if isinstance(step, MarkStopped | AbandonHoursChange):
        return _apply_hours_change(step, registry)
    return registry.mark_deleted(
        step.tenant_id, step.endpoint_name, correlation_id=step.correlation_id
    )


def apply_change(
    step: MarkScaled | MarkUpdated | AbandonUpdate, registry: EndpointRegistry
) -> EndpointRecord:
    """End a change to a live endpoint: scaled, updated, or abandoned as it was."""
    if isinstance(step, MarkScaled):
        return registry.mark_scaled(
            step.tenant_id,
            step.endpoint_name,
            correlation_id=step.correlation_id,
            instance_count=step.instance_count,
            autoscaling=step.autoscaling,
        )
    if isinstance(step, MarkUpdated):
        return registry.mark_updated(
            step.tenant_id,
            step.endpoint_name,
            correlation_id=step.correlation_id,
            model=step.model,
            model_name=step.model_name,
            endpoint_config_name=step.endpoint_config_name,
            instance_type=step.instance_type,
        )
    return registry.abandon_update(
        step.tenant_id,
        step.endpoint_name,
        correlation_id=step.correlation_id,
        reason=f"{step.error}: {step.cause}",
    )


def _apply_hours_change(
    step: MarkStopped | AbandonHoursChange, registry: EndpointRegistry
) -> EndpointRecord:
    """The end of a stop or start on an endpoint's hours: done, or undone."""
    if isinstance(step, MarkStopped):
        return registry.mark_stopped(
            step.tenant_id, step.endpoint_name, correlation_id=step.correlation_id
        )
    return registry.abandon_hours_change(
        step.tenant_id,
        step.endpoint_name,
        correlation_id=step.correlation_id,
        status=EndpointStatus(step.status),
        reason=f"{step.error}: {step.cause}",
    )


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Apply the transition in ``event`` and return the record."""
    step = parse_as(Transition, event)
    tenant_id = step.plan.tenant_id if isinstance(step, BeginDeployment) else step.tenant_id
    dynamodb = tenants.for_tenant(tenant_id).client("dynamodb")
    registry = EndpointRegistry(ENDPOINTS_TABLE, dynamodb)
    ledger = QuotaLedger(QUOTAS, registry, dynamodb)
    record = apply(step, registry, ledger)
    # Every path that ends, fails or scales an endpoint comes through here: its quota follows.
    ledger.settle(record)
    logger.info(
        "endpoint record moved",
        extra={"endpoint": record.endpoint_name, "status": record.status.value},
    )
    return record.model_dump(mode="json")
