"""``/v1/evaluations``: evaluate an endpoint, follow it, grade its answers, read its report.

Starting one answers ``202 Accepted``; the endpoint is checked first (it must be the
tenant's and in service), as the workflow checks it again. An evaluation that asked for a
human review waits in ``AwaitingReview`` until ``POST .../review`` sends the grades.
"""

from __future__ import annotations

import os
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayRouter

from functions.api.context import complete, paginate, services, start_once, tenant_of
from functions.api.params import ACCEPTED, IdempotencyKey, Limit, NextToken
from functions.api.routes.datasets import dataset_store
from maas.datasets import question_set_version
from maas.evaluation.plan import address_endpoints
from maas.evaluation.report import ReportSummary, read_summary
from maas.evaluation.review import review_items, submit_review
from maas.exceptions import Conflict
from maas.workflows import execution_name
from schemas.api import DEFAULT_PAGE_SIZE, ExecutionAccepted, Page, Workflow
from schemas.endpoint import EndpointStatus
from schemas.evaluation import (
    EvaluationId,
    EvaluationRecord,
    EvaluationRequest,
    EvaluationSpec,
    ReviewItem,
    ReviewSubmission,
)
from schemas.pipeline import DEFAULT_PIPELINE

router = APIGatewayRouter()

Id = Annotated[EvaluationId, Path(description="The evaluation's id.")]


def _shown(record: EvaluationRecord) -> EvaluationRecord:
    """The record as callers see it: the workflow's callback token stays inside."""
    if record.review is None or record.review.task_token is None:
        return record
    return record.model_copy(
        update={"review": record.review.model_copy(update={"task_token": None})}
    )


@router.post(
    "/evaluations", summary="Evaluate an endpoint", tags=["Evaluations"], responses=ACCEPTED
)
def create_evaluation(
    body: EvaluationSpec, idempotency_key: IdempotencyKey = None
) -> Response[ExecutionAccepted]:
    """Start ``evaluate``: the question set through the endpoint's pipeline, scored and gated."""
    tenant = tenant_of(router)
    name = execution_name(tenant, Workflow.EVALUATE, idempotency_key)
    request = complete(EvaluationRequest, body, tenant_id=tenant, evaluation_id=name)

    def checks() -> None:
        endpoint = services(tenant).endpoints.get(tenant, body.endpoint_name)
        if endpoint.status is not EndpointStatus.IN_SERVICE:
            raise Conflict(
                f"endpoint: {body.endpoint_name!r} is {endpoint.status.value}, not InService"
            )
        if body.dataset is not None:
            # A dataset version named as the question set: the tenant's, and questions.
            question_set_version(dataset_store(tenant), tenant, body.dataset)
        # The endpoints the request names for embedding and judging must be the tenant's too.
        address_endpoints(
            body.pipeline or DEFAULT_PIPELINE,
            body.judge,
            endpoints=services(tenant).endpoints,
            tenant_id=tenant,
        )

    return start_once(tenant, Workflow.EVALUATE, request, idempotency_key, checks=checks, name=name)


@router.get("/evaluations", summary="List the tenant's evaluations", tags=["Evaluations"])
def list_evaluations(
    limit: Limit = DEFAULT_PAGE_SIZE, next_token: NextToken = None
) -> Page[EvaluationRecord]:
    """Every evaluation the tenant ran, by id."""
    tenant = tenant_of(router)
    records = [_shown(record) for record in services(tenant).evaluations.list(tenant)]
    return paginate(records, lambda record: record.evaluation_id, limit, next_token)


@router.get("/evaluations/<evaluation_id>", summary="Describe an evaluation", tags=["Evaluations"])
def describe_evaluation(evaluation_id: Id) -> EvaluationRecord:
    """Status, metrics, the gate's verdict, the judge's parse failures, the report's location."""
    tenant = tenant_of(router)
    return _shown(services(tenant).evaluations.get(tenant, evaluation_id))


@router.get(
    "/evaluations/<evaluation_id>/review",
    summary="The answers to grade",
    tags=["Evaluations"],
)
def list_review_items(evaluation_id: Id) -> list[ReviewItem]:
    """The answers an evaluation waits for a person to grade (409 unless it waits)."""
    tenant = tenant_of(router)
    found = services(tenant)
    record = found.evaluations.get(tenant, evaluation_id)
    return review_items(record, s3=found.s3, bucket=os.environ["ARTIFACTS_BUCKET_NAME"])


@router.post(
    "/evaluations/<evaluation_id>/review",
    summary="Grade the answers",
    tags=["Evaluations"],
)
def grade_evaluation(evaluation_id: Id, body: ReviewSubmission) -> EvaluationRecord:
    """Thumbs up or down per answer; the evaluation resumes and writes its report."""
    tenant = tenant_of(router)
    found = services(tenant)
    record = found.evaluations.get(tenant, evaluation_id)
    saved = submit_review(record, body, store=found.evaluations, stepfunctions=found.stepfunctions)
    return _shown(saved)


@router.get(
    "/evaluations/<evaluation_id>/summary",
    summary="The evaluation's JSON summary",
    tags=["Evaluations"],
)
def evaluation_summary(evaluation_id: Id) -> ReportSummary:
    """Every question's answer, scores or failures and trace, the gate and the review's grades
    (409 until the evaluation has written its report)."""
    tenant = tenant_of(router)
    found = services(tenant)
    record = found.evaluations.get(tenant, evaluation_id)
    if record.summary_uri is None:
        raise Conflict(
            f"evaluation: {evaluation_id!r} is {record.status.value} and has no report yet"
        )
    return read_summary(record.summary_uri, s3_client=found.s3)
