"""``package_model`` step *Open a version*: check the request, allocate the version number.

Input: ``{"request": <PackagingRequest>, "correlation_id": <execution name>,
"execution_arn": <execution ARN>}``. Output: a
:class:`maas.registry.packaging_steps.PackagingPlan`. A bad request raises
``Maas.ValidationError`` naming the field, before any version is opened. Idempotent on the
execution and the request (:mod:`functions.common.idempotency`): a retried invocation gets
the version the first one opened, never a second one.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Tracer

from functions.common import StepInput
from functions.common.idempotency import idempotent_on
from maas.aws import client
from maas.registry import ModelRegistry
from maas.registry.packaging_steps import plan_packaging
from maas.validation import parse
from schemas import CorrelationId, PackagingRequest

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

ARTIFACTS_BUCKET = os.environ["ARTIFACTS_BUCKET_NAME"]
registry = ModelRegistry(os.environ["MODELS_TABLE_NAME"], client("dynamodb"))

logger = Logger()
tracer = Tracer()


class PlanPackagingInput(StepInput):
    """The task's input."""

    request: dict[str, Any]
    correlation_id: CorrelationId
    execution_arn: str


@logger.inject_lambda_context(correlation_id_path="correlation_id")
@tracer.capture_lambda_handler
@idempotent_on("[correlation_id, request]")
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Validate the request, open the version and return the packaging plan."""
    step = parse(PlanPackagingInput, event)
    request = parse(PackagingRequest, step.request)
    plan = plan_packaging(
        request,
        registry,
        correlation_id=step.correlation_id,
        execution_arn=step.execution_arn,
        artifacts_bucket=ARTIFACTS_BUCKET,
    )
    logger.info("version opened", extra={"model": plan.model_name, "version": plan.version})
    return plan.model_dump(mode="json")
