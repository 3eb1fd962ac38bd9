"""``deploy_endpoint`` step *Clean up*: delete what the failed deployment created.

Input: ``{"plan": <DeploymentPlan>}``. Output: a report of what was deleted, what was
already gone and what was left alone because another deployment owns it.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Tracer

from functions.common import StepInput
from maas.aws import client
from maas.endpoints import DeploymentCleaner, DeploymentPlan
from maas.tenancy import from_environment
from maas.validation import parse

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

tenants = from_environment("cleanup-deployment")

logger = Logger()
tracer = Tracer()


class CleanupInput(StepInput):
    """The task's input."""

    plan: DeploymentPlan


@logger.inject_lambda_context(correlation_id_path="plan.correlation_id")
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Delete the deployment's resources and report."""
    step = parse(CleanupInput, event)
    acting = tenants.for_tenant(step.plan.tenant_id)
    # What carries the tenant's tag is deleted as the tenant; the scalable target and the
    # schedules cannot be tagged, and stay with the function's own role (held to the
    # product's names).
    cleaner = DeploymentCleaner(
        sagemaker=acting.client("sagemaker"),
        autoscaling=client("application-autoscaling"),
        scheduler=client("scheduler"),
        cloudwatch=acting.client("cloudwatch"),
    )
    report = cleaner.clean(step.plan)
    logger.info("deployment cleaned up", extra=asdict(report))
    return asdict(report)
