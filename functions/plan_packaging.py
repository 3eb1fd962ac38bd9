"""``package_model`` step *Open a version*: check the request, allocate the version number.

Input: ``{"request": <PackagingRequest>, "correlation_id": <execution name>,
"execution_arn": <execution ARN>}``. Output: a
:class:`maas.registry.packaging_steps.PackagingPlan`. A bad request raises
``Maas.ValidationError`` naming the field, before any version is opened; so does a source
in another tenant's files or a Hub token secret of another tenant
(:func:`maas.registry.packaging_steps.check_source`), whichever way the request came.
Idempotent on the execution and the request (:mod:`functions.common.idempotency`): a
retried invocation gets the version the first one opened, never a second one.

A :class:`schemas.packaging.RegistrationRetry` (the request has a ``version``; step
*Plan the registration again*) opens nothing: its plan is the REGISTRATION_FAILED version's
own, for the workflow to register again; another tenant's version is ``Maas.NotFound``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Tracer

from functions.common import VersionPlanInput
from functions.common.idempotency import idempotent_on
from maas.registry import ModelRegistry
from maas.registry.packaging_steps import plan_packaging, plan_registration_retry
from maas.tenancy import from_environment
from maas.validation import parse
from schemas import PackagingRequest
from schemas.packaging import RegistrationRetry

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

ARTIFACTS_BUCKET = os.environ["ARTIFACTS_BUCKET_NAME"]
MODELS_TABLE = os.environ["MODELS_TABLE_NAME"]
tenants = from_environment("plan-packaging")

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context(correlation_id_path="correlation_id")
@tracer.capture_lambda_handler
@idempotent_on("[correlation_id, request]")
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Validate the request, open the version (or find the one to register again) and
    return the packaging plan."""
    step = parse(VersionPlanInput, event)
    if "version" in step.request:
        retry = parse(RegistrationRetry, step.request)
        registry = ModelRegistry(
            MODELS_TABLE, tenants.for_tenant(retry.tenant_id).client("dynamodb")
        )
        plan = plan_registration_retry(retry, registry)
        logger.info("registering again", extra={"model": plan.model_name, "version": plan.version})
        return plan.model_dump(mode="json")
    request = parse(PackagingRequest, step.request)
    plan = plan_packaging(
        request,
        ModelRegistry(MODELS_TABLE, tenants.for_tenant(request.tenant_id).client("dynamodb")),
        correlation_id=step.correlation_id,
        execution_arn=step.execution_arn,
        artifacts_bucket=ARTIFACTS_BUCKET,
    )
    logger.info("version opened", extra={"model": plan.model_name, "version": plan.version})
    return plan.model_dump(mode="json")
