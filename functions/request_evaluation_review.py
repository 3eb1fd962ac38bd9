"""``evaluate`` step *Wait for a person's grades*: keep the callback token on the record.

Invoked with ``.waitForTaskToken``. Input: ``{"task_token": ..., "tenant_id": ...,
"evaluation_id": ..., "question_ids": [...]}``. The record becomes ``AwaitingReview`` with
the questions to grade; the workflow waits until ``POST /v1/evaluations/{id}/review``
(``maas evaluations review``) sends the grades with ``SendTaskSuccess``, or until the
state's timeout.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Tracer
from pydantic import Field

from functions.common import StepInput
from maas.evaluation.store import EvaluationStore
from maas.tenancy import from_environment
from maas.validation import parse
from schemas.evaluation import EvaluationStatus, ReviewState

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

MODELS_TABLE = os.environ["MODELS_TABLE_NAME"]
tenants = from_environment("request-evaluation-review")

logger = Logger()
tracer = Tracer()


class RequestReviewInput(StepInput):
    """The task's input."""

    task_token: str = Field(min_length=1)
    tenant_id: str
    evaluation_id: str
    question_ids: list[str] = Field(min_length=1)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Record what a person is to grade, and the token that resumes the workflow."""
    step = parse(RequestReviewInput, event)
    store = EvaluationStore(MODELS_TABLE, tenants.for_tenant(step.tenant_id).client("dynamodb"))
    record = store.get(step.tenant_id, step.evaluation_id)
    store.save(
        record.model_copy(
            update={
                "status": EvaluationStatus.AWAITING_REVIEW,
                "review": ReviewState(question_ids=step.question_ids, task_token=step.task_token),
            }
        ),
        expected={EvaluationStatus.RUNNING, EvaluationStatus.AWAITING_REVIEW},
    )
    logger.info("review requested", extra={"evaluation": step.evaluation_id})
    return {"question_ids": step.question_ids}
