"""``deploy_endpoint`` step *Validate and plan deployment*: check the request, derive names.

Input: ``{"request": <DeploymentRequest>, "correlation_id": <execution name>}``.
Output: a :class:`maas.endpoints.plan.DeploymentPlan`. A bad request raises
``Maas.ValidationError`` naming the field, before anything is created.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Tracer

from functions.common import StepInput, int_setting
from maas.endpoints import plan_deployment
from maas.validation import parse
from schemas import CorrelationId, DeploymentRequest

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

ARTIFACTS_BUCKET = os.environ["ARTIFACTS_BUCKET_NAME"]
POLL_SECONDS = int_setting("ENDPOINT_POLL_SECONDS")
MAX_STATUS_CHECKS = int_setting("ENDPOINT_MAX_STATUS_CHECKS")

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
    plan = plan_deployment(
        request,
        correlation_id=step.correlation_id,
        artifacts_bucket=ARTIFACTS_BUCKET,
        poll_interval_seconds=POLL_SECONDS,
        max_status_checks=MAX_STATUS_CHECKS,
    )
    logger.info(
        "deployment planned", extra={"endpoint": plan.endpoint_name, "model": plan.model_name}
    )
    return plan.model_dump(mode="json")
