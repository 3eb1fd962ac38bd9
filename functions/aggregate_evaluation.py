"""``evaluate`` step *Score the evaluation*: gather the shards' results and judge the gate.

Input: ``{"plan": <EvaluationPlan>, "correlation_id": <execution name>}``. Output:
``{"passed": bool, "verdict": <GateVerdict>, "review_question_ids": [...]}``, the ids a
person is asked to grade when the request wants a review (empty otherwise). The record gets
the metrics and the verdict; a shard that wrote no results raises ``Maas.IntegrityError``.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Tracer

from functions.common import StepInput
from maas.evaluation.outcome import gather, review_sample
from maas.evaluation.plan import EvaluationPlan, read_job
from maas.evaluation.store import EvaluationStore
from maas.tenancy import from_environment
from maas.validation import parse
from schemas import CorrelationId
from schemas.evaluation import EvaluationStatus

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

MODELS_TABLE = os.environ["MODELS_TABLE_NAME"]
tenants = from_environment("aggregate-evaluation")

logger = Logger()
tracer = Tracer()


class AggregateEvaluationInput(StepInput):
    """The task's input."""

    plan: EvaluationPlan
    correlation_id: CorrelationId


@logger.inject_lambda_context(correlation_id_path="correlation_id")
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Summarize every metric, judge the gate and choose the answers to review."""
    step = parse(AggregateEvaluationInput, event)
    plan = step.plan
    acting = tenants.for_tenant(plan.tenant_id)
    store = EvaluationStore(MODELS_TABLE, acting.client("dynamodb"))
    record = store.get(plan.tenant_id, plan.evaluation_id)
    s3 = acting.client("s3")
    outcome = gather(read_job(s3, plan.job_uri), record.spec, s3)
    review = plan.human_review
    question_ids = (
        review_sample(outcome.samples, review.sample_size, seed=plan.evaluation_id)
        if review is not None
        else []
    )
    store.save(
        record.model_copy(
            update={
                "metrics": outcome.metrics,
                "verdict": outcome.verdict,
                "judge": outcome.judge,
                "judge_calls": outcome.usage.calls,
                "judge_parse_failures": outcome.usage.parse_failures,
            }
        ),
        expected={EvaluationStatus.RUNNING},
    )
    logger.info(
        "evaluation scored",
        extra={"evaluation": plan.evaluation_id, "passed": outcome.verdict.passed},
    )
    return {
        "passed": outcome.verdict.passed,
        "verdict": outcome.verdict.model_dump(mode="json"),
        "review_question_ids": question_ids,
    }
