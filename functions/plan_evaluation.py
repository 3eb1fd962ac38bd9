"""``evaluate`` step *Plan the evaluation*: check it can run, shard the questions, record it.

Input: ``{"request": <EvaluationRequest>, "correlation_id": <execution name>}``. Output: a
:class:`maas.evaluation.plan.EvaluationPlan`. Everything refusable is refused here, before
any work: ``Maas.ValidationError`` (a bad request or question set, named by field or line),
``Maas.NotFound`` (no such endpoint or question set), ``Maas.Conflict`` (the endpoint is not
in service).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Tracer

from functions.common import StepInput
from maas.datasets import DatasetStore
from maas.endpoints import EndpointRegistry
from maas.evaluation.metric_names import EVALUATION_METRICS
from maas.evaluation.plan import plan_evaluation
from maas.evaluation.store import EvaluationStore
from maas.pipeline.store import PipelineStore
from maas.tenancy import from_environment
from maas.validation import parse
from schemas import CorrelationId
from schemas.evaluation import EvaluationRequest

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

ARTIFACTS_BUCKET = os.environ["ARTIFACTS_BUCKET_NAME"]
ENDPOINTS_TABLE = os.environ["ENDPOINTS_TABLE_NAME"]
MODELS_TABLE = os.environ["MODELS_TABLE_NAME"]
tenants = from_environment("plan-evaluation")

logger = Logger()
tracer = Tracer()


class PlanEvaluationInput(StepInput):
    """The task's input."""

    request: dict[str, Any]
    correlation_id: CorrelationId


@logger.inject_lambda_context(correlation_id_path="correlation_id")
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Validate the request, write the shards and record the evaluation as running."""
    step = parse(PlanEvaluationInput, event)
    request = parse(EvaluationRequest, step.request)
    acting = tenants.for_tenant(request.tenant_id)
    dynamodb = acting.client("dynamodb")
    s3 = acting.client("s3")
    plan = plan_evaluation(
        request,
        endpoints=EndpointRegistry(ENDPOINTS_TABLE, dynamodb),
        pipelines=PipelineStore(MODELS_TABLE, dynamodb),
        store=EvaluationStore(MODELS_TABLE, dynamodb),
        s3=s3,
        bucket=ARTIFACTS_BUCKET,
        correlation_id=step.correlation_id,
        known_metrics=EVALUATION_METRICS,
        # A dataset version named as the question set (maas.datasets.questions).
        datasets=DatasetStore(MODELS_TABLE, dynamodb, s3, ARTIFACTS_BUCKET),
    )
    logger.info(
        "evaluation planned",
        extra={"evaluation": plan.evaluation_id, "shards": len(plan.shards)},
    )
    return plan.model_dump(mode="json")
