"""``scale_endpoint`` step *Validate and plan scaling*: check the request, take the record.

Input: ``{"request": <ScaleRequest>, "correlation_id": <execution name>}``.
Output: a :class:`maas.endpoints.scaling.ScalingChangePlan`. An endpoint the tenant does not
have raises ``Maas.NotFound``, a bad request ``Maas.ValidationError`` naming the field, one
that is not in service ``Maas.Conflict``, one past the tenant's instance quota
``Maas.QuotaExceeded``: all before anything changes. Once planned, the endpoint's hold in
the tenant's quota ledger covers the larger of its counts (it may run either while it
changes; the change's end settles it), and the record is UPDATING and owned by this
execution.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Tracer

from functions.common import StepInput, int_setting
from functions.common.idempotency import idempotent_on
from maas.endpoints import EndpointRegistry
from maas.endpoints.ownership import owned_record
from maas.endpoints.quotas import QuotaLedger, TenantQuotas, most_instances
from maas.endpoints.scaling import plan_scaling
from maas.tenancy import from_environment
from maas.validation import parse
from schemas import CorrelationId, ScaleRequest

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

POLL_SECONDS = int_setting("ENDPOINT_POLL_SECONDS")
MAX_STATUS_CHECKS = int_setting("ENDPOINT_MAX_STATUS_CHECKS")
QUOTAS = TenantQuotas(int_setting("TENANT_MAX_ENDPOINTS"), int_setting("TENANT_MAX_INSTANCES"))
ENDPOINTS_TABLE = os.environ["ENDPOINTS_TABLE_NAME"]
tenants = from_environment("plan-scaling")

logger = Logger()
tracer = Tracer()


class PlanScalingInput(StepInput):
    """The task's input."""

    request: dict[str, Any]
    correlation_id: CorrelationId


@logger.inject_lambda_context(correlation_id_path="correlation_id")
@tracer.capture_lambda_handler
@idempotent_on("[correlation_id, request]")
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Validate the request against the endpoint's record, then take the record."""
    step = parse(PlanScalingInput, event)
    request = parse(ScaleRequest, step.request)
    acting = tenants.for_tenant(request.tenant_id)
    registry = EndpointRegistry(ENDPOINTS_TABLE, acting.client("dynamodb"))
    record = owned_record(
        registry, acting.client("sagemaker"), request.tenant_id, request.endpoint_name
    )
    plan = plan_scaling(
        record,
        request,
        correlation_id=step.correlation_id,
        poll_interval_seconds=POLL_SECONDS,
        max_status_checks=MAX_STATUS_CHECKS,
    )
    ledger = QuotaLedger(QUOTAS, registry, acting.client("dynamodb"))
    ledger.grow(record, most_instances(plan.instance_count, plan.autoscaling))
    registry.begin_update(
        request.tenant_id, request.endpoint_name, correlation_id=step.correlation_id
    )
    logger.info("scaling planned", extra={"endpoint": plan.endpoint_name})
    return plan.model_dump(mode="json")
