"""``stop_endpoint`` step *Take the endpoint for stopping*: read the record, plan, own it.

Input: ``{"request": <StopEndpointRequest>, "correlation_id": <execution name>}``, the request
being what the endpoint's stop schedule carries. Output: a
:class:`maas.endpoints.hours.StopPlan`. An endpoint stopped already plans nothing to do
(schedules deliver at least once); an endpoint the tenant does not have raises
``Maas.NotFound``, one in a status that cannot stop ``Maas.Conflict``. Otherwise the record
is STOPPING and owned by this execution.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Tracer

from functions.common import StepInput, int_setting
from functions.common.idempotency import idempotent_on
from maas.endpoints import EndpointRegistry
from maas.endpoints.hours import plan_stop
from maas.endpoints.ownership import owned_record
from maas.tenancy import from_environment
from maas.validation import parse
from schemas import CorrelationId, StopEndpointRequest

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

POLL_SECONDS = int_setting("ENDPOINT_POLL_SECONDS")
MAX_STATUS_CHECKS = int_setting("ENDPOINT_MAX_STATUS_CHECKS")
ENDPOINTS_TABLE = os.environ["ENDPOINTS_TABLE_NAME"]
tenants = from_environment("plan-stop")

logger = Logger()
tracer = Tracer()


class PlanStopInput(StepInput):
    """The task's input."""

    request: dict[str, Any]
    correlation_id: CorrelationId


@logger.inject_lambda_context(correlation_id_path="correlation_id")
@tracer.capture_lambda_handler
@idempotent_on("[correlation_id, request]")
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Plan the stop from the endpoint's record, then take the record unless already done."""
    step = parse(PlanStopInput, event)
    request = parse(StopEndpointRequest, step.request)
    acting = tenants.for_tenant(request.tenant_id)
    registry = EndpointRegistry(ENDPOINTS_TABLE, acting.client("dynamodb"))
    plan = plan_stop(
        owned_record(
            registry, acting.client("sagemaker"), request.tenant_id, request.endpoint_name
        ),
        correlation_id=step.correlation_id,
        poll_interval_seconds=POLL_SECONDS,
        max_status_checks=MAX_STATUS_CHECKS,
    )
    if not plan.nothing_to_do:
        registry.begin_stop(
            request.tenant_id, request.endpoint_name, correlation_id=step.correlation_id
        )
    logger.info(
        "stop planned",
        extra={"endpoint": plan.endpoint_name, "nothing_to_do": plan.nothing_to_do},
    )
    return plan.model_dump(mode="json")
