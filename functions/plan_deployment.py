"""``deploy_endpoint`` step *Validate and plan deployment*: check the request, derive names.

Input: ``{"request": <DeploymentRequest>, "correlation_id": <execution name>}``.
Output: a :class:`maas.endpoints.plan.DeploymentPlan`, a registered version resolved to its
image, artifact and instance type. A bad request raises ``Maas.ValidationError`` naming the
field, an unknown version ``Maas.NotFound``, an unapproved one ``Maas.Conflict``, one past
the tenant's quotas ``Maas.QuotaExceeded``: all before anything is created. Once planned,
the deployment holds its endpoint and instances in the tenant's quota ledger
(:class:`maas.endpoints.quotas.QuotaLedger`), atomically, so deployments planned at once
never pass a quota together.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Tracer

from functions.common import StepInput, int_setting
from maas.endpoints import EndpointRegistry, plan_deployment
from maas.endpoints.plan import resolve_model
from maas.endpoints.quotas import QuotaLedger, TenantQuotas, most_instances
from maas.registry import ModelRegistry
from maas.tenancy import from_environment
from maas.validation import parse
from schemas import CorrelationId, DeploymentRequest

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

ARTIFACTS_BUCKET = os.environ["ARTIFACTS_BUCKET_NAME"]
POLL_SECONDS = int_setting("ENDPOINT_POLL_SECONDS")
MAX_STATUS_CHECKS = int_setting("ENDPOINT_MAX_STATUS_CHECKS")
QUOTAS = TenantQuotas(int_setting("TENANT_MAX_ENDPOINTS"), int_setting("TENANT_MAX_INSTANCES"))
MODELS_TABLE = os.environ["MODELS_TABLE_NAME"]
ENDPOINTS_TABLE = os.environ["ENDPOINTS_TABLE_NAME"]
tenants = from_environment("plan-deployment")

logger = Logger()
tracer = Tracer()


class PlanDeploymentInput(StepInput):
    """The task's input."""

    request: dict[str, Any]
    correlation_id: CorrelationId


@logger.inject_lambda_context(correlation_id_path="correlation_id")
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Validate the request and return the deployment plan."""
    step = parse(PlanDeploymentInput, event)
    request = parse(DeploymentRequest, step.request)
    dynamodb = tenants.for_tenant(request.tenant_id).client("dynamodb")
    request = resolve_model(request, ModelRegistry(MODELS_TABLE, dynamodb))
    plan = plan_deployment(
        request,
        correlation_id=step.correlation_id,
        artifacts_bucket=ARTIFACTS_BUCKET,
        poll_interval_seconds=POLL_SECONDS,
        max_status_checks=MAX_STATUS_CHECKS,
    )
    ledger = QuotaLedger(QUOTAS, EndpointRegistry(ENDPOINTS_TABLE, dynamodb), dynamodb)
    ledger.reserve(
        request.tenant_id,
        request.endpoint_name,
        most_instances(request.instance_count, request.autoscaling),
        owner=step.correlation_id,
    )
    logger.info(
        "deployment planned", extra={"endpoint": plan.endpoint_name, "model": plan.model_name}
    )
    return plan.model_dump(mode="json")
