"""``quantize_model`` step *Open the quantized version*: check the parent, open a version.

Input: ``{"request": <QuantizationRequest>, "correlation_id": <execution name>,
"execution_arn": <execution ARN>}``. Output: a
:class:`maas.registry.packaging_steps.PackagingPlan` whose job packages the parent's package
quantized. A bad request raises ``Maas.ValidationError`` naming the field; a parent that is
not the tenant's (or not there) ``Maas.NotFound``; one that is not REGISTERED
``Maas.Conflict``. Idempotent on the execution and the request
(:mod:`functions.common.idempotency`): a retried invocation gets the version the first one
opened.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Tracer

from functions.common import VersionPlanInput
from functions.common.idempotency import idempotent_on
from maas.quantization.steps import plan_quantization
from maas.registry import ModelRegistry
from maas.tenancy import from_environment
from maas.validation import parse
from schemas.quantization import QuantizationRequest

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

ARTIFACTS_BUCKET = os.environ["ARTIFACTS_BUCKET_NAME"]
MODELS_TABLE = os.environ["MODELS_TABLE_NAME"]
tenants = from_environment("plan-quantization")

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context(correlation_id_path="correlation_id")
@tracer.capture_lambda_handler
@idempotent_on("[correlation_id, request]")
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Validate the request, check the parent and open the quantized version."""
    step = parse(VersionPlanInput, event)
    request = parse(QuantizationRequest, step.request)
    plan = plan_quantization(
        request,
        ModelRegistry(MODELS_TABLE, tenants.for_tenant(request.tenant_id).client("dynamodb")),
        correlation_id=step.correlation_id,
        execution_arn=step.execution_arn,
        artifacts_bucket=ARTIFACTS_BUCKET,
    )
    logger.info(
        "quantized version opened", extra={"model": plan.model_name, "version": plan.version}
    )
    return plan.model_dump(mode="json")
