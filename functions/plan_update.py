"""``update_endpoint`` step *Validate and plan update*: check the request, take the record.

Input: ``{"request": <UpdateRequest>, "correlation_id": <execution name>}``.
Output: a :class:`maas.endpoints.update.UpdatePlan`. An endpoint the tenant does not have
raises ``Maas.NotFound``, one that is not in service or a version that is not Approved
``Maas.Conflict``, an instance type the version does not fit on ``Maas.NoInstanceFits``, a
request that changes nothing ``Maas.ValidationError``: all before anything changes. Once
planned, the record is UPDATING and owned by this execution.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Tracer

from functions.common import StepInput, int_setting
from functions.common.idempotency import idempotent_on
from maas.endpoints import EndpointRegistry
from maas.endpoints.ownership import owned_record
from maas.endpoints.update import plan_update
from maas.registry import ModelRegistry
from maas.tenancy import from_environment
from maas.validation import parse
from schemas import CorrelationId, UpdateRequest

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

ARTIFACTS_BUCKET = os.environ["ARTIFACTS_BUCKET_NAME"]
POLL_SECONDS = int_setting("ENDPOINT_POLL_SECONDS")
MAX_STATUS_CHECKS = int_setting("ENDPOINT_MAX_STATUS_CHECKS")
ENDPOINTS_TABLE = os.environ["ENDPOINTS_TABLE_NAME"]
MODELS_TABLE = os.environ["MODELS_TABLE_NAME"]
tenants = from_environment("plan-update")

logger = Logger()
tracer = Tracer()


class PlanUpdateInput(StepInput):
    """The task's input."""

    request: dict[str, Any]
    correlation_id: CorrelationId


@logger.inject_lambda_context(correlation_id_path="correlation_id")
@tracer.capture_lambda_handler
@idempotent_on("[correlation_id, request]")
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Validate the request against the endpoint and the registry, then take the record."""
    step = parse(PlanUpdateInput, event)
    request = parse(UpdateRequest, step.request)
    acting = tenants.for_tenant(request.tenant_id)
    endpoints = EndpointRegistry(ENDPOINTS_TABLE, acting.client("dynamodb"))
    plan = plan_update(
        owned_record(
            endpoints, acting.client("sagemaker"), request.tenant_id, request.endpoint_name
        ),
        request,
        models=ModelRegistry(MODELS_TABLE, acting.client("dynamodb")),
        correlation_id=step.correlation_id,
        artifacts_bucket=ARTIFACTS_BUCKET,
        poll_interval_seconds=POLL_SECONDS,
        max_status_checks=MAX_STATUS_CHECKS,
    )
    endpoints.begin_update(
        request.tenant_id, request.endpoint_name, correlation_id=step.correlation_id
    )
    logger.info(
        "update planned",
        extra={"endpoint": plan.endpoint_name, "endpoint_config": plan.endpoint_config_name},
    )
    return plan.model_dump(mode="json")
