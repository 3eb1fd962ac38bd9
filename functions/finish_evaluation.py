"""``evaluate`` step *Write the report*: the report, the verdict, the version's approval.

Input: ``{"plan": <EvaluationPlan>, "verdict": <GateVerdict>, "review": {...},
"correlation_id": <execution name>}``. Output: ``{"detail_type", "detail"}``, the
``EvaluationCompleted`` or ``EvaluationGateFailed`` event the next state publishes (see
:func:`maas.evaluation.finish.finish_evaluation`).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Tracer

from functions.common import StepInput
from maas.evaluation.finish import finish_evaluation
from maas.evaluation.plan import EvaluationPlan
from maas.evaluation.store import EvaluationStore
from maas.registry import ModelRegistry
from maas.tenancy import from_environment
from maas.validation import parse
from schemas import CorrelationId
from schemas.evaluation import GateVerdict

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

ARTIFACTS_BUCKET = os.environ["ARTIFACTS_BUCKET_NAME"]
MODELS_TABLE = os.environ["MODELS_TABLE_NAME"]
tenants = from_environment("finish-evaluation")

logger = Logger()
tracer = Tracer()


class FinishEvaluationInput(StepInput):
    """The task's input."""

    plan: EvaluationPlan
    verdict: GateVerdict
    review: dict[str, Any]
    correlation_id: CorrelationId


@logger.inject_lambda_context(correlation_id_path="correlation_id")
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Write the report and return the event that announces the verdict."""
    step = parse(FinishEvaluationInput, event)
    acting = tenants.for_tenant(step.plan.tenant_id)
    detail = finish_evaluation(
        step.plan,
        step.verdict,
        store=EvaluationStore(MODELS_TABLE, acting.client("dynamodb")),
        registry=ModelRegistry(MODELS_TABLE, acting.client("dynamodb")),
        s3=acting.client("s3"),
        sagemaker=acting.client("sagemaker"),
        bucket=ARTIFACTS_BUCKET,
        region=os.environ.get("AWS_REGION") or os.environ["AWS_DEFAULT_REGION"],
    )
    logger.info("evaluation finished", extra={"evaluation": detail.evaluation_id})
    return {"detail_type": type(detail).__name__, "detail": detail.model_dump(mode="json")}
