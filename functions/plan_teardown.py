"""``teardown`` step *Take the endpoint for teardown*: validate, mark DELETING, list what goes.

Input: ``{"request": <TeardownRequest>, "correlation_id": <execution name>}``.
Output: a :class:`maas.endpoints.plan.TeardownPlan`. An endpoint the tenant does not have
raises ``Maas.NotFound``, and so does a record whose SageMaker endpoint is tagged for another
tenant (:mod:`maas.endpoints.ownership`); one still being created raises ``Maas.Conflict``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Tracer

from functions.common import StepInput, int_setting
from functions.common.idempotency import idempotent_on
from maas.endpoints import EndpointRegistry
from maas.endpoints.ownership import owned_record
from maas.endpoints.plan import plan_teardown
from maas.tenancy import from_environment
from maas.validation import parse
from schemas import CorrelationId, TeardownRequest

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

POLL_SECONDS = int_setting("ENDPOINT_POLL_SECONDS")
MAX_STATUS_CHECKS = int_setting("ENDPOINT_MAX_STATUS_CHECKS")
ENDPOINTS_TABLE = os.environ["ENDPOINTS_TABLE_NAME"]
tenants = from_environment("plan-teardown")

logger = Logger()
tracer = Tracer()


class PlanTeardownInput(StepInput):
    """The task's input."""

    request: dict[str, Any]
    correlation_id: CorrelationId


@logger.inject_lambda_context(correlation_id_path="correlation_id")
@tracer.capture_lambda_handler
@idempotent_on("[correlation_id, request]")
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Take ownership of the endpoint's record and return what teardown deletes."""
    step = parse(PlanTeardownInput, event)
    request = parse(TeardownRequest, step.request)
    acting = tenants.for_tenant(request.tenant_id)
    registry = EndpointRegistry(ENDPOINTS_TABLE, acting.client("dynamodb"))
    owned_record(registry, acting.client("sagemaker"), request.tenant_id, request.endpoint_name)
    record = registry.begin_teardown(
        request.tenant_id, request.endpoint_name, correlation_id=step.correlation_id
    )
    plan = plan_teardown(
        record,
        request,
        poll_interval_seconds=POLL_SECONDS,
        max_status_checks=MAX_STATUS_CHECKS,
    )
    logger.info("teardown planned", extra={"endpoint": request.endpoint_name})
    return plan.model_dump(mode="json")
