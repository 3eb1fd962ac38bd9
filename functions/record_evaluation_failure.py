"""``evaluate`` step *Record the failure*: mark the evaluation failed, return the event.

Input: ``{"tenant_id", "evaluation_id", "endpoint_name", "error": {"Error", "Cause"},
"correlation_id"}``. Output: the ``EvaluationFailed`` detail the next state publishes. An
evaluation that failed before its record was written (a refused request) has none to mark.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Tracer

from functions.common import StepInput
from maas.evaluation.store import EvaluationStore
from maas.exceptions import NotFound
from maas.tenancy import from_environment
from maas.validation import parse
from schemas import CorrelationId
from schemas.common import failure_message
from schemas.evaluation import EvaluationStatus
from schemas.events import EvaluationFailed

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

MODELS_TABLE = os.environ["MODELS_TABLE_NAME"]
tenants = from_environment("record-evaluation-failure")

logger = Logger()
tracer = Tracer()


class RecordFailureInput(StepInput):
    """The task's input."""

    tenant_id: str
    evaluation_id: str
    endpoint_name: str
    error: dict[str, Any]
    correlation_id: CorrelationId


@logger.inject_lambda_context(correlation_id_path="correlation_id")
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Mark the evaluation failed with the error's name and cause."""
    step = parse(RecordFailureInput, event)
    error = str(step.error.get("Error", "States.TaskFailed"))
    # The failure's message, not a Lambda error's document: the record is what the API
    # shows, and the stack trace stays in the function's log.
    cause = failure_message(str(step.error.get("Cause", "")))[:4000] or error
    store = EvaluationStore(MODELS_TABLE, tenants.for_tenant(step.tenant_id).client("dynamodb"))
    try:
        record = store.get(step.tenant_id, step.evaluation_id)
    except NotFound:
        logger.info("failed before it was recorded", extra={"evaluation": step.evaluation_id})
    else:
        if record.correlation_id == step.correlation_id:
            store.save(
                record.model_copy(
                    update={"status": EvaluationStatus.FAILED, "failure": f"{error}: {cause}"}
                ),
                expected={EvaluationStatus.RUNNING, EvaluationStatus.AWAITING_REVIEW},
            )
    detail = EvaluationFailed(
        tenant_id=step.tenant_id,
        correlation_id=step.correlation_id,
        evaluation_id=step.evaluation_id,
        endpoint_name=step.endpoint_name,
        error=error,
        cause=cause,
    )
    return detail.model_dump(mode="json")
