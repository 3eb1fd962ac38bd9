"""``package_model`` steps *Mark the version failed* and *Mark the registration failed*.

Input: ``{"plan": <PackagingPlan>, "correlation_id": ..., "failure": {"Error", "Cause"},
"package_complete": false}``. When packaging failed, clear the version's S3 prefix and
record FAILED. When the package is complete and only its registration failed
(``package_complete``), keep the package and record REGISTRATION_FAILED, so that the
registration alone can be retried. Output: ``{"error", "cause", "deleted_objects"}``: the
failure as the job itself reported it when it did (the workflow only sees a non-zero exit),
for the failure event.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Tracer

from functions.common import StepInput
from functions.common.idempotency import idempotent_on
from maas.registry import ModelRegistry
from maas.registry.packaging_steps import (
    PackagingPlan,
    StepFailure,
    fail_registration,
    fail_version,
)
from maas.tenancy import from_environment
from maas.validation import parse
from schemas import CorrelationId

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

MODELS_TABLE = os.environ["MODELS_TABLE_NAME"]
tenants = from_environment("fail-model-version")

logger = Logger()
tracer = Tracer()


class FailModelVersionInput(StepInput):
    """The task's input."""

    plan: PackagingPlan
    correlation_id: CorrelationId
    failure: StepFailure
    package_complete: bool = False


@logger.inject_lambda_context(correlation_id_path="correlation_id")
@tracer.capture_lambda_handler
@idempotent_on("[correlation_id, plan]")
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Mark the version FAILED (and clean up) or REGISTRATION_FAILED; return the failure."""
    step = parse(FailModelVersionInput, event)
    acting = tenants.for_tenant(step.plan.tenant_id)
    registry = ModelRegistry(MODELS_TABLE, acting.client("dynamodb"))
    if step.package_complete:
        record, deleted = fail_registration(step.plan, step.failure, registry), 0
    else:
        record, deleted = fail_version(
            step.plan,
            step.failure,
            registry,
            acting.client("s3"),
            correlation_id=step.correlation_id,
        )
    logger.info(
        "version failed",
        extra={"model": record.model_name, "version": record.version, "error": record.error},
    )
    return {"error": record.error, "cause": record.cause, "deleted_objects": deleted}
