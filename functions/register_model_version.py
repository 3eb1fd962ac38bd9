"""``package_model`` step *Register the version*: model package, then the REGISTERED record.

Input: ``{"plan": <PackagingPlan>}``. Output: the version's record. A package whose
manifest is missing or disagrees with S3 raises ``Maas.IntegrityError``. Idempotent on the
plan (:mod:`functions.common.idempotency`): a retried invocation gets the record the first
one registered, not a second model package and a Conflict on the immutable record.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Tracer

from functions.common import StepInput
from functions.common.idempotency import idempotent_on
from maas.registry import ModelPackages, ModelRegistry
from maas.registry.packaging_steps import PackagingPlan, register_version
from maas.tenancy import from_environment
from maas.validation import parse

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

MODELS_TABLE = os.environ["MODELS_TABLE_NAME"]
tenants = from_environment("register-model-version")

logger = Logger()
tracer = Tracer()


class RegisterModelVersionInput(StepInput):
    """The task's input."""

    plan: PackagingPlan


@logger.inject_lambda_context(correlation_id_path="plan.job.correlation_id")
@tracer.capture_lambda_handler
@idempotent_on("plan")
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Register the packaged version and return its record."""
    step = parse(RegisterModelVersionInput, event)
    acting = tenants.for_tenant(step.plan.tenant_id)
    record = register_version(
        step.plan,
        ModelRegistry(MODELS_TABLE, acting.client("dynamodb")),
        ModelPackages(acting.client("sagemaker")),
        acting.client("s3"),
    )
    logger.info(
        "version registered",
        extra={"model": record.model_name, "version": record.version},
    )
    return record.model_dump(mode="json")
